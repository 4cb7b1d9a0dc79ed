"""Attribute measurements, captions and the tokenizer (no training)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlab.data import embedded_mnist
from genlab.multimodal.captions import (
    ATTRIBUTES,
    RU_NOUNS,
    RU_NUMERALS,
    RU_PHRASES,
    Adj,
    CaptionGenerator,
    Thresholds,
    fit_thresholds,
    ink_size,
    measure,
    ru_noun,
    slant,
)
from genlab.multimodal.tokenizer import EOT, UNK, Tokenizer, pre_tokenize
from genlab.utils.ink import stroke_thickness


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


def test_thickness_hardly_depends_on_the_stroke_direction():
    """The perimeter is the Euclidean total variation: an anti-aliased bar 3 px wide measures within 20%
    at 0, 22.5 and 45 degrees (|dx| + |dy| would call the diagonal one 30% thinner)."""

    def rotated_bar(angle: float, width: float = 3.0, s: int = 8) -> torch.Tensor:
        c = (torch.arange(56 * s) + 0.5) / s - 28
        yy, xx = torch.meshgrid(c, c, indexing="ij")
        a = np.deg2rad(angle)
        u, v = xx * np.cos(a) + yy * np.sin(a), yy * np.cos(a) - xx * np.sin(a)
        return F.avg_pool2d(((u.abs() < 15) & (v.abs() < width / 2)).float()[None, None], s)

    t = torch.cat([stroke_thickness(rotated_bar(a)) for a in (0, 22.5, 45)])
    assert float(t.min()) > 0.8 * float(t.max()), t


def test_one_thickness_measure_for_captions_and_the_cyclegan_domains():
    from genlab.gans import strokes
    from genlab.multimodal import captions

    assert captions.stroke_thickness is strokes.stroke_thickness is stroke_thickness


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
    gen = CaptionGenerator(languages=("en",), noise=0.0)
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
    assert sum("," in c or len(c.split()) >= 3 for c in full) == len(full)


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


# -- Russian ------------------------------------------------------------------------------


def test_russian_grammar_agrees_in_gender_and_case():
    assert [Adj("жирн").form(c, "f") for c in ("nom", "acc", "gen")] == ["жирная", "жирную", "жирной"]
    assert [Adj("тонк", "ий").form(c, "m") for c in ("nom", "acc", "gen")] == ["тонкий", "тонкий", "тонкого"]
    assert Adj("больш", "ой").form("gen", "f") == "большой" and Adj("больш", "ой").form("nom", "n") == "большое"
    assert Adj("наклонённ", "ый", " вправо").form("nom", "f") == "наклонённая вправо"
    assert ru_noun("семёрка", "f") == {"nom": "семёрка", "acc": "семёрку", "gen": "семёрки"}
    assert ru_noun("единица", "f")["gen"] == "единицы" and ru_noun("цифра", "f")["acc"] == "цифру"
    assert (
        ru_noun("ноль", "m") == {"nom": "ноль", "acc": "ноль", "gen": "ноля"}
        and ru_noun("нолик", "m")["gen"] == "нолика"
    )


def _agreeing_words() -> dict[str, set]:
    """Every form of every agreeing word of the Russian captions -> the (case, gender) pairs it can express."""
    out: dict[str, set] = {}
    adjectives = {
        a for lv in RU_PHRASES.values() for pre, post in lv.values() for a in pre + post if isinstance(a, Adj)
    }
    for a in adjectives:
        for case in ("nom", "acc", "gen"):
            for g in "mfn":
                out.setdefault(a.form(case, g).split(" ")[0], set()).add((case, g))
    return out


def _nouns() -> dict[str, set]:
    out: dict[str, set] = {}
    for noun, g in [n for ns in RU_NOUNS for n in ns] + [("цифра", "f"), ("число", "n")]:
        for case, form in ru_noun(noun, g).items():
            out.setdefault(form, set()).add((case, g))
    return out


def test_russian_captions_are_true_agree_and_cover_every_digit_and_level():
    gen = CaptionGenerator(languages=("ru",), p_attr=1.0)
    rng = np.random.default_rng(0)
    adjectives, nouns = _agreeing_words(), _nouns()
    invariant = {p for lv in RU_PHRASES.values() for _, post in lv.values() for p in post if isinstance(p, str)}
    invariant |= {
        p.tail for lv in RU_PHRASES.values() for _, post in lv.values() for p in post if isinstance(p, Adj) and p.tail
    }
    said = set()
    for label in range(10):
        names = {RU_NUMERALS[label], str(label)} | {v for n, g in RU_NOUNS[label] for v in ru_noun(n, g).values()}
        names |= {"нуль"} if label == 0 else set()
        for lv in np.ndindex(3, 3, 3):
            for _ in range(4):
                c = gen.caption(label, dict(zip(ATTRIBUTES, lv)), rng, noisy=False)
                words = c.replace(",", " ").split()
                assert names & set(words), c  # names its digit
                padded = f" {c} "
                for fixed in invariant:
                    c = c.replace(fixed, "")
                words = c.replace(",", " ").split()
                heads = [nouns[w] for w in words if w in nouns]
                for w in words:  # every adjective and participle agrees with the noun in case and gender
                    if w in adjectives and heads:
                        assert adjectives[w] & heads[0], (c, w)
                for stems, attr, level in (
                    ((" жирн", " толст"), 0, 2),
                    ((" тонк",), 0, 0),
                    (("влево", "налево"), 1, 0),
                    (("вправо", "направо"), 1, 2),
                    ((" маленьк", " мелк", " небольш", " крошечн"), 2, 0),
                    ((" больш", " крупн", " огромн"), 2, 2),
                ):
                    if any(s in padded for s in stems):
                        assert lv[attr] == level, c  # what it says is true of the measured level
                        said.add((attr, level))
                said |= {(label, "digit")}
    assert len(said) == 6 + 10


def test_russian_everyday_names_and_phrasings_appear():
    gen = CaptionGenerator(languages=("ru",))
    rng = np.random.default_rng(3)
    caps = [gen.caption(k % 10, {"thickness": 2, "slant": 2, "size": 1}, rng, p_attr=0.5) for k in range(4000)]
    text = " ".join(caps)
    for w in ("семёрк", "тройк", "ноль", "нолик", "единиц", "единичк", "жирн", "вправо", "нарисуй", "цифру", "цифры"):
        assert w in text, w
    assert any("жирная семёрка" in c for c in caps) and any("цифра семь, наклонённая вправо" in c for c in caps)
    assert len(set(caps)) > 2000


def test_negatives_name_no_digit_and_captions_are_bilingual():
    gen = CaptionGenerator()
    rng = np.random.default_rng(0)
    names = {gen.words[k] for k in range(10)} | set(RU_NUMERALS) | {"нуль"}
    names |= {v for ns in RU_NOUNS for n, g in ns for v in ru_noun(n, g).values()}
    names = {pre_tokenize(n)[0] for n in names}
    for text in gen.negatives(500, rng):
        words = set(pre_tokenize(text))
        assert not (words & names) and not any(w.isdigit() for w in words), text
    caps = gen.captions(np.arange(400) % 10, {a: np.ones(400, int) for a in ATTRIBUTES}, rng)
    ru = sum(any("а" <= ch <= "я" for ch in c.lower()) for c in caps)
    assert 150 < ru < 250  # about half Russian


def test_tokenizer_reads_cyrillic_and_normalises(tok):
    assert tok.tokens("Нарисуй СЕМЁРКУ") == tok.tokens("нарисуй семерку")
    assert UNK not in tok.tokens("Съешь же ещё этих мягких французских булок, да выпей чаю")
    assert UNK not in tok.tokens("the quick brown fox jumps over the lazy dog")
    assert tok.encode(["жирная семёрка"]).equal(tok.encode(["Жирная Семерка"]))
    assert tok.unknown_words("Красивый закат над океаном") == ["красивый", "закат", "над", "океаном"]
    assert tok.unknown_words("a cat") == ["cat"] and tok.unknown_words("жирная семёрка, 7!") == []
    assert Tokenizer.from_json(tok.to_json()).words == tok.words
