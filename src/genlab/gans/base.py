"""What every image GAN in genlab shares: the adversarial training step, EMA sampling,
visible training (losses, D accuracy, gradient norms, class coverage) and collapse detection.

A concrete GAN only says which generator and discriminator to build (``make_nets``). The
generator is called as ``G(z, y)`` and the discriminator as ``D(x, y)``; ``y`` holds class
labels for conditional models and is ``None`` otherwise. Images are in [-1, 1] inside the
networks and in [0, 1] everywhere else.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.config import TrainConfig
from genlab.data.datasets import MNIST_CLASSES
from genlab.errors import GenlabError
from genlab.gans.augment import diff_augment, parse_policy
from genlab.gans.losses import get_loss, r1_penalty
from genlab.train.optim import ema_update
from genlab.train.recipe import Recipe, in_chunks

COVERAGE_SEED = 424242  # the fixed noise batch whose class coverage is tracked during training
EVAL_SEED = 777
#: genlab's tuned training for the conditional GAN (presets quick/full): hinge loss and a
#: discriminator that learns twice as fast (TTUR). Measured in bench/bench_gan.py and the test budgets.
TUNED = {"loss": "hinge", "lr_d": 4e-4}
#: the DCGAN's training (presets quick/full): the non-saturating loss with a lazy R1 penalty on real
#: images instead of spectral normalisation, which keeps learning rates five and ten times the book's
#: stable (Mescheder et al. 2018; StyleGAN2). Measured against TUNED in bench/bench_gan.py.
R1_RECIPE = {"loss": "ns", "spectral_norm": False, "r1_gamma": 1.0, "lr": 1e-3, "lr_d": 2e-3}


def schedule(steps: int, batch_size: int = 64, sample_every: int = 100, eval_every: int = 250, **more) -> dict:
    """A GAN preset's schedule: steps of ``batch_size``, sample grids and class-coverage checks."""
    return {"steps": steps, "batch_size": batch_size, "sample_every": sample_every, "eval_every": eval_every, **more}


@dataclass
class GANConfig(TrainConfig):
    z_dim: int = 64
    width: int = 128  # channels of the coarsest generator stage / finest discriminator stage
    d_width: int = 0  # the discriminator's own width (0: width)
    g_blocks: int = 0  # extra 3x3 conv layers per generator stage (genlab's conv generator)
    d_blocks: int = 0  # extra 3x3 conv layers per discriminator stage (genlab's conv discriminator)
    loss: str = "ns"  # bce (book) | ns (the same losses as bce) | minimax | hinge | lsgan
    lr: float = 2e-4  # generator learning rate
    lr_d: float = 2e-4  # discriminator learning rate (two time-scale update rule when it differs)
    betas: tuple[float, ...] = (0.5, 0.999)
    ema_decay: float = 0.999  # 0: sample from the trained generator itself
    r1_gamma: float = 0.0  # R1 gradient penalty on real images (0: off)
    r1_every: int = 4  # lazy R1: apply it every this many steps, scaled up accordingly
    eval_every: int = 200  # evaluator class coverage of a fixed noise batch every this many steps
    coverage_samples: int = 500
    eval_samples: int = 1000  # samples scored by evaluate() (FID, KID, precision, recall, coverage)
    collapse_stop: bool = True  # stop a run that has collapsed (see the two limits below)
    collapse_coverage: int = 2  # coverage at or below this for `collapse_patience` evaluations in a row
    collapse_patience: int = 3
    collapse_grace: int = 500  # no coverage verdict before this step: a young generator still draws noise
    d_pinned_steps: int = 1500  # D 100% right on every batch this many steps in a row
    spectral_norm: bool = True  # spectral normalisation in genlab's conv discriminator
    augment: str = ""  # DiffAugment policy for every image D sees, e.g. "translation,cutout" (see gans/augment.py)


