"""Captions derived from the images themselves.

Three attributes are *measured* on every digit (float images (N, 1, H, W) in [0, 1], ink
bright on dark), so a caption like "the digit seven, bold and slanted right" is true of its
image:

- stroke thickness: ``2 * ink mass / ink perimeter`` (a stroke of width w and length L has
  mass ~ wL and perimeter ~ 2L), with the perimeter measured as the total variation
  (:func:`genlab.utils.ink.stroke_thickness`, shared with the CycleGAN's thin / bold domains);
- slant: the second-moment shear ``-cov(x, y) / var(y)`` (positive: the top leans right);
- size: the radius of gyration of the ink, ``sqrt(var(x) + var(y))`` in pixels.

Words come from per-class training-set quantiles (:func:`fit_thresholds`): "bold" means bolder
than two thirds of the training digits of the same class. :class:`CaptionGenerator` turns
labels and attribute levels into many phrasings, numbers as words or numerals, all randomness
from the numpy ``Generator`` it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from genlab.data.datasets import MNIST_CLASSES
from genlab.utils.ink import grey, stroke_thickness

# -- measurements -------------------------------------------------------------------------


def _moments(x: torch.Tensor):
    g = grey(x)
    n, h, w = g.shape
    mass = g.sum((1, 2)).clamp_min(1e-6)
    ys = torch.arange(h, dtype=g.dtype).view(1, h, 1)
    xs = torch.arange(w, dtype=g.dtype).view(1, 1, w)
    my = (g * ys).sum((1, 2)) / mass
    mx = (g * xs).sum((1, 2)) / mass
    dy, dx = ys - my.view(n, 1, 1), xs - mx.view(n, 1, 1)
    vyy = (g * dy * dy).sum((1, 2)) / mass
    vxx = (g * dx * dx).sum((1, 2)) / mass
    vxy = (g * dx * dy).sum((1, 2)) / mass
    return vxx, vyy, vxy


def slant(x: torch.Tensor) -> torch.Tensor:
    """Shear of the ink, ``-cov(x, y) / var(y)`` with y pointing down: > 0 leans right; (N,) float."""
    _, vyy, vxy = _moments(x)
    return -vxy / vyy.clamp_min(1e-6)


def ink_size(x: torch.Tensor) -> torch.Tensor:
    """Radius of gyration of the ink in pixels, ``sqrt(var x + var y)``; (N,) float."""
    vxx, vyy, _ = _moments(x)
    return (vxx + vyy).sqrt()


def measure(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """All three measurements of a batch: {"thickness", "slant", "size"} -> (N,) tensors."""
    return {"thickness": stroke_thickness(x), "slant": slant(x), "size": ink_size(x)}


# -- levels -------------------------------------------------------------------------------

ATTRIBUTES = ("thickness", "slant", "size")
LEVELS = {
    "thickness": ("thin", "regular", "bold"),
    "slant": ("left", "upright", "right"),
    "size": ("small", "medium", "large"),
}
#: quantiles cutting each class into three levels (size: only the outer 30% get a word)
QUANTILES = {"thickness": (1 / 3, 2 / 3), "slant": (1 / 3, 2 / 3), "size": (0.3, 0.7)}


@dataclass
class Thresholds:
    """Per-class cut points: ``cuts[attribute]`` is (n_classes, 2), low and high."""

    cuts: dict[str, np.ndarray]

    def levels(self, x: torch.Tensor, y) -> dict[str, np.ndarray]:
        """Level index 0/1/2 (e.g. thin/regular/bold) of every image for every attribute."""
        y = np.asarray(y, dtype=np.int64)
        m = measure(x)
        out = {}
        for a in ATTRIBUTES:
            v = m[a].numpy()
            c = self.cuts[a][y]
            out[a] = (v > c[:, 0]).astype(np.int64) + (v > c[:, 1]).astype(np.int64)
        return out


def fit_thresholds(x: torch.Tensor, y, n_classes: int | None = None) -> Thresholds:
    """Per-class quantile cut points of the three measurements on a training set."""
    y = np.asarray(y, dtype=np.int64)
    n_classes = n_classes or int(y.max()) + 1
    m = {a: v.numpy() for a, v in measure(x).items()}
    cuts = {}
    for a in ATTRIBUTES:
        c = np.tile(np.quantile(m[a], QUANTILES[a]), (n_classes, 1))  # classes with no examples: global cuts
        for k in range(n_classes):
            if (y == k).sum() >= 3:
                c[k] = np.quantile(m[a][y == k], QUANTILES[a])
        cuts[a] = c
    return Thresholds(cuts)


# -- captions -----------------------------------------------------------------------------
#
# One generator, two languages. An image's label and measured attribute levels become an
# English or a Russian caption, and every caption may then be roughened the way people type:
# request words around it, filler and made-up words inside it, a typo, trailing punctuation.
# Made-up words (random syllables, never a digit's name) teach the text encoder that words it
# does not know carry no digit; :meth:`CaptionGenerator.negatives` builds texts that name no
# digit at all, from the same phrasings with the digit's name replaced or left out.

LANGUAGES = ("en", "ru")

#: (words before the noun, phrases after "the digit seven, ...") for each attribute level
PHRASES = {
    "thickness": {
        "thin": (
            ["thin", "light", "fine", "thin-lined", "skinny"],
            ["thin", "drawn with thin strokes", "written lightly", "with thin lines"],
        ),
        "regular": (["regular", "medium"], ["of regular thickness", "with medium strokes", "with normal lines"]),
        "bold": (
            ["bold", "thick", "heavy", "fat", "thick-lined"],
            ["bold", "drawn with thick strokes", "written heavily", "with thick lines"],
        ),
    },
    "slant": {
        "left": (
            ["left-slanted", "left-leaning", "slanted left", "tilted left"],
            ["slanted left", "leaning to the left", "tilted left", "slanting to the left"],
        ),
        "upright": (
            ["upright", "straight", "vertical"],
            ["upright", "standing straight", "not slanted", "with no slant"],
        ),
        "right": (
            ["right-slanted", "right-leaning", "slanted right", "tilted right"],
            ["slanted right", "leaning to the right", "tilted right", "slanting to the right"],
        ),
    },
    "size": {
        "small": (["small", "little", "tiny", "small-sized"], ["small", "written small", "of small size"]),
        "large": (["large", "big", "huge", "large-sized"], ["large", "written large", "of large size"]),
    },
}
PLAIN = [
    "{a} handwritten {n}",
    "the digit {n}",
    "the number {n}",
    "{a} photo of {a} {n}",
    "{a} picture of the digit {n}",
    "an image of {a} {n}",
    "{n}",
    "{a} {n} written by hand",
    "handwritten {n}",
    "{a} drawing of the number {n}",
    "number {n}",
    "digit {n}",
    "{a} {n}",
    "the numeral {n}",
    "{a} hand-drawn {n}",
    "{a} handwritten digit {n}",
    "{a} scribbled {n}",
    "{a} sketch of {a} {n}",
    "{n} written by hand",
    "{a} digit: {n}",
    "the handwritten number {n}",
]
PREFIX = [
    "{a} {adj} {n}",
    "{a} {adj} handwritten {n}",
    "the {adj} digit {n}",
    "{a} photo of {a} {adj} {n}",
    "an image of {a} {adj} number {n}",
    "{adj} {n}",
    "{a} {adj} number {n}",
    "the {adj} numeral {n}",
    "{a} {adj} hand-drawn {n}",
]
POSTFIX = [
    "the digit {n}, {post}",
    "{a} handwritten {n}, {post}",
    "{n}, {post}",
    "{a} {n} that is {post}",
    "{a} {n} {post}",
    "the number {n} {post}",
    "{n} {post}",
]
#: around a finished caption (English); "{x}" is the caption
REQUESTS = [
    "draw {x}",
    "please draw {x}",
    "draw me {x}",
    "can you draw {x}",
    "show me {x}",
    "generate {x}",
    "make {x}",
    "create {x}",
    "i want {x}",
    "give me {x}",
    "write {x}",
    "i need {x}",
    "paint {x}",
    "sketch {x}",
    "{x}, thanks",
]
#: words people add that say nothing about the digit
FILLER = {
    "en": [
        "very",
        "really",
        "nice",
        "just",
        "simple",
        "clean",
        "quick",
        "pretty",
        "cool",
        "some",
        "good",
        "new",
        "black",
        "white",
        "ink",
        "pen",
        "style",
        "the",
        "of",
        "with",
        "and",
        "in",
        "on",
        "image",
    ],
    "ru": [
        "очень",
        "просто",
        "красиво",
        "хорошо",
        "быстро",
        "новая",
        "чёрная",
        "белый",
        "фон",
        "ручка",
        "стиль",
        "на",
        "с",
        "и",
        "в",
        "по",
        "картинка",
        "ещё",
        "тут",
    ],
}
#: zero-shot prompt ensemble (each a template with one "{}")
TEMPLATES = ["a handwritten {}", "the digit {}", "the number {}", "a photo of a {}", "a picture of the digit {}", "{}"]
TEMPLATES_RU = [
    "рукописная цифра {}",
    "цифра {}",
    "число {}",
    "{}",
    "изображение цифры {}",
    "нарисованная от руки цифра {}",
]

# -- Russian ------------------------------------------------------------------------------
#: digit names as numerals (nominative: "цифра семь", "число семь")
RU_NUMERALS = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
#: everyday names of the digits, with their gender ("жирная семёрка", "жирный ноль")
RU_NOUNS = [
    [("ноль", "m"), ("нолик", "m"), ("нуль", "m")],
    [("единица", "f"), ("единичка", "f")],
    [("двойка", "f")],
    [("тройка", "f")],
    [("четвёрка", "f")],
    [("пятёрка", "f")],
    [("шестёрка", "f")],
    [("семёрка", "f")],
    [("восьмёрка", "f")],
    [("девятка", "f")],
]


def ru_noun(nom: str, gender: str) -> dict[str, str]:
    """nom/acc/gen of the digits' nouns: "семёрка/семёрку/семёрки", "ноль/ноль/ноля", "число/число/числа"."""
    if gender == "f":  # all end in -а
        stem = nom[:-1]
        return {"nom": nom, "acc": stem + "у", "gen": stem + ("и" if stem[-1] in "кгхжшчщ" else "ы")}
    if gender == "n":
        return {"nom": nom, "acc": nom, "gen": nom[:-1] + "а"}
    gen = nom[:-1] + "я" if nom.endswith("ь") else nom + "а"
    return {"nom": nom, "acc": nom, "gen": gen}


