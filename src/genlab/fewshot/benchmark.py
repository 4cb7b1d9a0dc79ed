"""Lake et al.'s one-shot classification benchmark: 20 runs of 20-way within-alphabet 1-shot.

Layout of the official runs (and of the fixture :func:`write_omniglot_runs` builds)::

    DIR/run01/training/class01.png ... class20.png   one image of each of 20 characters
    DIR/run01/test/item01.png ... item20.png         a second drawer's image of each
    DIR/run01/class_labels.txt                       "run01/test/item01.png run01/training/class12.png"
    ...
    DIR/run20/...

Images are 105x105 1-bit PNGs, ink black on white (loaded, like the training data, as ink
bright on dark at the model's image size). The error of a run is the percent of its test
items assigned to the wrong training class.
"""

from __future__ import annotations

import re
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from genlab.errors import GenlabError
from genlab.fewshot.episodes import HOLDOUT_ALPHABETS

RUN_NAME = re.compile(r"run\d+$")


def read_run(root: Path, run: str) -> tuple[list[Path], list[tuple[Path, int]]]:
    """The training images of a run (sorted) and its (test image, index of correct class) pairs."""
    labels = root / run / "class_labels.txt"
    try:
        lines = [ln for ln in labels.read_text().splitlines() if ln.strip()]
    except FileNotFoundError:
        raise GenlabError(f"{labels} is missing; every runNN folder needs class_labels.txt") from None
    except (OSError, UnicodeDecodeError) as e:
        raise GenlabError(f"cannot read {labels} ({type(e).__name__})") from None
    training = sorted((root / run / "training").glob("*.png"))
    if len(training) < 2:
        raise GenlabError(f"{root / run / 'training'} needs at least 2 class images (class01.png ...)")
    index = {p.resolve(): i for i, p in enumerate(training)}
    pairs = []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if len(parts) != 2:
            raise GenlabError(
                f"{labels} line {n}: expected 'runNN/test/itemXX.png runNN/training/classYY.png', got {line.strip()[:80]!r}"
            )
        test, cls = (root / parts[0]).resolve(), (root / parts[1]).resolve()
        if cls not in index:
            raise GenlabError(f"{labels} line {n}: {parts[1]} is not one of the run's training images")
        if not test.is_file() or root.resolve() not in test.parents:
            raise GenlabError(f"{labels} line {n}: test image {parts[0]} not found inside {root}")
        pairs.append((test, index[cls]))
    if not pairs:
        raise GenlabError(f"{labels} lists no test items")
    return training, pairs


def list_runs(folder) -> tuple[Path, list[str]]:
    """The folder and its run names (run01 ...), sorted; a one-line error when there are none."""
    root = Path(folder)
    if not root.is_dir():
        raise GenlabError(f"--omniglot-runs folder not found: {folder}")
    runs = sorted(p.name for p in root.iterdir() if p.is_dir() and RUN_NAME.match(p.name))
    if not runs:
        raise GenlabError(f"{folder} holds no run01 ... run20 folders (Lake et al.'s one-shot classification layout)")
    return root, runs


def score_runs(folder, predict) -> dict:
    """Error (percent) on every run in ``folder``, mean and per run; ``predict(training_paths,
    test_paths)`` returns the index of the predicted training image for each test image."""
    root, runs = list_runs(folder)
    per_run = {}
    for run in runs:
        training, pairs = read_run(root, run)
        predicted = np.asarray(predict(training, [t for t, _ in pairs]))
        per_run[run] = 100.0 * int((predicted != np.array([c for _, c in pairs])).sum()) / len(pairs)
    return {"mean_error": float(np.mean(list(per_run.values()))), "per_run": per_run, "runs": len(runs)}


def evaluate_omniglot_runs(recipe, folder) -> dict:
    """Error (percent) of a few-shot recipe on every run in ``folder``: mean and per run."""
    from genlab.data.images import load_image

    size, channels = recipe.cfg.image_size, recipe.cfg.channels

    def load(paths):
        return torch.from_numpy(np.stack([load_image(p, channels=channels, size=size) for p in paths]))

    def predict(training, tests):
        return recipe.predict(load(training), torch.arange(len(training)), load(tests), len(training)).argmax(1).numpy()

    return score_runs(folder, predict)


