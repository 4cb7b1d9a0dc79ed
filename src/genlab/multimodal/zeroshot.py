"""Zero-shot classification with prompt ensembles, and the metrics of a CLIP model.

Everything here works on L2-normalised features and an ``encode_text(list[str]) -> (N, D)``
function, so it serves our own CLIP and any other image-text model alike.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F

from genlab.data.datasets import MNIST_CLASSES
from genlab.errors import GenlabError
from genlab.multimodal.captions import TEMPLATES, TEMPLATES_RU

#: prompts whose wording the captions never use (a test of free-form text)
PARAPHRASES = [
    "someone scribbled the numeral {} with a pen",
    "a scan of a form showing {}",
    "this is how you write {}",
    "my kid wrote {} on paper",
    "penmanship sample: {}",
]


def successor_prompts(words: list[str] = MNIST_CLASSES) -> list[list[str]]:
    """Class k described only through its neighbours ("the number that comes after six" = seven)."""
    out = []
    for k in range(len(words)):
        p = []
        if k > 0:
            p += [f"the number that comes after {words[k - 1]}", f"one more than {words[k - 1]}"]
        if k + 1 < len(words):
            p += [f"the number right before {words[k + 1]}", f"one less than {words[k + 1]}"]
        out.append(p)
    return out


def check_template(template: str) -> str:
    if template.count("{}") != 1:
        raise GenlabError(
            f"template {template!r} must contain '{{}}' exactly once, where the class name goes (e.g. 'a handwritten {{}}')"
        )
    return template


def is_russian(text: str) -> bool:
    """Has Cyrillic letters."""
    return bool(re.search("[а-яё]", text, re.IGNORECASE))


def default_templates(classes: list[str]) -> list[str]:
    """The Russian prompt ensemble for class names in Cyrillic ("семь" -> "цифра семь"), else the English one."""
    return TEMPLATES_RU if any(is_russian(c) for c in classes) else TEMPLATES


def prompts_for(classes: list[str], templates: list[str] | None = None) -> list[list[str]]:
    """``prompts[c]`` = every template filled with class ``c`` (default: by the language of the class names)."""
    templates = [check_template(t) for t in (templates or default_templates(classes))]
    return [[t.format(c) for t in templates] for c in classes]


def class_embeddings(encode_text, prompts: list[list[str]]) -> torch.Tensor:
    """Prompt ensembling: average the normalised embeddings of each class's prompts, renormalise."""
    flat = [p for ps in prompts for p in ps]
    emb = encode_text(flat)
    out, i = [], 0
    for ps in prompts:
        out.append(emb[i : i + len(ps)].mean(0))
        i += len(ps)
    return F.normalize(torch.stack(out), dim=-1)


def zero_shot_probs(image_features: torch.Tensor, class_emb: torch.Tensor, scale: float) -> torch.Tensor:
    return (scale * image_features @ class_emb.T).softmax(-1)


def accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    return float((probs.argmax(1) == labels).float().mean())


def recall_at_k(image_features: torch.Tensor, text_features: torch.Tensor, ks=(1, 5, 10)) -> dict:
    """Pair i is (image i, text i): is the partner among the top k, both directions?"""
    sim = image_features @ text_features.T
    target = torch.arange(len(sim)).unsqueeze(1)
    out = {}
    for name, s in (("i2t", sim), ("t2i", sim.T)):
        rank = (s > s.gather(1, target)).sum(1)  # how many beat the true partner
        for k in ks:
            out[f"recall@{k}_{name}"] = float((rank < k).float().mean())
    return out


def linear_probe(train_f: torch.Tensor, train_y: torch.Tensor, test_f: torch.Tensor, test_y: torch.Tensor) -> float:
    """Held-out accuracy of a logistic regression on frozen image features."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=2000, C=1.0)
    clf.fit(train_f.numpy(), train_y.numpy())
    return float(clf.score(test_f.numpy(), test_y.numpy()))


def attribute_control(
    image_features: torch.Tensor,
    thickness: torch.Tensor,
    encode_text,
    words=MNIST_CLASSES,
    k: int = 10,
    bold: str = "bold",
    thin: str = "thin",
) -> tuple[int, float]:
    """For each digit: is the mean measured thickness of the top-k images for "a bold N" above that for "a thin N"?

    Returns (how many digits, mean thickness gap in pixels).
    """
    top_b = (image_features @ encode_text([f"a {bold} {w}" for w in words]).T).topk(k, dim=0).indices  # (k, classes)
    top_t = (image_features @ encode_text([f"a {thin} {w}" for w in words]).T).topk(k, dim=0).indices
    diff = (thickness[top_b].mean(0) - thickness[top_t].mean(0)).numpy()
    return int((diff > 0).sum()), float(np.mean(diff))