def is_digit_data(data) -> bool:
    """The digit evaluator only means something for MNIST-like digits."""
    return data is not None and data.name != "fashion-mnist" and list(data.classes) == MNIST_CLASSES


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def grad_norm(module: nn.Module) -> torch.Tensor:
    grads = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(grads).norm() if grads else torch.zeros(())


def scores_of(out) -> torch.Tensor:
    """The scores of a discriminator's output: the output itself, or its first part when the
    discriminator also returns class logits (an auxiliary classifier)."""
    return out[0] if isinstance(out, tuple) else out


@dataclass
class AdversarialUpdate:
    """What :func:`adversarial_update` measured, detached: both losses, the adversarial part of the
    generator's loss, D's scores of the real and fake images (before its step) and D's gradient norm."""

    d_loss: torch.Tensor
    g_loss: torch.Tensor
    g_adv: torch.Tensor
    s_real: torch.Tensor
    s_fake: torch.Tensor
    d_grad_norm: torch.Tensor


def adversarial_update(
    optimize, D: nn.Module, loss, real, fake, critic=None, d_extra=None, g_extra=None, names=("d", "g")
) -> AdversarialUpdate:
    """One GAN update, the discriminator's step first, then the generator's.

    ``real`` and the generator's output ``fake`` are images in [-1, 1]; ``critic(images)`` is how D
    scores them (default ``D`` itself; it may return (scores, class logits)). The discriminator learns
    to tell ``real`` from ``fake.detach()`` (``loss.d``); then, its weights frozen so that the
    gradient flows through D into the generator alone, the generator learns to have ``fake`` scored
    as real (``loss.g``). ``d_extra(d_loss, critic(real))`` and ``g_extra(g_adv, critic(fake))`` return
    the losses with the model's own terms added (a gradient penalty, a classifier's loss, a content
    loss). ``optimize(name, loss)`` steps the optimisers named by ``names`` (D's, then G's).
    """
    critic = D if critic is None else critic
    set_requires_grad(D, True)
    real_out = critic(real)
    s_real, s_fake = scores_of(real_out), scores_of(critic(fake.detach()))
    d_loss = loss.d(s_real, s_fake)
    if d_extra is not None:
        d_loss = d_extra(d_loss, real_out)
    optimize(names[0], d_loss)
    d_norm = grad_norm(D)

    set_requires_grad(D, False)  # G's step needs gradients through D, not for D's weights
    gen_out = critic(fake)
    g_adv = loss.g(scores_of(gen_out))
    g_loss = g_adv if g_extra is None else g_extra(g_adv, gen_out)
    optimize(names[1], g_loss)
    return AdversarialUpdate(d_loss.detach(), g_loss.detach(), g_adv.detach(), s_real.detach(), s_fake.detach(), d_norm)


