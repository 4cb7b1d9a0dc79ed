"""`genlab play RUN --gif out.gif`: greedy episodes of a trained RL run, rendered to an animated GIF."""

from __future__ import annotations

from genlab.errors import GenlabError
from genlab.utils.cliargs import positive_int


def cmd_play(a):
    from genlab.rl.base import RLRecipe
    from genlab.train.engine import load_run
    from genlab.utils.images import save_gif

    if not a.gif.lower().endswith(".gif"):
        raise GenlabError(f"--gif must name a .gif file, got {a.gif}")
    recipe, store, meta = load_run(a.run, which=a.checkpoint)
    if not isinstance(recipe, RLRecipe):
        raise GenlabError(
            f"{store.path} is a '{recipe.name}' run; genlab play needs a reinforcement-learning run (qlearning, dqn, reinforce, a2c)"
        )
    frames, returns = recipe.play_frames(episodes=a.episodes, seed=a.seed, max_frames=a.max_frames)
    save_gif(a.gif, frames, duration_ms=a.frame_ms, scale=1)  # identical consecutive frames merge (durations add up)
    h, w = frames[0].shape[:2]
    print(
        f"wrote {len(frames)} frames ({w}x{h}) of {len(returns)} episode(s) of {recipe.cfg.env} to {a.gif}; "
        f"returns: {', '.join(f'{r:g}' for r in returns)}"
    )


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "play",
        help="render a trained RL agent to an animated GIF",
        description="Run the greedy policy of an RL run and write the rendered episodes as an animated GIF.",
    )
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--gif", required=True, help="output .gif file")
    p.add_argument("--episodes", type=positive_int, default=1)
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    p.add_argument(
        "--max-frames", dest="max_frames", type=positive_int, default=500, help="stop after this many frames"
    )
    p.add_argument("--frame-ms", dest="frame_ms", type=positive_int, default=40, help="milliseconds per frame")
    p.add_argument("--checkpoint", choices=["latest", "best"], default="latest")
    p.set_defaults(func=cmd_play)
