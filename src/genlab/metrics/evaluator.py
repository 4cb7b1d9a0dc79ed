"""genlab's domain evaluator: the network behind every FID, KID, IS, precision/recall and coverage.

Pretrained Inception weights cannot be downloaded here, so genlab trains its own MNIST
classifier, as papers on MNIST-scale data do, and every sample-quality number is measured in
its feature space. Exactly what it is (``EVALUATOR_VERSION`` = "mnist-cnn-v1"):

- **Architecture**: Conv(1->16, 3x3, pad 1)-ReLU-MaxPool(2) -> Conv(16->32, 3x3, pad 1)-ReLU-
  MaxPool(2) -> Flatten(32*7*7) -> Linear(1568->128)-ReLU = the **128-d penultimate features**
  (used by FID/KID/precision/recall) -> Dropout(0.3) -> Linear(128->10) = class logits (used by
  IS, coverage, class entropy, label accuracy). 211k parameters.
- **Data**: the 4,000-image training split of the embedded MNIST (``genlab.data.embedded_mnist``,
  400 digits per class); the 1,000 held-out digits (100 per class) are never trained on and
  serve as the reference set of every metric and as the accuracy check.
- **Training**: seed 0, CPU, Adam with a one-cycle schedule (peak lr 3e-3), batch 64,
  12 epochs (744 steps), light augmentation (random rotation +-10 deg, scale +-10 %, shift
  +-2 px) so that slightly off-centre generated digits are still read correctly. About 25 s
  on one CPU thread. Held-out accuracy: about 98 % (stored with the weights, see ``.accuracy``).
- **Cache**: ``$GENLAB_CACHE/evaluator/mnist-cnn-v1.{safetensors,json}`` written atomically
  through the checkpoint module; the JSON sidecar holds the version, the SHA-256 of the weights
  and the held-out accuracy. A missing, corrupt or outdated file is retrained on first use.

FID values from genlab are therefore "evaluator-FID": comparable between genlab runs and with
any other model scored by ``genlab eval --samples``, not with Inception-FID numbers in papers.
Inputs: (N, 1, 28, 28) or (N, 28, 28), float in [0, 1] or uint8; other sizes are resized to
28x28 and RGB is averaged to grey (ink bright on dark, the MNIST convention).
"""

from __future__ import annotations

import fcntl
import functools
import math
import sys
import threading

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.errors import GenlabError

EVALUATOR_VERSION = "mnist-cnn-v1"
SEED = 0
EPOCHS = 12
BATCH = 64
PEAK_LR = 3e-3
FEATURE_DIM = 128
MIN_ACCURACY = 0.97  # a freshly trained evaluator below this is reported, not silently used


