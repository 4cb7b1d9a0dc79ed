"""The final project: a text-to-image system for handwritten digits, the inference pipeline.

    prompt -> CLIP text encoder (frozen) -> text embedding -> VAE decoder -> base image
           -> GAN refiner -> final image -> (K candidates) reranked by CLIP image-text similarity

and a second backend for comparison: a text-conditioned diffusion U-Net with classifier-free
guidance on the same text embedding, sampled with DDIM.

The networks are trained by :class:`genlab.pipelines.text2image_recipe.Text2ImageRecipe`
(``genlab train text2image``); a run folder, or the pretrained model, holds all of them, the
tokenizer and the CLIP configuration, and this module loads and runs them.

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

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from genlab.diffusion.fast import FastDenoiser
from genlab.diffusion.samplers import sample as diffusion_sample
from genlab.errors import GenlabError

if TYPE_CHECKING:
    from genlab.pipelines.text2image_recipe import Text2ImageRecipe

MODEL = "text2image"  # the registry name of the recipe whose runs this pipeline loads
BACKENDS = ("vae-gan", "diffusion")
MAX_PROMPT_CHARS = 1000
MAX_IMAGES = 1024  # per prompt and call
MAX_CANDIDATES = 32
CHUNK = 512  # images generated per forward pass


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
        self.mapper, self.refiner = recipe.nets["mapper"], recipe.nets["refiner"]

    @classmethod
    def from_runs(cls, run_dir=None, device: str = "cpu") -> TextToImage:
        """Load a text2image run folder (default: the newest one under ./runs or $GENLAB_RUNS)."""
        from genlab.train.engine import load_run

        recipe, _, _ = load_run(run_dir or newest_run(), device=device)
        if recipe.name != MODEL:
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
        den = FastDenoiser(self.recipe.sampler_net, self.recipe.schedule, self.cfg.prediction, c, w)
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
    runs = [r for r in list_runs(root) if model_of(r) == MODEL]
    if not runs:
        from genlab.zoo.manifest import available, verify

        if MODEL in available():  # the pretrained model shipped with genlab
            return verify(MODEL)
        raise GenlabError(
            f"no text2image run under {root}; train one with 'genlab train text2image' or pass --model RUN_DIR"
        )
    return runs[-1]