@dataclass(frozen=True)
class Adj:
    """A Russian adjective or participle phrase that agrees with its noun: stem + ending (+ tail).

    ``Adj("наклонённ", "ый", " вправо")`` -> "наклонённый вправо", "наклонённая вправо", "наклонённую вправо"...
    """

    stem: str
    masc: str = "ый"  # masculine nominative ending: -ый, -ий or -ой
    tail: str = ""

    def form(self, case: str, gender: str) -> str:
        ending = {
            "nom": {"m": self.masc, "f": "ая", "n": "ое"},
            "acc": {"m": self.masc, "f": "ую", "n": "ое"},
            "gen": {"m": "ого", "f": "ой", "n": "ого"},
        }[case][gender]
        return self.stem + ending + self.tail


_TILT = "наклонённ"
#: per attribute level: (adjectives before the noun, phrases after it: Adj agree, str do not)
RU_PHRASES = {
    "thickness": {
        "thin": (
            [Adj("тонк", "ий")],
            [
                Adj("тонк", "ий"),
                "с тонкими линиями",
                Adj("написанн", "ый", " тонкими штрихами"),
                Adj("написанн", "ый", " тонкой линией"),
            ],
        ),
        "regular": ([], ["средней толщины", "обычной толщины"]),
        "bold": (
            [Adj("жирн"), Adj("толст")],
            [
                Adj("жирн"),
                "с толстыми линиями",
                Adj("написанн", "ый", " толстыми штрихами"),
                Adj("написанн", "ый", " жирно"),
                Adj("написанн", "ый", " толстой линией"),
            ],
        ),
    },
    "slant": {
        "left": (
            [Adj(_TILT, "ый", " влево"), Adj(_TILT, "ый", " налево")],
            [Adj(_TILT, "ый", " влево"), Adj(_TILT, "ый", " налево"), "с наклоном влево", "с наклоном налево"],
        ),
        "upright": (
            [Adj("прям", "ой"), Adj("вертикальн"), Adj("ровн")],
            [Adj("прям", "ой"), "без наклона", "совсем без наклона", Adj("ровн")],
        ),
        "right": (
            [Adj(_TILT, "ый", " вправо"), Adj(_TILT, "ый", " направо")],
            [Adj(_TILT, "ый", " вправо"), Adj(_TILT, "ый", " направо"), "с наклоном вправо", "с наклоном направо"],
        ),
    },
    "size": {
        "small": (
            [Adj("маленьк", "ий"), Adj("мелк", "ий"), Adj("небольш", "ой"), Adj("крошечн")],
            ["маленького размера", "небольшого размера", Adj("написанн", "ый", " мелко")],
        ),
        "large": (
            [Adj("больш", "ой"), Adj("крупн"), Adj("огромн")],
            ["большого размера", "крупного размера", Adj("написанн", "ый", " крупно")],
        ),
    },
}
#: "handwritten" and the like: said of any digit, before or after the noun
RU_HANDWRITTEN = (
    [Adj("рукописн"), Adj("нарисованн"), Adj("написанн", "ый", " от руки")],
    [Adj("написанн", "ый", " от руки"), Adj("нарисованн", "ый", " от руки"), Adj("рукописн")],
)
#: frames by grammatical case of the noun phrase
RU_FRAMES = {
    "nom": ["{x}", "{x}", "{x}", "это {x}", "вот {x}", "на картинке {x}", "{x} на картинке"],
    "acc": [
        "нарисуй {x}",
        "напиши {x}",
        "покажи {x}",
        "изобрази {x}",
        "сгенерируй {x}",
        "нарисуйте {x}",
        "сделай {x}",
        "нарисуй мне {x}",
        "дай {x}",
        "хочу {x}",
        "{x} нарисуй",
    ],
    "gen": ["изображение {x}", "рисунок {x}", "фото {x}", "картинка {x}", "пример {x}", "образец {x}"],
}