class EvaluatorNet(nn.Module):
    """Small MNIST CNN; ``features`` is the 128-d penultimate layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, FEATURE_DIM),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURE_DIM, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def as_images(x) -> torch.Tensor:
    """Any accepted image array -> float (N, 1, 28, 28) in [0, 1] on the CPU."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).detach().cpu()
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    x = x.float()
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise GenlabError(f"images have shape {tuple(x.shape)}; expected (N, 28, 28) or (N, C, H, W) with C = 1 or 3")
    if x.shape[1] == 3:
        x = x.mean(1, keepdim=True)
    if x.shape[-2:] != (28, 28) and len(x):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0, 1)


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random rotation (+-10 deg), scale (+-10 %) and shift (+-2 px), one affine warp per image."""
    n = len(x)
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(10)
    scale = 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * (2 / 14)  # 2 px in [-1, 1] coordinates
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / scale, -torch.sin(angle) / scale
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / scale, torch.cos(angle) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


@torch.enable_grad()  # callers may hold torch.no_grad() (evaluate, genlab eval)
def train_evaluator() -> tuple[EvaluatorNet, float]:
    """Train the evaluator from scratch (deterministic); returns (net, held-out accuracy)."""
    from genlab.data.datasets import embedded_mnist

    data = embedded_mnist()
    x, y = data.x_train, data.y_train
    steps_per_epoch = len(x) // BATCH
    with torch.random.fork_rng(devices=[]):  # leave the caller's global RNG untouched
        torch.manual_seed(SEED)
        net = EvaluatorNet()
    g = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(net.parameters(), lr=PEAK_LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, PEAK_LR, total_steps=EPOCHS * steps_per_epoch)
    net.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)  # dropout masks
        for _ in range(EPOCHS):
            perm = torch.randperm(len(x), generator=g)
            for i in range(steps_per_epoch):
                idx = perm[i * BATCH : (i + 1) * BATCH]
                loss = F.cross_entropy(net(augment(x[idx], g)), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(data.x_test).argmax(1) == data.y_test).float().mean())
    return net, acc


class Evaluator:
    """The trained evaluator; every method takes images in any accepted layout (see ``as_images``)."""

    def __init__(self, net: EvaluatorNet, accuracy: float, version: str = EVALUATOR_VERSION):
        self.net, self.accuracy, self.version = net.eval(), accuracy, version

    @torch.no_grad()
    def _run(self, x, features: bool, batch: int = 500) -> torch.Tensor:
        x = as_images(x)
        fn = self.net.features if features else self.net
        out = [fn(x[i : i + batch]) for i in range(0, len(x), batch)]
        return torch.cat(out) if out else torch.zeros(0, FEATURE_DIM if features else 10)

    def logits(self, x) -> torch.Tensor:
        return self._run(x, features=False)

    def probs(self, x) -> torch.Tensor:
        """Class probabilities (N, 10)."""
        return self.logits(x).softmax(1)

    def predict(self, x) -> torch.Tensor:
        """Predicted digit (N,) as a LongTensor."""
        return self.logits(x).argmax(1)

    def features(self, x) -> torch.Tensor:
        """128-d penultimate features (N, 128), the space of FID/KID/precision/recall."""
        return self._run(x, features=True)

    def info(self) -> dict:
        return {"evaluator": self.version, "evaluator_accuracy": self.accuracy}


def cache_stem():
    """Where the evaluator lives: $GENLAB_CACHE/evaluator/<version>.{safetensors,json}."""
    from genlab.data.datasets import cache_dir

    return cache_dir() / "evaluator" / EVALUATOR_VERSION


def _load_cached(stem) -> Evaluator | None:
    from genlab.train.checkpoint import load_checkpoint

    if not stem.with_suffix(".json").exists():
        return None
    try:
        state, meta = load_checkpoint(stem)  # verifies size and SHA-256
        if meta.get("version") != EVALUATOR_VERSION:
            return None
        net = EvaluatorNet()
        net.load_state_dict(state["net"])
        return Evaluator(net, float(meta["accuracy"]))
    except (GenlabError, KeyError, RuntimeError, TypeError, ValueError) as e:
        print(f"genlab: evaluator cache unusable ({str(e).splitlines()[0][:100]}); retraining it", file=sys.stderr)
        return None


_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _evaluator_for(stem_str: str) -> Evaluator:
    from pathlib import Path

    stem = Path(stem_str)
    ev = _load_cached(stem)
    if ev is not None:
        return ev
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(stem.parent / ".train.lock", "w") as lock:  # one process trains, the others wait and load
        fcntl.flock(lock, fcntl.LOCK_EX)
        ev = _load_cached(stem)
        if ev is not None:
            return ev
        return _train_and_cache(stem)


def _train_and_cache(stem) -> Evaluator:
    from genlab.train.checkpoint import save_checkpoint

    print(f"genlab: training the evaluator network once (about 30 s), cached in {stem.parent}", file=sys.stderr)
    net, acc = train_evaluator()
    if acc < MIN_ACCURACY:
        print(f"genlab: warning: evaluator held-out accuracy {acc:.3f} is below {MIN_ACCURACY}", file=sys.stderr)
    save_checkpoint(
        stem,
        {"net": net.state_dict()},
        {"version": EVALUATOR_VERSION, "accuracy": acc, "data": "embedded MNIST train split (4,000)", "seed": SEED},
    )
    return Evaluator(net, acc)


def get_evaluator() -> Evaluator:
    """The process-wide evaluator: loaded from the cache (verified), else trained once and cached."""
    with _lock:
        return _evaluator_for(str(cache_stem()))
