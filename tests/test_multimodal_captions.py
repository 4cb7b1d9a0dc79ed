"""Attribute measurements, captions and the tokenizer (no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlab.data import embedded_mnist
from genlab.multimodal.captions import (
    CaptionGenerator,
    Thresholds,
    fit_thresholds,
    ink_size,
    measure,
    slant,
    stroke_thickness,
)
from genlab.multimodal.tokenizer import EOT, UNK, Tokenizer


def bar(width: int, shear: float = 0.0) -> torch.Tensor:
    """A 16-pixel-tall vertical stroke of ``width`` pixels; shear > 0 moves its top to the right."""
    img = torch.zeros(1, 1, 28, 28)
    for r in range(6, 22):
        c = int(round(13 + shear * (14 - r)))
        img[0, 0, r, c : c + width] = 1.0
    return img


def test_thickness_measures_stroke_width():
    t = torch.cat([stroke_thickness(bar(w)) for w in (1, 2, 3, 4)])
    assert torch.all(t[1:] > t[:-1])
    assert abs(t[1] - 2) < 0.4 and abs(t[3] - 4) < 0.8


def test_thicker_digits_measure_thicker():
    x = embedded_mnist().x_test[:200]
    dilated = F.max_pool2d(x, 3, stride=1, padding=1)
    assert (stroke_thickness(dilated) > stroke_thickness(x)).float().mean() > 0.95


def test_slant_sign_and_size():
    assert slant(bar(2, 0.4)) > 0.3 and slant(bar(2, -0.4)) < -0.3 and abs(float(slant(bar(2)))) < 0.05
    x = embedded_mnist().x_test[:100]
    small = F.pad(F.interpolate(x, size=(14, 14), mode="bilinear", antialias=True), (7, 7, 7, 7))
    assert (ink_size(small) < ink_size(x)).all()
    assert set(measure(x)) == {"thickness", "slant", "size"}


def test_thresholds_split_each_class_into_thirds():
    d = embedded_mnist()
    th = fit_thresholds(d.x_train, d.y_train)
    assert isinstance(th, Thresholds) and th.cuts["thickness"].shape == (10, 2)
    lv = th.levels(d.x_train, d.y_train)
    for c in range(10):
        share = np.bincount(lv["thickness"][d.y_train.numpy() == c], minlength=3) / 400
        assert np.all(np.abs(share - 1 / 3) < 0.02)


def test_captions_are_true_varied_and_seeded():
    d = embedded_mnist()
    x, y = d.x_train[:300], d.y_train[:300]
    th = fit_thresholds(d.x_train, d.y_train)
    levels = th.levels(x, y)
    gen = CaptionGenerator()
    caps = gen.captions(y.numpy(), levels, np.random.default_rng(1))
    assert caps == gen.captions(y.numpy(), levels, np.random.default_rng(1))
    assert len(set(caps)) > 150
    for c, label, thick in zip(caps, y.tolist(), levels["thickness"]):
        words = c.replace(",", " ").split()
        assert d.classes[label] in words or str(label) in words, c
        if {"bold", "thick", "heavy", "heavily"} & set(words):
            assert thick == 2, c
        if {"thin", "light", "fine", "lightly"} & set(words):
            assert thick == 0, c
    assert any(str(label) in c.split() for c, label in zip(caps, y.tolist()))  # numerals too
    full = gen.captions(y.numpy(), levels, np.random.default_rng(2), p_attr=1.0)
    assert sum("," in c or len(c.split()) >= 4 for c in full) == len(full)


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train(CaptionGenerator().corpus(), vocab_size=512, max_len=12)


def test_tokenizer_pieces_padding_truncation(tok):
    assert tok.tokens("A handwritten 7") == ["a</w>", "handwritten</w>", "7</w>", EOT]
    ids = tok.encode(["the digit seven, bold and slanted right", "x " * 50, ""])
    assert ids.shape == (3, 12)
    assert (ids == tok.eot_id).sum(1).tolist() == [1, 1, 1]
    assert ids[1, -1] == tok.eot_id and ids[2, 0] == tok.eot_id and (ids[2, 1:] == tok.pad_id).all()


def test_tokenizer_unknown_words_and_json(tok):
    pieces = tok.tokens("the number that comes after six")
    assert UNK not in pieces and "six</w>" in pieces and len(pieces) > 7  # unseen words: sub-word pieces
    assert UNK in tok.tokens("ωmega ✓")
    again = Tokenizer.from_json(tok.to_json())
    texts = ["a bold 3", "tilted left qq", "ünïcode"]
    assert again.encode(texts).equal(tok.encode(texts))
