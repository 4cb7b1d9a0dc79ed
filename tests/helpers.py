"""What several test modules share; they import it as ``from helpers import ...`` (pytest puts
tests/ on sys.path, as for conftest.py)."""

from __future__ import annotations

import contextlib

from genlab.train.engine import Batches
from genlab.utils.runtime import seed_everything

#: prompts that name no digit, in English and Russian: a text-to-image model refuses to draw them
NO_DIGIT_PROMPTS = [
    "a cat",
    "банан",
    "a red sports car",
    "красивый закат над океаном",
    "the sound of rain",
    "кошка на диване",
]


def train_steps(recipe, steps: int, seed: int, in_step=contextlib.nullcontext) -> dict | None:
    """``steps`` training steps of ``recipe`` in this process, on the batches the engine would draw
    with ``seed`` (none for a recipe without a dataset), after seeding every generator with ``seed``;
    each step runs inside ``in_step()``. Returns the last step's logs."""
    data = recipe.load_data() if recipe.uses_dataset else None
    batches = Batches(len(data.x_train), recipe.cfg.batch_size, seed, recipe.dist) if data is not None else None
    seed_everything(seed)
    recipe.train_mode(True)
    logs = None
    for step in range(steps):
        batch = None
        if batches is not None:
            idx = batches.indices(step)
            batch = (data.x_train[idx], data.y_train[idx])
        with in_step():
            logs = recipe.train_step(batch, step)
    recipe.train_mode(False)
    return logs