class GANRecipe(Recipe):
    family = "gan"
    Config = GANConfig
    conditional = False  # True: the networks take class labels

    def make_nets(self) -> tuple[nn.Module, nn.Module]:
        """(generator, discriminator) for this config."""
        raise NotImplementedError

    def build(self):
        cfg = self.cfg
        self.loss = get_loss(cfg.loss)
        self.augment = parse_policy(cfg.augment)
        if len(cfg.betas) != 2:
            raise GenlabError(f"betas needs two numbers (e.g. 0.5,0.999), got {cfg.betas}")
        g, d = (m.to(self.device) for m in self.make_nets())
        self.nets = {"g": g, "d": d}
        if cfg.ema_decay > 0:
            self.nets["g_ema"] = copy.deepcopy(g)
            set_requires_grad(self.nets["g_ema"], False)
        self.opts = {
            "g": torch.optim.Adam(self.generator_param_groups(g), lr=cfg.lr, betas=tuple(cfg.betas)),
            "d": torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas)),
        }
        self.low_coverage_evals = 0  # consecutive evaluations with coverage <= collapse_coverage
        self.d_pinned = 0  # consecutive steps with D right on every image

    def generator_param_groups(self, g: nn.Module) -> list[dict]:
        """The generator's optimiser parameter groups (StyleGAN slows its mapping network down)."""
        return [{"params": list(g.parameters())}]

    @property
    def aux_weight(self) -> float:
        return float(getattr(self.cfg, "aux_weight", 0.0))

    @property
    def num_classes(self) -> int:
        return getattr(self.cfg, "num_classes", 0)

    # -- training --------------------------------------------------------------------------
    def train_step(self, batch, step):
        cfg, G, D = self.cfg, self.nets["g"], self.nets["d"]
        x, y = batch
        y = self.check_labels(y) if self.conditional else None
        real = x * 2 - 1
        fake = G(torch.randn(len(x), cfg.z_dim, device=self.device), y)

        use_r1 = cfg.r1_gamma > 0 and step % cfg.r1_every == 0
        real.requires_grad_(use_r1)
        aux = self.aux_weight > 0 and y is not None

        def critic(images):  # D sees real and fake through the same augmentations
            images = diff_augment(images, self.augment)
            return D(images, y, with_logits=True) if aux else D(images, y)

        def d_extra(d_loss, real_out):
            if aux:  # D's auxiliary classifier learns the classes on real images only
                d_loss = d_loss + self.aux_weight * F.cross_entropy(real_out[1], y)
            if use_r1:
                d_loss = d_loss + 0.5 * cfg.r1_gamma * cfg.r1_every * r1_penalty(scores_of(real_out), real)
            return d_loss

        def g_extra(g_loss, gen_out):  # G is rewarded when that classifier reads the asked class in its images
            return g_loss + self.aux_weight * F.cross_entropy(gen_out[1], y) if aux else g_loss

        up = adversarial_update(self.optimize, D, self.loss, real, fake, critic, d_extra, g_extra)
        if "g_ema" in self.nets:
            ema_update(self.nets["g_ema"], G, cfg.ema_decay, step)

        acc_real, acc_fake = self.loss.accuracies(up.s_real, up.s_fake)
        self.watch_discriminator(float(acc_real), float(acc_fake), step)
        return {
            "loss": up.d_loss + up.g_loss,
            "d_loss": up.d_loss,
            "g_loss": up.g_loss,
            "d_real_acc": acc_real,
            "d_fake_acc": acc_fake,
            "d_grad_norm": up.d_grad_norm,
            "g_grad_norm": grad_norm(G),
        }

    def check_labels(self, y: torch.Tensor) -> torch.Tensor:
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= self.num_classes):
            raise GenlabError(
                f"the dataset has labels up to {int(y.max())} but the model has num_classes={self.num_classes}; pass --set num_classes={int(y.max()) + 1}"
            )
        return y

    def watch_discriminator(self, acc_real: float, acc_fake: float, step: int) -> None:
        """Stop when D has been right on every real and fake image for too long (vanishing gradients)."""
        self.d_pinned = self.d_pinned + 1 if acc_real == 1.0 and acc_fake == 1.0 else 0
        if self.cfg.collapse_stop and self.d_pinned >= self.cfg.d_pinned_steps:
            raise GenlabError(
                f"training failed at step {step + 1}: the discriminator was 100% right on every batch for {self.d_pinned} steps, so the generator "
                "learns nothing; the last checkpoint is kept (try loss=hinge, a lower lr_d, or collapse_stop=false)"
            )

    # -- sampling --------------------------------------------------------------------------
    @property
    def sampler_net(self) -> nn.Module:
        return self.nets.get("g_ema", self.nets["g"])

    def sample_labels(self, n: int, label: int | None = None) -> torch.Tensor | None:
        """Labels for conditional sampling: ``label`` for all, else 0, 1, ..., 9, 0, 1, ..."""
        if not self.conditional:
            if label is not None:
                raise GenlabError(f"model '{self.name}' is not conditional; it takes no label")
            return None
        if label is None:
            return torch.arange(n, device=self.device) % self.num_classes
        if not 0 <= label < self.num_classes:
            raise GenlabError(f"--label {label} is out of range; this model knows labels 0..{self.num_classes - 1}")
        return torch.full((n,), int(label), dtype=torch.long, device=self.device)

    def generate(self, z: torch.Tensor, y: torch.Tensor | None, generator=None, **options) -> torch.Tensor:
        """Images in [-1, 1] from the sampling generator (StyleGAN adds noise inputs and truncation)."""
        return self.sampler_net(z, y)

    def images(self, n: int, labels: torch.Tensor | None, generator=None, **options) -> torch.Tensor:
        z = torch.randn(n, self.cfg.z_dim, generator=generator).to(self.device)
        return ((self.generate(z, labels, generator, **options) + 1) / 2).clamp(0, 1)

    def sample(self, n, generator=None, label=None, **options):
        return self.images(n, self.sample_labels(n, label), generator, **options)

    def sample_in_chunks(self, n: int, seed: int, chunk: int = 250) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` samples (and their labels for conditional models) from a seeded generator."""
        g = torch.Generator().manual_seed(seed)
        labels = self.sample_labels(n)
        xs = list(in_chunks(lambda k, y: self.images(k, y, g), n, chunk, labels))
        return torch.cat(xs), (labels.cpu() if labels is not None else None)

    # -- watching and scoring ----------------------------------------------------------------
    def periodic_eval(self, step):
        """Class coverage (and label accuracy) of a fixed noise batch; stop a collapsed run."""
        if not is_digit_data(self.data):
            return {}
        from genlab.metrics.evaluator import get_evaluator
        from genlab.metrics.quality import class_stats

        with torch.no_grad():
            x, y = self.sample_in_chunks(self.cfg.coverage_samples, self.cfg.seed + COVERAGE_SEED)
            pred = get_evaluator().predict(x).cpu()
        out = class_stats(pred.numpy())
        if y is not None:
            out["label_acc"] = float((pred == y).float().mean())
        low = out["coverage"] <= self.cfg.collapse_coverage and step >= self.cfg.collapse_grace
        self.low_coverage_evals = self.low_coverage_evals + 1 if low else 0
        if self.cfg.collapse_stop and self.low_coverage_evals >= self.cfg.collapse_patience:
            raise GenlabError(
                f"mode collapse at step {step}: the generator has made only {out['coverage']} digit classes for {self.low_coverage_evals} evaluations "
                "in a row; the last checkpoint is kept (try loss=hinge, ema, or collapse_stop=false to continue anyway)"
            )
        return out

    def evaluate(self, data):
        out = {"model": self.name}
        if not is_digit_data(data):
            return {**out, "note": "FID and coverage use the digit evaluator, which needs MNIST-like digit data"}
        from genlab.metrics.quality import sample_quality

        x, y = self.sample_in_chunks(self.cfg.eval_samples, self.cfg.seed + EVAL_SEED)
        return {**out, **sample_quality(x.cpu(), labels=y)}

    def figures(self, store):
        """The GAN's vital signs in one picture: losses, D accuracy, gradient norms, coverage."""
        from genlab.train.plots import plot_metrics

        keys = [
            "d_loss",
            "g_loss",
            "d_real_acc",
            "d_fake_acc",
            "d_grad_norm",
            "g_grad_norm",
            "coverage",
            "class_entropy",
            "label_acc",
        ]
        rows = store.read_metrics()
        keys = [k for k in keys if any(k in r for r in rows)]
        path = plot_metrics(
            rows, store.plots_dir / "gan_dynamics.png", title=f"{self.name}: training dynamics", keys=keys
        )
        return [path] if path else []

    def extra_state(self):
        return {"low_coverage_evals": self.low_coverage_evals, "d_pinned": self.d_pinned}

    def load_extra_state(self, state):
        self.low_coverage_evals = int(state.get("low_coverage_evals", 0))
        self.d_pinned = int(state.get("d_pinned", 0))
