"""The final project: a text-to-image system for handwritten digits.

    prompt -> CLIP text encoder (frozen) -> text embedding -> VAE decoder -> base image
           -> GAN refiner -> final image -> (K candidates) reranked by CLIP image-text similarity

and a second backend for comparison: a text-conditioned diffusion U-Net with classifier-free
guidance on the same text embedding, sampled with DDIM.

Training (``genlab train text2image --preset quick``) runs the stages one after the other in
one engine run, each on its own share of the steps (``clip_steps``, ``vae_steps``,
``refiner_steps``, ``diffusion_steps``; a different ``--steps`` scales them all):

1. **clip**: genlab's CLIP (:mod:`genlab.multimodal.clip`) on digits with captions measured from
   them; skipped with ``--set clip_run=RUN`` (a trained CLIP run is reused, frozen);
2. **vae**: ``mapper=cvae`` (default): a VAE whose encoder and decoder see the CLIP embedding of
   a fresh caption of the image at every step ("a bold 7 slanted right", "the digit seven");
   ``mapper=prior``: an unconditional VAE plus a learned Gaussian prior p(z | text embedding);
3. **refiner**: a residual conv net turning VAE images into sharp ones, trained against a
   patch discriminator (least squares) with an L1 content term to the real digit the VAE
   image was decoded from;
4. **diffusion**: the text-conditioned U-Net (10% of captions dropped to the null condition).

The run folder is self-contained: every network, the tokenizer and the CLIP configuration are
in its checkpoint.

Python API (stable; the web studio uses exactly this)::

    from genlab.pipelines.text2image import TextToImage
    t2i = TextToImage.from_runs("runs/text2image-...")     # or from_runs() for the newest run
    out = t2i(["a bold seven slanted right", "a thin 2"], n=16, seed=0, candidates=4,
              backend="vae-gan")                            # or backend="diffusion"
    out.images        # (P*n, 1, 28, 28) float in [0, 1], prompt-major (prompt 0's n images first)
    out.base          # same shape: the VAE images before refinement (None for "diffusion")
    out.scores        # (P*n,) CLIP cosine similarity of each image to its prompt
    out.prompt_index  # (P*n,) which prompt each image answers
    out.for_prompt(1) # the same object restricted to one prompt
    out.seconds       # wall-clock time of the call

``prompts`` may be one string, in English or in Russian ("a bold seven slanted right",
"жирная семёрка, наклонённая вправо", "нарисуй тройку"). Every prompt of a call uses the same noise (from ``seed``), so
a prompt's images do not depend on the other prompts and prompts are compared on equal
footing. With ``candidates=K`` the system draws K*n images per prompt and keeps the n with the
highest CLIP similarity, best first. Bad input (an empty prompt, one over 1,000 characters,
one without any letter or digit, n or K out of range) raises
:class:`~genlab.errors.GenlabError` with a one-line message.

A prompt that names no digit ("a cat", "красивый закат над океаном") is not drawn: the call
raises :class:`UndrawablePrompt` (a GenlabError) naming the words the model does not know and
what it can draw, instead of passing some random digit off as an answer. The decision is the
text encoder's: the prompt's embedding must be as close to one of the digits' plain prompts as
the calibrated threshold of :meth:`genlab.multimodal.clip.CLIPRecipe.drawable` asks.
``t2i.understands(prompts)`` gives the per-prompt evidence without raising.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from genlab.config import TrainConfig, apply_overrides, config_to_dict
from genlab.data.datasets import MNIST_CLASSES
from genlab.diffusion.samplers import PREDICTIONS, Denoiser
from genlab.diffusion.samplers import sample as diffusion_sample
from genlab.diffusion.schedules import NoiseSchedule
from genlab.errors import GenlabError
from genlab.gans.base import set_requires_grad
from genlab.gans.cyclegan import PatchDiscriminator
from genlab.gans.losses import get_loss
from genlab.pipelines.t2i_stages import MAPPERS, Refiner, TextUNet, make_mapper
from genlab.train.optim import ema_update
from genlab.train.recipe import Recipe

BACKENDS = ("vae-gan", "diffusion")
STAGES = ("clip", "vae", "refiner", "diffusion")
MAX_PROMPT_CHARS = 1000
MAX_IMAGES = 1024  # per prompt and call
MAX_CANDIDATES = 32
CHUNK = 512  # images generated per forward pass


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
    temperature: float = 0.6  # scale of the latent noise at generation (truncation: < 1 trades diversity for match)
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
    name = "text2image"
    family = "pipeline"
    Config = Text2ImageConfig
    presets = {
        "quick": {**QUICK, "steps": _total(QUICK)},
        "full": {**FULL, "steps": _total(FULL)},
        "book": {**BOOK, "steps": _total(BOOK)},
    }
    sample_options = ("label", "temperature")

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
        """Discriminator step, then refiner step: fool D and stay close (L1) to the real digit."""
        n, cfg = self.nets, self.cfg
        with torch.no_grad():
            base = n["mapper"].reconstruct(x, c)
        fake = n["refiner"](base)
        set_requires_grad(n["disc"], True)
        d_loss = self.loss.d(n["disc"](x * 2 - 1), n["disc"](fake.detach() * 2 - 1))
        self.optimize("disc", d_loss)
        set_requires_grad(n["disc"], False)
        adv = self.loss.g(n["disc"](fake * 2 - 1))
        content = F.l1_loss(fake, x)
        g_loss = adv + cfg.lambda_content * content
        self.optimize("refiner", g_loss)
        return {
            "loss": g_loss.detach(),
            "d_loss": d_loss.detach(),
            "adv": adv.detach(),
            "content_l1": content.detach(),
            "base_l1": F.l1_loss(base, x),
        }

    def diffusion_step(self, x, c, i):
        cfg, unet = self.cfg, self.nets["unet"]
        drop = torch.rand(len(c), device=self.device) < cfg.cond_dropout
        c = torch.where(drop[:, None], unet.null_labels(len(c), self.device), c)
        x0 = x * 2 - 1
        t = torch.randint(0, self.schedule.timesteps, (len(x),), device=self.device)
        noise = torch.randn_like(x0)
        target = noise if cfg.prediction == "eps" else self.schedule.v_from(x0, t, noise)
        loss = F.mse_loss(unet(self.schedule.q_sample(x0, t, noise), t, c), target)
        self.optimize("unet", loss, clip=1.0)
        ema_update(self.nets["unet_ema"], unet, cfg.ema_decay, i)
        return {"loss": loss.detach(), "diffusion_mse": loss.detach()}

    # -- inference ---------------------------------------------------------------------------
    def pipeline(self) -> TextToImage:
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


# ----------------------------------------------------------------------------- the pipeline
@dataclass
class Generation:
    """What a call of :class:`TextToImage` returns (see the module docstring)."""

    prompts: list[str]
    images: torch.Tensor
    base: torch.Tensor | None
    scores: torch.Tensor
    prompt_index: torch.Tensor
    backend: str
    seconds: float = 0.0
    candidates: int = 1

    def for_prompt(self, i: int) -> Generation:
        keep = self.prompt_index == i
        return Generation(
            [self.prompts[i]],
            self.images[keep],
            None if self.base is None else self.base[keep],
            self.scores[keep],
            torch.zeros(int(keep.sum()), dtype=torch.long),
            self.backend,
            self.seconds,
            self.candidates,
        )


def check_prompts(prompts) -> list[str]:
    """One-line errors for prompts the system cannot read; returns the cleaned list."""
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, (list, tuple)) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise GenlabError("give one prompt or a list of prompts (text), e.g. 'a bold seven slanted right'")
    out = []
    for p in prompts:
        p = " ".join(p.split())
        if not p:
            raise GenlabError("the prompt is empty; describe a digit, e.g. 'a bold seven slanted right'")
        if len(p) > MAX_PROMPT_CHARS:
            raise GenlabError(
                f"the prompt is {len(p):,} characters long; keep it under {MAX_PROMPT_CHARS:,} (e.g. 'a thin 4')"
            )
        if not re.search(r"[^\W_]", p):
            raise GenlabError(
                f"the prompt {p[:40]!r} has no letters or digits; describe a digit in English or Russian, e.g. 'a thin 4' or 'тонкая четвёрка'"
            )
        out.append(p)
    return out


def check_count(name: str, value: int, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise GenlabError(f"{name} must be a whole number, got {value!r}")
    if not 1 <= value <= limit:
        raise GenlabError(f"{name} must be between 1 and {limit}, got {value}")
    return int(value)


class UndrawablePrompt(GenlabError):
    """A prompt that names no digit the model can draw; ``prompt`` and ``unknown_words`` for callers that reword it."""

    def __init__(self, prompt: str, unknown_words: list[str]):
        self.prompt, self.unknown_words = prompt, list(unknown_words)
        shown = prompt if len(prompt) <= 60 else prompt[:57] + "..."
        words = ", ".join(unknown_words[:8]) + (", ..." if len(unknown_words) > 8 else "")
        said = f"; words it does not know: {words}" if unknown_words else ""
        super().__init__(
            f"the prompt {shown!r} names no digit this model can draw{said}. It draws handwritten digits 0-9 "
            "(thin/bold, slanted left/right, small/large), e.g. 'a bold seven slanted right' or 'жирная семёрка'"
        )


class TextToImage:
    """Prompts in, digits out: CLIP text tower -> VAE -> GAN refiner (+ CLIP reranking), or diffusion."""

    def __init__(self, recipe: Text2ImageRecipe):
        self.recipe, self.cfg, self.device = recipe, recipe.cfg, recipe.device
        self.clip = recipe.clip
        self.mapper, self.refiner, self.unet = recipe.nets["mapper"], recipe.nets["refiner"], recipe.nets["unet_ema"]

    @classmethod
    def from_runs(cls, run_dir=None, device: str = "cpu") -> TextToImage:
        """Load a text2image run folder (default: the newest one under ./runs or $GENLAB_RUNS)."""
        from genlab.train.engine import load_run

        recipe, _, _ = load_run(run_dir or newest_run(), device=device)
        if recipe.name != Text2ImageRecipe.name:
            raise GenlabError(f"{run_dir} is a '{recipe.name}' run; give a run of 'genlab train text2image'")
        return recipe.pipeline()

    # -- stages -------------------------------------------------------------------------------
    def understands(self, prompts) -> list[dict]:
        """Per prompt: {"ok", "score", "digit", "unknown_words"} (see :meth:`CLIPRecipe.drawable`)."""
        return self.clip.drawable(check_prompts(prompts))

    def check_drawable(self, prompts: list[str]) -> None:
        """Raise :class:`UndrawablePrompt` for the first prompt that names no digit."""
        for p, r in zip(prompts, self.understands(prompts)):
            if not r["ok"]:
                raise UndrawablePrompt(p, r["unknown_words"])

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> torch.Tensor:
        """Stage 1: L2-normalised CLIP text embeddings (P, D)."""
        return self.clip.encode_text(prompts).to(self.device)

    @torch.no_grad()
    def base_images(self, c: torch.Tensor, generator=None, temperature: float | None = None) -> torch.Tensor:
        """Stage 2: VAE images for text embeddings c (N, D)."""
        t = self.cfg.temperature if temperature is None else temperature
        if t < 0:
            raise GenlabError(f"temperature must be >= 0, got {t}")
        return self.mapper.generate(c, generator, t)

    @torch.no_grad()
    def refine(self, base: torch.Tensor) -> torch.Tensor:
        """Stage 3: the GAN refiner."""
        return self.refiner(base)

    @torch.no_grad()
    def diffuse(
        self,
        c: torch.Tensor,
        generator=None,
        guidance: float | None = None,
        steps: int | None = None,
        sampler: str | None = None,
    ) -> torch.Tensor:
        """The diffusion backend: ``sampler`` (deterministic, eta = 0) with classifier-free guidance on the text embedding."""
        w = self.cfg.guidance if guidance is None else guidance
        if w < 0:
            raise GenlabError(f"guidance must be >= 0, got {w}")
        den = Denoiser(self.unet, self.recipe.schedule, self.cfg.prediction, c, w)
        shape = (len(c), self.cfg.channels, self.cfg.image_size, self.cfg.image_size)
        x = diffusion_sample(
            den, shape, generator, sampler or self.cfg.sampler, steps or self.cfg.sample_steps, 0.0, self.device
        )
        return ((x + 1) / 2).clamp(0, 1)

    @torch.no_grad()
    def scores(self, images: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """CLIP cosine similarity of every image to its text embedding (row-wise)."""
        return (self.clip.encode_images(images) * c.cpu()).sum(1)

    # -- the whole system ---------------------------------------------------------------------
    def generate_for(
        self, prompts: list[str], generator=None, backend: str = "vae-gan", temperature=None, guidance=None, steps=None
    ) -> torch.Tensor:
        """One image per prompt (repeats allowed), all randomness from ``generator``: final images."""
        return self._run(self.encode(check_prompts(prompts)), generator, backend, temperature, guidance, steps)[0]

    def _run(self, c, generator, backend, temperature=None, guidance=None, steps=None):
        """(images, base or None) for the text embeddings c, CHUNK at a time."""
        finals, bases = [], []
        for part in c.split(CHUNK):
            if backend == "diffusion":
                finals.append(self.diffuse(part, generator, guidance, steps))
            else:
                bases.append(self.base_images(part, generator, temperature))
                finals.append(self.refine(bases[-1]))
        return torch.cat(finals).cpu(), (torch.cat(bases).cpu() if bases else None)

    def __call__(
        self,
        prompts,
        n: int = 16,
        seed: int = 0,
        candidates: int = 1,
        backend: str = "vae-gan",
        temperature: float | None = None,
        guidance: float | None = None,
        steps: int | None = None,
        check: bool = True,
    ) -> Generation:
        """``n`` images per prompt. ``check`` refuses prompts that name no digit (:meth:`check_drawable`);
        the evaluation turns it off, since it scores the model on prompts that name one by construction."""
        t0 = time.perf_counter()
        prompts = check_prompts(prompts)
        n = check_count("n", n, MAX_IMAGES)
        k = check_count("candidates", candidates, MAX_CANDIDATES)
        if backend not in BACKENDS:
            raise GenlabError(f"backend {backend!r} is unknown; choose one of: {', '.join(BACKENDS)}")
        if check:
            self.check_drawable(prompts)
        emb = self.encode(prompts)
        images, bases, scores = [], [], []
        for c in emb:
            g = torch.Generator().manual_seed(int(seed))  # the same noise for every prompt
            cand = c.expand(n * k, -1)
            final, base = self._run(cand, g, backend, temperature, guidance, steps)
            s = self.scores(final, cand)
            keep = s.argsort(descending=True, stable=True)[:n] if k > 1 else torch.arange(n)
            images.append(final[keep])
            scores.append(s[keep])
            if base is not None:
                bases.append(base[keep])
        index = torch.arange(len(prompts)).repeat_interleave(n)
        return Generation(
            prompts,
            torch.cat(images),
            torch.cat(bases) if bases else None,
            torch.cat(scores),
            index,
            backend,
            time.perf_counter() - t0,
            k,
        )


def newest_run(root=None):
    """The most recently modified text2image run under ``root`` (default ./runs or $GENLAB_RUNS), else
    the pretrained text2image model shipped with genlab."""
    from genlab.config import load_config_yaml
    from genlab.train.runstore import default_runs_dir, list_runs

    def model_of(run) -> str | None:
        try:
            return load_config_yaml(run / "config.yaml")["model"]
        except GenlabError:  # a damaged run folder is not a candidate
            return None

    root = root or default_runs_dir()
    runs = [r for r in list_runs(root) if model_of(r) == Text2ImageRecipe.name]
    if not runs:
        from genlab.zoo.manifest import available, verify

        if Text2ImageRecipe.name in available():  # the pretrained model shipped with genlab
            return verify(Text2ImageRecipe.name)
        raise GenlabError(
            f"no text2image run under {root}; train one with 'genlab train text2image' or pass --model RUN_DIR"
        )
    return runs[-1]