# made-up words: random syllables of each language
_SYLLABLES = {"en": ("bcdfghjklmnprstvwz", "aeiouy"), "ru": ("бвгджзклмнпрстфхцчшщ", "аеиоуыэюя")}


def _fix_articles(text: str) -> str:
    """'{a}' -> 'a' or 'an' by the next word ('an eight', 'an 8', 'a bold seven')."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if w == "{a}":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            words[i] = "an" if nxt[:1] in ("a", "e", "i", "o", "u", "8") else "a"
    return " ".join(words)


def _join(items: list[str], conj: str = "and") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _tidy(text: str) -> str:
    """Single spaces, no space before a comma, no comma at either end (after a name was left out)."""
    text = " ".join(text.split()).replace(" ,", ",").replace(",,", ",")
    return text.strip(" ,")


def _pick(rng: np.random.Generator, items):
    return items[rng.integers(len(items))]


class CaptionGenerator:
    """Random captions for (label, attribute levels); ``p_attr`` is the chance to mention each attribute.

    ``languages``: the caption languages, each caption's drawn uniformly ("ru" only for the ten
    digits); ``noise``: the chance of each roughening (request words, filler, a typo, punctuation);
    ``typo_names``: whether a typo may hit the digit's name itself ("sevn").
    """

    def __init__(
        self,
        class_words: list[str] | None = None,
        p_attr: float = 0.5,
        p_numeral: float = 0.5,
        languages: tuple[str, ...] = LANGUAGES,
        noise: float = 0.25,
        typo_names: bool = True,
    ):
        self.words = list(class_words or MNIST_CLASSES)
        digits = self.words == MNIST_CLASSES
        self.numerals = [str(i) for i in range(10)] if digits else self.words
        self.p_attr, self.p_numeral, self.noise = p_attr, p_numeral, noise
        self.languages = tuple(lang for lang in languages if lang == "en" or digits) or ("en",)
        unknown = set(self.languages) - set(LANGUAGES)
        if unknown:
            raise ValueError(f"unknown caption language {sorted(unknown)[0]!r}; choose from {', '.join(LANGUAGES)}")
        self.typo_names = typo_names
        self._names = {w.lower() for w in self.words} | set(RU_NUMERALS) | {"нуль"}
        self._names |= {f for ns in RU_NOUNS for n, g in ns for f in ru_noun(n, g).values()}

    # -- one caption ---------------------------------------------------------------------
    def caption(
        self,
        label: int,
        levels: dict[str, int],
        rng: np.random.Generator,
        p_attr: float | None = None,
        lang: str | None = None,
        noisy: bool = True,
    ) -> str:
        p_attr = self.p_attr if p_attr is None else p_attr
        lang = lang or _pick(rng, self.languages)
        if lang == "ru":
            nums = [RU_NUMERALS[label]] * 3 + [self.numerals[label]] * 2 + (["нуль"] if label == 0 else [])
            text = self._russian(nums, RU_NOUNS[label], levels, rng, p_attr)
        else:
            n = self.numerals[label] if rng.random() < self.p_numeral else self.words[label]
            text = self._english(n, levels, rng, p_attr)
        return self._roughen(text, rng, lang) if noisy else text

    def _english(self, n: str, levels: dict[str, int], rng: np.random.Generator, p_attr: float) -> str:
        chosen = []
        for a in ATTRIBUTES:
            name = LEVELS[a][levels[a]]
            if name in PHRASES[a] and rng.random() < p_attr:
                chosen.append(PHRASES[a][name])
        if not chosen:
            text = _pick(rng, PLAIN).format(a="{a}", n=n)
        elif rng.random() < 0.5:
            order = rng.permutation(len(chosen))
            adj = " ".join(_pick(rng, chosen[i][0]) for i in order)
            text = _pick(rng, PREFIX).format(a="{a}", adj=adj, n=n)
        else:
            post = _join([_pick(rng, c[1]) for c in chosen])
            text = _pick(rng, POSTFIX).format(a="{a}", post=post, n=n)
        return _tidy(_fix_articles(text))

    def _russian(
        self,
        nums: list[str],
        nouns: list[tuple[str, str]],
        levels: dict[str, int],
        rng: np.random.Generator,
        p_attr: float,
    ) -> str:
        chosen = [
            RU_PHRASES[a][LEVELS[a][levels[a]]]
            for a in ATTRIBUTES
            if LEVELS[a][levels[a]] in RU_PHRASES[a] and rng.random() < p_attr
        ]
        if rng.random() < 0.25:
            chosen.append(RU_HANDWRITTEN)
        head = rng.random()
        if not chosen and head > 0.75:  # the name alone, or "число семь": no adjectives
            case = _pick(rng, ("nom", "nom", "acc"))
            num = _pick(rng, nums)
            return _tidy(
                _pick(rng, RU_FRAMES[case]).format(x=num if head > 0.88 else f"{ru_noun('число', 'n')[case]} {num}")
            )
        if head < 0.5:
            noun, gender = _pick(rng, nouns)
            forms, after = ru_noun(noun, gender), ""
        else:
            forms, gender, after = ru_noun("цифра", "f"), "f", " " + _pick(rng, nums)
        case = _pick(rng, ("nom", "nom", "acc", "acc", "gen"))
        pre, post = [], []
        for before, behind in chosen:
            if before and (not behind or rng.random() < 0.5):
                pre.append(_pick(rng, before))
            else:
                post.append(_pick(rng, behind))
        words = [p.form(case, gender) for p in (pre[i] for i in rng.permutation(len(pre)))]
        np_ = " ".join(words + [forms[case] + after])
        if post:
            parts = [p.form(case, gender) if isinstance(p, Adj) else p for p in post]
            plain = all(isinstance(p, str) for p in post)
            np_ += (" " if plain and rng.random() < 0.5 else ", ") + _join(parts, "и")
        return _tidy(_pick(rng, RU_FRAMES[case]).format(x=np_))

    # -- roughening ----------------------------------------------------------------------
    def pseudo_word(self, rng: np.random.Generator, lang: str = "en") -> str:
        """A made-up word of 1-4 random syllables, never a digit's name."""
        cons, vows = _SYLLABLES[lang]
        while True:
            w = "".join(_pick(rng, cons) + _pick(rng, vows) for _ in range(rng.integers(1, 5)))
            if rng.random() < 0.5:
                w += _pick(rng, cons)
            if len(w) > 1 and not any(n in w for n in self._names if len(n) >= 3):
                return w

    def _typo(self, word: str, rng: np.random.Generator, lang: str) -> str:
        """One edit: a letter dropped, doubled, swapped with the next, or replaced."""
        i = int(rng.integers(len(word) - 1))
        kind = rng.integers(4)
        if kind == 0:
            return word[:i] + word[i + 1 :]
        if kind == 1:
            return word[: i + 1] + word[i:]
        if kind == 2:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        letters = "".join(_SYLLABLES[lang])
        return word[:i] + _pick(rng, letters) + word[i + 1 :]

    def _roughen(self, text: str, rng: np.random.Generator, lang: str) -> str:
        p = self.noise
        if lang == "en" and rng.random() < p:
            text = _fix_articles(_pick(rng, REQUESTS).format(x=text))
        words = text.split(" ")
        if rng.random() < p:
            for _ in range(rng.integers(1, 3)):
                extra = self.pseudo_word(rng, lang) if rng.random() < 0.5 else _pick(rng, FILLER[lang])
                words.insert(int(rng.integers(len(words) + 1)), extra)
        if rng.random() < p / 2:
            long = [
                i
                for i, w in enumerate(words)
                if len(w) >= 4 and w.isalpha() and (self.typo_names or w.lower() not in self._names)
            ]
            if long:
                i = _pick(rng, long)
                words[i] = self._typo(words[i], rng, lang)
        text = " ".join(words)
        if rng.random() < p / 2:
            text += _pick(rng, (".", "!", "?", "!!"))
        return text

    # -- batches, negatives, the corpus --------------------------------------------------
    def captions(
        self,
        labels,
        levels: dict[str, np.ndarray],
        rng: np.random.Generator,
        p_attr: float | None = None,
        lang: str | None = None,
    ) -> list[str]:
        """One caption per image; ``levels`` as returned by :meth:`Thresholds.levels`."""
        labels = np.asarray(labels).tolist()
        return [
            self.caption(int(c), {a: int(levels[a][i]) for a in ATTRIBUTES}, rng, p_attr, lang)
            for i, c in enumerate(labels)
        ]

    def negative(self, rng: np.random.Generator, lang: str | None = None) -> str:
        """A text in the captions' style that names no digit: the name made up, left out, or only made-up words."""
        lang = lang or _pick(rng, self.languages)
        levels = {a: int(rng.integers(3)) for a in ATTRIBUTES}
        r = rng.random()
        if r < 0.2:
            text = " ".join(
                self.pseudo_word(rng, lang) if rng.random() < 0.7 else _pick(rng, FILLER[lang])
                for _ in range(rng.integers(1, 6))
            )
        elif lang == "ru":
            fake = self.pseudo_word(rng, "ru")
            nums = [fake] if r < 0.6 else [""]
            nouns = [(fake + "ка", "f"), (fake.rstrip("аеиоуыэюя") or fake + "н", "m")] if r < 0.6 else [("цифра", "f")]
            text = self._russian(nums, nouns, levels, rng, self.p_attr)
        else:
            text = self._english(self.pseudo_word(rng, "en") if r < 0.6 else "", levels, rng, self.p_attr)
        return self._roughen(_tidy(text), rng, lang) or self.pseudo_word(rng, lang)

    def negatives(self, n: int, rng: np.random.Generator) -> list[str]:
        return [self.negative(rng) for _ in range(n)]

    def class_prompts(self, label: int) -> list[str]:
        """Plain prompts for one class in every language (the prototypes a prompt is compared with)."""
        out = [t.format(w) for t in TEMPLATES for w in dict.fromkeys((self.words[label], self.numerals[label]))]
        if "ru" in self.languages:
            out += [t.format(w) for t in TEMPLATES_RU for w in (RU_NUMERALS[label], str(label))]
            out += [n for n, _ in RU_NOUNS[label]]
        return out

    def corpus(self) -> list[str]:
        """Every word and phrase the generator can produce, without made-up words (for training a tokenizer)."""
        rng = np.random.default_rng(0)
        texts = (
            [t.format(a="a", n="", adj="", post="", x="") for t in PLAIN + PREFIX + POSTFIX + REQUESTS]
            + self.words
            + self.numerals
        )
        texts += [p for levels in PHRASES.values() for pre, post in levels.values() for p in pre + post]
        texts += [w for ws in FILLER.values() for w in ws] + TEMPLATES + TEMPLATES_RU + list(".,!?:-'")
        for lang in self.languages:
            for label in range(len(self.words)):
                for lv in np.ndindex(3, 3, 3):
                    levels = dict(zip(ATTRIBUTES, lv))
                    texts += [
                        self.caption(label, levels, rng, p, lang, noisy=False)
                        for p in (0.0, 0.5, 1.0)
                        for _ in range(4)
                    ]
        if "ru" in self.languages:
            texts += RU_NUMERALS + [
                f.form(c, g)
                for lv in RU_PHRASES.values()
                for pre, post in lv.values()
                for f in pre + post + RU_HANDWRITTEN[0]
                if isinstance(f, Adj)
                for c in ("nom", "acc", "gen")
                for g in "mfn"
            ]
            texts += [v for ns in RU_NOUNS for n, g in ns for v in ru_noun(n, g).values()]
            texts += [t.format(x="") for ts in RU_FRAMES.values() for t in ts]
        return texts
