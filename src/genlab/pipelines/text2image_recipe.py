"""The final project's training recipe: the text-to-image system's four stages, trained one after
the other in one engine run (``genlab train text2image --preset quick``); what it trains is used
through :class:`genlab.pipelines.text2image.TextToImage`.

Each stage trains on its own share of the steps (``clip_steps``, ``vae_steps``,
``refiner_steps``, ``diffusion_steps``; a different ``--steps`` scales them all):

1. **clip**: genlab's CLIP (:mod:`genlab.multimodal.clip`) on digits with captions measured from
   them; skipped with ``--set clip_run=RUN`` (a trained CLIP run is reused, frozen);
2. **vae**: ``mapper=cvae`` (default): a VAE whose encoder and decoder see the CLIP embedding of
   a fresh caption of the image at every step ("a bold 7 slanted right", "the digit seven");
   ``mapper=prior``: an unconditional VAE plus a learned Gaussian prior p(z | text embedding);
3. **refiner**: a residual conv net turning VAE images into sharp ones, trained against a
   patch discriminator (least squares) with an L1 content term to the real digit the VAE
   image was decoded from: genlab.gans' adversarial update (:func:`genlab.gans.base.adversarial_update`);
4. **diffusion**: the text-conditioned U-Net (10% of captions dropped to the null condition),
   trained on genlab.diffusion's objective (:func:`genlab.diffusion.recipe.diffusion_loss`).

The run folder is self-contained: every network, the tokenizer and the CLIP configuration are
in its checkpoint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genlab.config import TrainConfig, apply_overrides, config_to_dict
from genlab.data.datasets import MNIST_CLASSES
from genlab.diffusion.recipe import diffusion_loss
from genlab.diffusion.samplers import PREDICTIONS
from genlab.diffusion.schedules import NoiseSchedule
from genlab.errors import GenlabError
from genlab.gans.base import adversarial_update
from genlab.gans.cyclegan import PatchDiscriminator
from genlab.gans.losses import get_loss
from genlab.pipelines.t2i_stages import MAPPERS, Refiner, TextUNet, make_mapper
from genlab.pipelines.text2image import MODEL, TextToImage
from genlab.train.optim import ema_update
from genlab.train.recipe import LABEL, TEMPERATURE, Recipe

STAGES = ("clip", "vae", "refiner", "diffusion")


@dataclass
class Text2ImageConfig(TrainConfig):
    # stage lengths in optimisation steps; `steps` is their total (a different value scales them)
    clip_steps: int = 400
    vae_steps: int = 1500
    refiner_steps: int = 400
    diffusion_steps: int = 1500
    # stage 1: the text encoder (genlab's CLIP), or a trained CLIP run to reuse
    clip_run: str = ""  # a clip run, or a text2image run whose text encoder is reused
    clip_embed_dim: int = 64
    clip_image_widths: tuple[int, ...] = (16, 32, 64)
    clip_text_width: int = 64
    clip_text_layers: int = 2
    clip_lr: float = 3e-3
    # stage 2: text embedding -> image
    mapper: str = "cvae"  # cvae (VAE conditioned on the text embedding) | prior (VAE + learned prior p(z|text))
    vae_arch: str = "mlp"  # mlp (the book's 784-512-512) | conv
    vae_hidden: tuple[int, ...] = (512, 512)
    vae_width: int = 32  # conv only
    latent_dim: int = 16
    vae_lr: float = 1e-3
    beta: float = 1.0
    temperature: float = 0.9  # scale of the latent noise at generation (truncation: < 1 trades diversity for match)
    # stage 3: the GAN refiner
    refiner_width: int = 16
    refiner_blocks: int = 2
    d_width: int = 32
    gan_loss: str = "lsgan"
    lambda_content: float = 10.0  # weight of the L1 content term against the adversarial term
    refiner_lr: float = 2e-4
    refiner_batch: int = 32  # images per refiner step (the first of the engine's batch)
    # stage 4: the diffusion backend
    unet_channels: int = 8
    unet_mults: tuple[int, ...] = (1, 2, 2)
    unet_attention: bool = True  # self-attention at the lowest resolution
    timesteps: int = 1000
    prediction: str = "v"  # v (robust at a small budget) | eps (the book's)
    cond_dropout: float = 0.1  # captions replaced by the null condition (classifier-free guidance)
    guidance: float = 3.0
    sampler: str = "ddim"  # the diffusion backend's sampler: ddim | dpm++2m | ddpm (genlab.diffusion.samplers)
    sample_steps: int = 25  # sampler steps
    diffusion_lr: float = 2e-3
    diffusion_batch: int = 32
    ema_decay: float = 0.999
    # evaluation
    eval_per_prompt: int = 20  # images per prompt in evaluate() (20 digit prompts, 80 attribute prompts); 0: skip


def _total(d: dict) -> int:
    return sum(d[f"{s}_steps"] for s in STAGES)


QUICK = {"clip_steps": 400, "vae_steps": 1500, "refiner_steps": 400, "diffusion_steps": 1500, "batch_size": 128}
FULL = {
    "clip_steps": 2000,
    "vae_steps": 6000,
    "refiner_steps": 3000,
    "diffusion_steps": 10000,
    "batch_size": 128,
    "clip_embed_dim": 128,
    "clip_image_widths": (32, 64, 128, 256),
    "clip_text_width": 128,
    "latent_dim": 24,
    "refiner_width": 32,
    "refiner_blocks": 4,
    "refiner_batch": 64,
    "unet_channels": 32,
    "unet_mults": (1, 2, 2),
    "diffusion_batch": 128,
    "eval_per_prompt": 50,
}
# the book's capstone: its VAE (MLP 784-512-512, latent 32, Adam 1e-3) behind the text encoder
BOOK = {**QUICK, "latent_dim": 32, "vae_steps": 3000}


class Text2ImageRecipe(Recipe):
    name = MODEL
    family = "pipeline"
    Config = Text2ImageConfig
    presets = {
        "quick": {**QUICK, "steps": _total(QUICK)},
        "full": {**FULL, "steps": _total(FULL)},
        "book": {**BOOK, "steps": _total(BOOK)},
    }
    options = (LABEL, TEMPERATURE)

    # -- construction -------------------------------------------------------------------------
    def build(self):
        cfg = self.cfg
        if cfg.mapper not in MAPPERS:
            raise GenlabError(f"mapper={cfg.mapper!r} is unknown; choose one of: {', '.join(MAPPERS)}")
        if cfg.prediction not in PREDICTIONS:
            raise GenlabError(f"prediction={cfg.prediction!r} is unknown; choose one of: {', '.join(PREDICTIONS)}")
        if not 0 <= cfg.cond_dropout < 1:
            raise GenlabError(f"cond_dropout must be in [0, 1), got {cfg.cond_dropout}")
        self.loss = get_loss(cfg.gan_loss)
        self.plan = self.stage_plan()
        # a clip_run that is gone is fine for loading (the checkpoint holds the CLIP), not for training
        self._missing_clip_run = cfg.clip_run if cfg.clip_run and not Path(cfg.clip_run).is_dir() else None
        reuse = cfg.clip_run and not self._missing_clip_run
        self.clip = self._load_clip_run() if reuse else self._make_clip(self._clip_overrides())
        self.nets["clip"] = self.clip.nets["clip"]
        if not cfg.clip_run:
            self.opts["clip"] = self.clip.opts["clip"]
        self._build_stages(self.clip.cfg.embed_dim)

    def _build_stages(self, cond_dim: int) -> None:
        cfg, shape = self.cfg, (self.cfg.channels, self.cfg.image_size, self.cfg.image_size)
        n, o = self.nets, self.opts
        n["mapper"] = make_mapper(
            cfg.mapper, shape, cond_dim, cfg.latent_dim, cfg.vae_arch, cfg.vae_hidden, cfg.vae_width
        ).to(self.device)
        n["refiner"] = Refiner(cfg.channels, cfg.refiner_width, cfg.refiner_blocks).to(self.device)
        n["disc"] = PatchDiscriminator(cfg.channels, cfg.d_width).to(self.device)
        n["unet"] = TextUNet(
            cond_dim, cfg.channels, cfg.unet_channels, cfg.unet_mults, attention=cfg.unet_attention
        ).to(self.device)
        n["unet_ema"] = copy.deepcopy(n["unet"]).requires_grad_(False)
        o["mapper"] = torch.optim.Adam(n["mapper"].parameters(), lr=cfg.vae_lr)
        o["refiner"] = torch.optim.Adam(n["refiner"].parameters(), lr=cfg.refiner_lr, betas=(0.5, 0.999))
        o["disc"] = torch.optim.Adam(n["disc"].parameters(), lr=cfg.refiner_lr, betas=(0.5, 0.999))
        o["unet"] = torch.optim.Adam(n["unet"].parameters(), lr=cfg.diffusion_lr)
        self.schedule = NoiseSchedule.make("linear", cfg.timesteps).to(self.device)

    def stage_plan(self) -> list[tuple[str, int, int]]:
        """(stage, first step, end step) of every stage with steps; scaled so they fill ``steps``."""
        cfg = self.cfg
        lengths = [0 if (s == "clip" and cfg.clip_run) else getattr(cfg, f"{s}_steps") for s in STAGES]
        if min(lengths) < 0 or sum(lengths) == 0:
            raise GenlabError(
                "the stage lengths (clip_steps, vae_steps, refiner_steps, diffusion_steps) must be >= 0 and not all 0"
            )
        ends = np.round(np.cumsum(lengths) * cfg.steps / sum(lengths)).astype(int).tolist()
        starts = [0, *ends[:-1]]
        return [(s, a, b) for s, a, b in zip(STAGES, starts, ends) if b > a]

    def _clip_overrides(self) -> dict:
        cfg = self.cfg
        clip_len = next((b - a for s, a, b in self.plan if s == "clip"), 1)
        return {
            "steps": clip_len,
            "embed_dim": cfg.clip_embed_dim,
            "image_widths": cfg.clip_image_widths,
            "text_width": cfg.clip_text_width,
            "text_layers": cfg.clip_text_layers,
            "text_ff": 2 * cfg.clip_text_width,
            "lr": cfg.clip_lr,
            "warmup": min(100, max(1, clip_len // 10)),
            "batch_size": cfg.batch_size,
            "seed": cfg.seed,
            "data": cfg.data,
        }

    def _make_clip(self, overrides: dict):
        from genlab.multimodal.clip import CLIPRecipe

        clip = CLIPRecipe(
            apply_overrides(CLIPRecipe.Config(), overrides, source="text2image clip config"), self.device, self.dist
        )
        clip.data = self.data
        return clip

    def _load_clip_run(self):
        from genlab.train.engine import load_run

        clip, store, _ = load_run(self.cfg.clip_run, device=str(self.device))
        if clip.name == self.name:  # another text2image run: reuse its text encoder
            clip = clip.clip
        if clip.name != "clip":
            raise GenlabError(
                f"clip_run={self.cfg.clip_run} is a '{clip.name}' run; give a run of 'genlab train clip' or 'genlab train text2image'"
            )
        clip.nets["clip"].requires_grad_(False)
        return clip

    # -- state: the CLIP architecture and tokenizer travel inside the checkpoint -----------------
    def extra_state(self):
        return {"clip_config": config_to_dict(self.clip.cfg), "tokenizer": self.clip.tokenizer.to_json()}

    def load_state(self, state: dict, with_optimizers: bool = True) -> None:
        stored = state.get("extra", {}).get("clip_config")
        if stored is not None and stored != config_to_dict(self.clip.cfg):  # e.g. trained with another clip_run
            self.clip = self._make_clip(stored)
            self.nets["clip"] = self.clip.nets["clip"]
            self.opts.pop("clip", None)
            self._build_stages(self.clip.cfg.embed_dim)  # the later stages take its embedding size
        super().load_state(state, with_optimizers)
        self._missing_clip_run = None

    def load_extra_state(self, state):
        self.clip.load_extra_state(state)

    def load_data(self):
        if self._missing_clip_run:
            raise GenlabError(
                f"clip_run={self._missing_clip_run} does not exist; give the folder of a trained CLIP run (genlab train clip)"
            )
        data = super().load_data()
        if list(data.classes) != MNIST_CLASSES:
            raise GenlabError(
                f"text2image learns from digits and their captions; data={self.cfg.data} has classes {data.classes[:4]}...; use data=mnist"
            )
        self.clip.data = data
        return data

    # -- training ---------------------------------------------------------------------------
    def stage_at(self, step: int) -> tuple[str, int]:
        """The stage that trains at ``step`` and the step within it."""
        for s, a, b in self.plan:
            if a <= step < b:
                return s, step - a
        return self.plan[-1][0], step - self.plan[-1][1]

    def text_condition(self, x, y, step: int) -> torch.Tensor:
        """CLIP embeddings of fresh captions of the images (different wording at every step)."""
        texts = self.clip.captions(x, y, np.random.default_rng([self.cfg.seed, 7, step]))
        return self.clip.encode_text(texts).to(self.device)

    def train_step(self, batch, step):
        stage, i = self.stage_at(step)
        if stage == "clip":
            logs = self.clip.train_step(batch, i)
            return {"loss": logs["loss"], **{f"clip_{k}": v for k, v in logs.items()}}
        k = {"refiner": self.cfg.refiner_batch, "diffusion": self.cfg.diffusion_batch}.get(stage, len(batch[0]))
        x, y = batch[0][:k], batch[1][:k]
        c = self.text_condition(x, y, step)
        return {"vae": self.vae_step, "refiner": self.refiner_step, "diffusion": self.diffusion_step}[stage](x, c, i)

    def vae_step(self, x, c, i):
        terms = self.nets["mapper"].loss(x, c, self.cfg.beta)
        self.optimize("mapper", terms["loss"])
        return {k: v.detach() for k, v in terms.items()}

    def refiner_step(self, x, c, i):
        """One adversarial update of the refiner against the patch discriminator; the refiner's loss adds
        the L1 content term, which keeps its image close to the real digit the VAE image was decoded from."""
        n, cfg = self.nets, self.cfg
        with torch.no_grad():
            base = n["mapper"].reconstruct(x, c)
        fake = n["refiner"](base)
        content = F.l1_loss(fake, x)
        up = adversarial_update(
            self.optimize,
            n["disc"],
            self.loss,
            x * 2 - 1,
            fake * 2 - 1,
            g_extra=lambda adv, _: adv + cfg.lambda_content * content,
            names=("disc", "refiner"),
        )
        return {
            "loss": up.g_loss,
            "d_loss": up.d_loss,
            "adv": up.g_adv,
            "content_l1": content.detach(),
            "base_l1": F.l1_loss(base, x),
        }

    def diffusion_step(self, x, c, i):
        cfg, unet = self.cfg, self.nets["unet"]
        drop = torch.rand(len(c), device=self.device) < cfg.cond_dropout
        c = torch.where(drop[:, None], unet.null_labels(len(c), self.device), c)
        loss = diffusion_loss(unet, self.schedule, x * 2 - 1, c, cfg.prediction)
        self.optimize("unet", loss, clip=1.0)
        ema_update(self.nets["unet_ema"], unet, cfg.ema_decay, i)
        return {"loss": loss.detach(), "diffusion_mse": loss.detach()}

    # -- inference ---------------------------------------------------------------------------
    @property
    def sampler_net(self) -> TextUNet:
        """The EMA of the text U-Net's weights: what the diffusion backend samples with."""
        return self.nets["unet_ema"]

    def pipeline(self) -> TextToImage:
        """The inference pipeline on this recipe's networks."""
        return TextToImage(self)

    def sample(self, n, generator=None, label=None, temperature=None, **options):
        """``n`` images for "a handwritten {digit}", digits cycling 0..9 (or all ``label``)."""
        labels = torch.arange(n) % 10 if label is None else torch.as_tensor(label).expand(n)
        if labels.min() < 0 or labels.max() > 9:
            raise GenlabError(
                f"--label must be between 0 and 9, got {int(labels.max() if labels.max() > 9 else labels.min())}"
            )
        prompts = [f"a handwritten {MNIST_CLASSES[int(k)]}" for k in labels]
        return self.pipeline().generate_for(prompts, generator, temperature=temperature)

    def evaluate(self, data):
        from genlab.pipelines.t2i_metrics import evaluate_pipeline

        out = {"model": self.name, "mapper": self.cfg.mapper}
        n = self.cfg.eval_per_prompt
        if n == 0:
            return out
        out.update(evaluate_pipeline(self.pipeline(), n, seed=self.cfg.seed + 1, diffusion_n=max(4, n // 2)))
        return out

    def figures(self, store):
        from genlab.pipelines.t2i_metrics import stages_figure

        prompts = [
            "a handwritten 0",
            "a bold three",
            "a thin three",
            "a seven slanted left",
            "a seven slanted right",
            "the digit 8",
        ]
        return [stages_figure(self.pipeline(), prompts, store.plots_dir / "text2image.png")]