def ink_points(path) -> torch.Tensor:
    """(row, col) coordinates of the ink pixels (dark on light) of a run image, as floats, centred
    on their mean (as Lake et al.'s baseline loads them: the distance ignores where on the page
    the character was drawn)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            ink = np.asarray(im.convert("L")) < 128
    except (OSError, UnidentifiedImageError):
        raise GenlabError(f"{path} is not a readable image") from None
    if not ink.any():
        raise GenlabError(f"{path} holds no ink (a blank image); the runs need drawn characters")
    points = torch.from_numpy(np.argwhere(ink).astype(np.float32))
    return points - points.mean(0)


def modified_hausdorff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Dubuisson and Jain's modified Hausdorff distance between two point sets:
    max(mean over a of the distance to the nearest b, mean over b of the distance to the nearest a)."""
    d = torch.cdist(a, b)
    return float(torch.maximum(d.min(1).values.mean(), d.min(0).values.mean()))


def mhd_runs_error(folder) -> dict:
    """Lake et al.'s classic baseline on the one-shot runs: each test item goes to the training
    image at the smallest modified Hausdorff distance between their ink pixels (no learning).
    On the official 20 runs this gives 38.8% error; on another set of runs its error says how
    much harder or easier those runs are."""

    def predict(training, tests):
        classes = [ink_points(p) for p in training]
        return [int(np.argmin([modified_hausdorff(ink_points(t), c) for c in classes])) for t in tests]

    return score_runs(folder, predict)


def _held_out_pngs(alphabets) -> dict[str, list[bytes]]:
    """Original 105x105 1-bit PNG bytes of every character of ``alphabets``, drawers in order."""
    from genlab.data.omniglot import ZIPS

    per_char: dict[str, dict[str, bytes]] = {}
    root = resources.files("genlab.data") / "omniglot"
    for zname in ZIPS:
        with resources.as_file(root / zname) as zpath, zipfile.ZipFile(zpath) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if len(parts) == 4 and parts[1] in alphabets and parts[3].endswith(".png"):
                    per_char.setdefault(f"{parts[1]}/{parts[2]}", {})[parts[3]] = zf.read(info)
    return {c: [files[f] for f in sorted(files)] for c, files in sorted(per_char.items())}


def write_omniglot_runs(
    out, alphabets: tuple[str, ...] = HOLDOUT_ALPHABETS, n_runs: int = 20, ways: int = 20, seed: int = 0
) -> Path:
    """Build runs in the official format from held-out shipped alphabets (alternating per run):
    ``ways`` characters of one alphabet, training images by one drawer, test images by another."""
    from genlab.utils.io import ensure_writable_dir, write_bytes_atomic, write_text_atomic

    pngs = _held_out_pngs(set(alphabets))
    rng = np.random.default_rng(seed)
    out = ensure_writable_dir(out)
    for r in range(1, n_runs + 1):
        alphabet = alphabets[(r - 1) % len(alphabets)]
        chars = [c for c in pngs if c.startswith(alphabet + "/")]
        if len(chars) < ways:
            raise GenlabError(f"alphabet {alphabet} has {len(chars)} characters; a {ways}-way run needs {ways}")
        chars = [chars[i] for i in rng.choice(len(chars), ways, replace=False)]
        a, b = rng.choice(min(len(pngs[c]) for c in chars), 2, replace=False)
        order = rng.permutation(ways)
        run = f"run{r:02d}"
        for j, c in enumerate(chars):
            write_bytes_atomic(out / run / "training" / f"class{j + 1:02d}.png", pngs[c][a])
        lines = []
        for i, j in enumerate(order):
            write_bytes_atomic(out / run / "test" / f"item{i + 1:02d}.png", pngs[chars[j]][b])
            lines.append(f"{run}/test/item{i + 1:02d}.png {run}/training/class{j + 1:02d}.png")
        write_text_atomic(out / run / "class_labels.txt", "\n".join(lines) + "\n")
    return out
