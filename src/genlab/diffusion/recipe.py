"""Chapter 5.4: DDPM, trained with the shared engine.

Training (one screen): scale images to [-1, 1], draw t ~ U{0..T-1} and eps ~ N(0, I), form
x_t = q_sample(x0, t, eps), regress the network's output on eps (the book's objective) or on
v, with labels replaced by the null class 10% of the time so that one network is both
conditional and unconditional (classifier-free guidance). An exponential moving average of the
weights (``nets["ema"]``) is what samples.

Sampling without a label draws the labels uniformly (from the caller's generator) and samples
conditionally (guidance ``guidance_any``, 1 by default: one network call per step), because
the null-class model, trained on 10% of the steps, is the weaker one. The default sampler is
DPM-Solver++(2M) in its SDE form (15 network calls); DDPM and DDIM are there to compare. The
network samples under bfloat16 autocast (``sample_bf16``) only where the hardware computes bf16
natively (genlab.utils.runtime.use_bf16), in float32 elsewhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlab.config import TrainConfig
from genlab.data.datasets import MNIST_CLASSES
from genlab.diffusion.fast import FastDenoiser
from genlab.diffusion.samplers import DEFAULT_STEPS, PREDICTIONS, SAMPLERS, sample
from genlab.diffusion.schedules import NoiseSchedule
from genlab.diffusion.unet import UNet
from genlab.errors import GenlabError
from genlab.train.optim import ema_update
from genlab.train.recipe import LABEL, Option, Recipe, in_chunks
from genlab.utils.runtime import use_bf16

EVAL_SEED = 2024
GUIDED_KEYS = ("fid", "kid", "is", "precision", "recall", "coverage", "class_entropy", "label_acc")


def diffusion_loss(model, schedule: NoiseSchedule, x0, condition, prediction: str, t=None, noise=None) -> torch.Tensor:
    """The denoising objective of one batch x0 in [-1, 1]: with t ~ U{0..T-1} and noise ~ N(0, I) (drawn
    here, in that order, unless given), x_t = q_sample(x0, t, noise) and the mean squared error of
    ``model(x_t, t, condition)`` against its target, the noise (``prediction="eps"``, the book's) or
    v = sqrt(abar_t) noise - sqrt(1 - abar_t) x0 (``"v"``).

    A caller that draws more randomness for the step between the noise and the loss (the DDPM
    recipe's label dropout) draws t and noise itself, so that its draws keep their order."""
    if t is None:
        t = torch.randint(0, schedule.timesteps, (len(x0),), device=x0.device)
    if noise is None:
        noise = torch.randn_like(x0)
    target = noise if prediction == "eps" else schedule.v_from(x0, t, noise)
    return F.mse_loss(model(schedule.q_sample(x0, t, noise), t, condition), target)


@dataclass
class DDPMConfig(TrainConfig):
    schedule: str = "linear"  # linear (book: 1e-4..0.02) | cosine
    timesteps: int = 1000
    prediction: str = "eps"  # eps (book) | v
    base_channels: int = 16
    channel_mults: tuple[int, ...] = (1, 2, 4)  # widths per resolution; 2**(len-1) must divide the padded size
    num_res_blocks: int = 1
    attention: bool = True  # self-attention at the lowest resolution
    dropout: float = 0.0
    conditional: bool = True  # class labels with a null class (classifier-free guidance)
    num_classes: int = 10
    label_dropout: float = 0.1  # probability of training on the null class instead of the label
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    sampler: str = "dpm++2m"  # default sampler of `genlab sample`: dpm++2m | ddim | ddpm
    sample_steps: int = 15  # default sampler steps (the FID of DDIM-50 at 30% of its network calls: bench/README.md)
    guidance: float = 3.0  # default guidance weight w when a label is asked for
    guidance_any: float = 1.0  # default w when no label is asked for (labels drawn uniformly; 1 = no extra pass)
    sample_bf16: bool = True  # sample under bfloat16 autocast where bf16 is native (float32 elsewhere)
    eta: float = 1.0  # default DDIM stochasticity (0 = deterministic); eta 1 scores the best FID on the quick model (bench/README.md)
    eval_samples: int = 500  # samples scored by evaluate()


class DDPMRecipe(Recipe):
    name = "ddpm"
    family = "diffusion"
    Config = DDPMConfig
    presets = {
        # sized by measurement for ~10 min on 2 CPU cores; v-prediction learns much faster than eps at this budget
        "quick": {"steps": 1600, "batch_size": 32, "lr": 2e-3, "prediction": "v", "channel_mults": (1, 2, 2)},
        "full": {
            "steps": 20000,
            "batch_size": 128,
            "lr": 5e-4,
            "prediction": "v",
            "base_channels": 32,
            "channel_mults": (1, 2, 2, 2),
            "num_res_blocks": 2,
            "ema_decay": 0.9995,
            "eval_samples": 1000,
        },
        # the book's SimpleUNet widths 64-128-256-512 on 32x32 (28 padded), lr 1e-4, 1000-step DDPM
        # sampling, unconditional; defects fixed: time in every block, skips that fit 28x28
        "book": {
            "steps": 10000,
            "batch_size": 128,
            "lr": 1e-4,
            "base_channels": 64,
            "channel_mults": (1, 2, 4, 8),
            "attention": False,
            "conditional": False,
            "sampler": "ddpm",
            "sample_steps": 1000,
            "ema_decay": 0.9995,
        },
    }
    options = (
        LABEL,
        Option("steps", int, "sampler steps"),
        Option("sampler", str, "diffusion sampler: dpm++2m (default, 15 steps) | ddim (50) | ddpm (1000, the book's)"),
        Option("guidance", float, "classifier-free guidance weight"),
        Option("eta", float, "sampler stochasticity for dpm++2m and ddim: 0 = deterministic, 1 = DDPM-like noise"),
    )

    def build(self):
        cfg = self.cfg
        if cfg.prediction not in PREDICTIONS:
            raise GenlabError(f"prediction={cfg.prediction} is unknown; choose one of: {', '.join(PREDICTIONS)}")
        if cfg.sampler not in SAMPLERS:
            raise GenlabError(f"sampler={cfg.sampler} is unknown; choose one of: {', '.join(SAMPLERS)}")
        if not 0 <= cfg.label_dropout < 1:
            raise GenlabError(f"label_dropout must be in [0, 1), got {cfg.label_dropout}")
        if not cfg.channel_mults or min(cfg.channel_mults) < 1 or cfg.base_channels < 1:
            raise GenlabError("base_channels and channel_mults must be positive")
        self.schedule = NoiseSchedule.make(cfg.schedule, cfg.timesteps).to(self.device)
        net = UNet(
            cfg.channels,
            cfg.base_channels,
            tuple(cfg.channel_mults),
            cfg.num_res_blocks,
            cfg.attention,
            cfg.num_classes if cfg.conditional else 0,
            cfg.dropout,
        ).to(self.device)
        self.nets["model"] = net
        self.nets["ema"] = copy.deepcopy(net).requires_grad_(False)
        self.opts["model"] = torch.optim.Adam(net.parameters(), lr=cfg.lr)

    # -- training ---------------------------------------------------------------------
    def train_step(self, batch, step):
        x, y = batch
        cfg, model = self.cfg, self.nets["model"]
        x0 = x * 2 - 1
        t = torch.randint(0, self.schedule.timesteps, (len(x),), device=self.device)
        noise = torch.randn_like(x0)
        labels = None
        if cfg.conditional:
            if int(y.max()) >= cfg.num_classes:
                raise GenlabError(
                    f"the dataset has labels up to {int(y.max())} but num_classes={cfg.num_classes}; pass --set num_classes=N"
                )
            drop = torch.rand(len(y), device=self.device) < cfg.label_dropout
            labels = torch.where(drop, model.null_labels(len(y), self.device), y)
        loss = diffusion_loss(model, self.schedule, x0, labels, cfg.prediction, t, noise)
        self.optimize("model", loss, clip=cfg.grad_clip)
        ema_update(self.nets["ema"], self.nets["model"], self.cfg.ema_decay, step)
        return {"loss": loss}

    # -- sampling ---------------------------------------------------------------------
    @property
    def sampler_net(self) -> UNet:
        """The EMA of the weights: what every sampler runs."""
        return self.nets["ema"]

    def denoiser(self, labels=None, guidance: float = 1.0, bf16: bool | None = None) -> FastDenoiser:
        """The EMA network as a (guided) denoiser for the samplers, on the fast path
        (:mod:`genlab.diffusion.fast`: the plain denoiser's images, faster)."""
        bf16 = use_bf16(self.cfg.sample_bf16 if bf16 is None else bf16, self.device)
        return FastDenoiser(self.sampler_net, self.schedule, self.cfg.prediction, labels, guidance, bf16=bf16)

    def labels_for(self, n: int, label, generator=None) -> torch.Tensor | None:
        """``label``: an int or a tensor of n labels; None draws the n labels uniformly (from
        ``generator``) for a conditional model, so that samples follow the data's class mix
        rather than the weaker null-class model, and means "no labels" for an unconditional one."""
        if label is None:
            if not self.cfg.conditional:
                return None
            return torch.randint(self.cfg.num_classes, (n,), generator=generator).to(self.device)
        if not self.cfg.conditional:
            raise GenlabError("this model was trained unconditionally; --label needs conditional=true (the default)")
        labels = torch.as_tensor(label, dtype=torch.long).expand(n).to(self.device)
        if labels.min() < 0 or labels.max() >= self.cfg.num_classes:
            raise GenlabError(f"--label must be between 0 and {self.cfg.num_classes - 1}, got {label}")
        return labels

    def sample(
        self,
        n,
        generator=None,
        label=None,
        steps=None,
        sampler=None,
        guidance=None,
        eta=None,
        trajectory=None,
        bf16=None,
    ):
        cfg = self.cfg
        sampler = sampler or cfg.sampler
        if sampler not in SAMPLERS:
            raise GenlabError(f"--sampler {sampler} is unknown; choose one of: {', '.join(SAMPLERS)}")
        if guidance is None:
            guidance = cfg.guidance if label is not None else cfg.guidance_any
        if guidance < 0:
            raise GenlabError(f"--guidance must be >= 0, got {guidance}")
        if steps is None:
            steps = cfg.sample_steps if sampler == cfg.sampler else DEFAULT_STEPS.get(sampler, self.schedule.timesteps)
        den = self.denoiser(self.labels_for(n, label, generator), guidance, bf16)
        shape = (n, cfg.channels, cfg.image_size, cfg.image_size)
        x = sample(den, shape, generator, sampler, steps, cfg.eta if eta is None else eta, self.device, trajectory)
        return ((x + 1) / 2).clamp(0, 1)

    # -- evaluation and pictures --------------------------------------------------------
    def quality(self, n: int, seed: int = EVAL_SEED, guided: bool = False, **options) -> dict:
        """sample_quality of n samples: labels drawn uniformly (or none), or guided to labels 0..9 in turn."""
        from genlab.metrics.quality import sample_quality

        g = torch.Generator().manual_seed(seed)
        labels = torch.arange(n) % self.cfg.num_classes if guided else None
        xs = list(in_chunks(lambda k, y: self.sample(k, g, label=y, **options), n, 500, labels))
        return sample_quality(torch.cat(xs).cpu(), labels=labels)

    def evaluate(self, data):
        out = {"model": self.name, "params": sum(p.numel() for p in self.nets["model"].parameters())}
        if list(data.classes) != MNIST_CLASSES or self.cfg.channels != 1:
            return out  # the evaluator network reads MNIST digits only
        n = self.cfg.eval_samples
        out.update({k: v for k, v in self.quality(n).items() if isinstance(v, (int, float))})
        if self.cfg.conditional:
            guided = self.quality(n, guided=True)
            out.update({f"guided_{k}": guided[k] for k in GUIDED_KEYS})
            out["guidance"] = self.cfg.guidance
        return out

    def figures(self, store):
        from genlab.diffusion.visuals import save_forward_process, save_reverse_process

        x0 = self.load_data().x_test[:1].to(self.device)
        return [
            save_forward_process(self.schedule, x0, store.plots_dir / "forward_process.png"),
            *save_reverse_process(
                self, store.plots_dir / "reverse_process.png", store.samples_dir / "reverse_process.gif"
            ),
        ]
