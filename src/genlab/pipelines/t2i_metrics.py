"""How the text-to-image system is graded, and its pictures.

Every number is measured with genlab's evaluator network (``genlab.metrics``) and the
attribute measurements of the captions (``genlab.multimodal.captions``):

- **match to the text**: share of images for "a handwritten {digit}" (digits as words and as
  numerals) that the evaluator reads as the asked digit;
- **attribute control**: for each digit (word and numeral), "a bold N" vs "a thin N" and
  "an N slanted right" vs "an N slanted left" with the same noise: share of pairs whose mean
  measured stroke thickness / slant moves the asked way, and the mean size of the move
  (``attr_thickness_gap_px`` in pixels of stroke width, ``attr_slant_gap`` in shear units);
- **realism**: evaluator-FID of the refined images vs the VAE base images of the digit prompts
  (and their label accuracy, so the gain is at equal match);
- **diversity**: mean pairwise distance of evaluator features within one prompt, divided by the
  same spread of the real held-out digits of that class; and the number of identical pairs
  (as uint8 images) among the first 16 images of each prompt;
- **speed**: seconds for 16 images of one prompt (median of 5 calls, after a warm-up);
- **reranking**: match and mean CLIP score with K = 1 and K = 4 candidates per image.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from genlab.data.datasets import MNIST_CLASSES

NUMERALS = [str(i) for i in range(10)]


def _an(word: str) -> str:
    return ("an " if word[:1] in ("e", "8") else "a ") + word


def digit_prompts(numerals: bool = False) -> list[str]:
    return [f"a handwritten {w}" for w in (NUMERALS if numerals else MNIST_CLASSES)]


def attribute_pairs() -> list[tuple[str, str, str]]:
    """(attribute, prompt asking more of it, prompt asking less) for every digit, words and numerals."""
    pairs = []
    for names in (MNIST_CLASSES, NUMERALS):
        for w in names:
            pairs.append(("thickness", f"a bold {w}", f"a thin {w}"))
            pairs.append(("slant", f"{_an(w)} slanted right", f"{_an(w)} slanted left"))
    return pairs


def match(images: torch.Tensor, labels: torch.Tensor) -> float:
    from genlab.metrics.evaluator import get_evaluator

    return float((get_evaluator().predict(images) == labels).float().mean())


def feature_spread(feats: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance between rows."""
    d = torch.cdist(feats, feats)
    n = len(feats)
    return float(d.sum() / max(1, n * (n - 1)))


def identical_pairs(images: torch.Tensor) -> int:
    """Pairs of images that are equal as uint8 pictures."""
    from genlab.utils.images import to_uint8

    flat = to_uint8(images).reshape(len(images), -1)
    return len(flat) - len({row.tobytes() for row in flat})


def text_match(t2i, n: int, seed: int, backend: str = "vae-gan", candidates: int = 1) -> dict:
    """Match to the text on the 20 digit prompts; also the images, for realism and diversity."""
    prompts = digit_prompts(False) + digit_prompts(True)
    gen = t2i(prompts, n=n, seed=seed, backend=backend, candidates=candidates, check=False)
    labels = (gen.prompt_index % 10).long()
    words = gen.prompt_index < 10
    return {
        "gen": gen,
        "labels": labels,
        "match": match(gen.images, labels),
        "match_words": match(gen.images[words], labels[words]),
        "match_numerals": match(gen.images[~words], labels[~words]),
        "clip_score": float(gen.scores.mean()),
    }


def attribute_control(t2i, n: int, seed: int, backend: str = "vae-gan") -> dict:
    from genlab.multimodal.captions import measure

    pairs = attribute_pairs()
    prompts = [p for _, hi, lo in pairs for p in (hi, lo)]
    gen = t2i(prompts, n=n, seed=seed, backend=backend, check=False)
    m = measure(gen.images)
    moved, gap = {"thickness": [], "slant": []}, {"thickness": [], "slant": []}
    for i, (attr, _, _) in enumerate(pairs):
        hi = float(m[attr][gen.prompt_index == 2 * i].mean())
        lo = float(m[attr][gen.prompt_index == 2 * i + 1].mean())
        moved[attr].append(hi > lo)
        gap[attr].append(hi - lo)
    both = moved["thickness"] + moved["slant"]
    return {
        "attr_pairs": float(np.mean(both)),
        "attr_thickness_pairs": float(np.mean(moved["thickness"])),
        "attr_slant_pairs": float(np.mean(moved["slant"])),
        "attr_n_pairs": len(both),
        "attr_thickness_gap_px": float(np.mean(gap["thickness"])),
        "attr_slant_gap": float(np.mean(gap["slant"])),
    }


def diversity(gen, labels: torch.Tensor) -> dict:
    """Within-prompt evaluator-feature spread relative to real held-out digits of the same class."""
    from genlab.data.datasets import embedded_mnist
    from genlab.metrics.evaluator import get_evaluator

    ev, data = get_evaluator(), embedded_mnist()
    feats, real = ev.features(gen.images), ev.features(data.x_test)
    ratios, dupes = [], 0
    for i in range(len(gen.prompts)):
        keep = gen.prompt_index == i
        k = int(labels[keep][0])
        ratios.append(feature_spread(feats[keep]) / feature_spread(real[data.y_test == k]))
        dupes += identical_pairs(gen.images[keep][:16])
    return {
        "diversity_ratio": float(np.mean(ratios)),
        "diversity_ratio_min": float(np.min(ratios)),
        "identical_pairs": dupes,
    }


def realism(gen, labels: torch.Tensor) -> dict:
    from genlab.metrics.quality import sample_quality

    out = {}
    stages = [("refined", gen.images)] + ([("base", gen.base)] if gen.base is not None else [])
    for name, images in stages:
        q = sample_quality(images, labels=labels)
        out.update(
            {
                f"fid_{name}": q["fid"],
                f"label_acc_{name}": q["label_acc"],
                f"precision_{name}": q["precision"],
                f"recall_{name}": q["recall"],
            }
        )
        out["fid_floor"] = q["fid_floor"]
    if gen.base is not None:
        out["fid_reduction"] = 1 - out["fid_refined"] / max(out["fid_base"], 1e-9)
    return out


def speed(t2i, backend: str = "vae-gan", n: int = 16, repeats: int = 5) -> float:
    """Median seconds for n images of one prompt (after one warm-up call)."""
    t2i("a bold seven slanted right", n=n, backend=backend, check=False)
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        t2i("a bold seven slanted right", n=n, seed=r, backend=backend, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def evaluate_pipeline(
    t2i, n: int = 20, seed: int = 1, diffusion_n: int = 10, diffusion_attributes: bool = False, rerank_k: int = 4
) -> dict:
    """Every grade of the module docstring for the vae-gan backend; the diffusion backend's match,
    realism, diversity and speed with ``diffusion_n`` images per prompt (0: skip it), and its
    attribute control when ``diffusion_attributes``."""
    out = {}
    tm = text_match(t2i, n, seed)
    out.update({k: v for k, v in tm.items() if k not in ("gen", "labels")})
    out["match_base"] = match(tm["gen"].base, tm["labels"])
    out.update(realism(tm["gen"], tm["labels"]))
    out.update(diversity(tm["gen"], tm["labels"]))
    out.update(attribute_control(t2i, n, seed))
    out["seconds_16"] = speed(t2i)
    if rerank_k > 1:
        rk = text_match(t2i, n, seed, candidates=rerank_k)
        out.update({f"match_k{rerank_k}": rk["match"], f"clip_score_k{rerank_k}": rk["clip_score"]})
    if diffusion_n:
        dm = text_match(t2i, diffusion_n, seed, backend="diffusion")
        out.update(
            {
                "diffusion_match": dm["match"],
                "diffusion_match_words": dm["match_words"],
                "diffusion_match_numerals": dm["match_numerals"],
                "diffusion_clip_score": dm["clip_score"],
            }
        )
        out.update({f"diffusion_{k}": v for k, v in realism(dm["gen"], dm["labels"]).items() if k != "fid_floor"})
        out.update({f"diffusion_{k}": v for k, v in diversity(dm["gen"], dm["labels"]).items()})
        if diffusion_attributes:
            out.update(
                {f"diffusion_{k}": v for k, v in attribute_control(t2i, diffusion_n, seed, backend="diffusion").items()}
            )
        out["diffusion_seconds_16"] = speed(t2i, "diffusion", repeats=2)
    return out


# ----------------------------------------------------------------------------- pictures
def stages_grid(gen, nrow: int = 8) -> np.ndarray:
    """uint8 picture: the base images (left) and the refined ones (right), side by side."""
    from genlab.utils.images import make_grid

    left, right = make_grid(gen.base, nrow=nrow), make_grid(gen.images, nrow=nrow)
    gap = np.full((left.shape[0], 6), 255, np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def stages_figure(t2i, prompts: list[str], path, n: int = 8, seed: int = 0):
    """One row per prompt: VAE base | GAN-refined | diffusion, n images each."""
    import matplotlib.pyplot as plt

    from genlab.utils.images import make_grid
    from genlab.utils.io import save_figure

    vg = t2i(prompts, n=n, seed=seed, check=False)
    df = t2i(prompts, n=n, seed=seed, backend="diffusion", check=False)
    fig, axes = plt.subplots(len(prompts), 3, figsize=(13, 0.95 * len(prompts) + 0.6), squeeze=False)
    for i, p in enumerate(prompts):
        for ax, imgs, title in zip(
            axes[i],
            (vg.for_prompt(i).base, vg.for_prompt(i).images, df.for_prompt(i).images),
            ("VAE base", "GAN refined", "diffusion"),
        ):
            ax.imshow(make_grid(imgs, nrow=n), cmap="gray")
            ax.set_title(f"{p!r} - {title}", fontsize=8, loc="left")
            ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path)
    return path
