"""Held-out prompts for text understanding, written the way people write them.

Never used for training, tuning or calibration: the caption generator
(:mod:`genlab.multimodal.captions`) does not import this file, and ``bench_text2image.py``
checks that none of these prompts is one the generator produces. Every prompt names the
digit it asks for (as a word, an everyday Russian form or a numeral); ``UNDRAWABLE`` name none.
"""

from __future__ import annotations

EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

#: English phrasings absent from the captions; {w} = the digit as a word, {d} = as a numeral
EN_TEMPLATES = [
    "please draw the number {w} for me",
    "can you make a {w}?",
    "I need a picture of a {d}",
    "just a {w}, nothing else",
    "show me what a {w} looks like",
    "a {d} written with a ballpoint pen",
    "sketch of the numeral {w} on a napkin",
    "a kid's handwriting: {w}",
    "generate digit {d} please",
    "the numeral {d}, scribbled quickly",
    "a {w} in messy handwriting",
    "hand-drawn {d}",
    "{w}!!!",
    "A Neatly Handwritten {W}",
    "my favourite number is {w}",
    "a {w} with a little curl",
    "how would you write {d} by hand",
    "a neat {w} on lined paper",
    "an old scanned {d} from a tax form",
    "I'd like a {w}, written in pencil",
]

#: Russian: per digit (numeral word, everyday noun nom., its acc., its gender)
RU_DIGITS = [
    ("ноль", "нолик", "нолик", "m"),
    ("один", "единичка", "единичку", "f"),
    ("два", "двойка", "двойку", "f"),
    ("три", "тройка", "тройку", "f"),
    ("четыре", "четвёрка", "четвёрку", "f"),
    ("пять", "пятёрка", "пятёрку", "f"),
    ("шесть", "шестёрка", "шестёрку", "f"),
    ("семь", "семёрка", "семёрку", "f"),
    ("восемь", "восьмёрка", "восьмёрку", "f"),
    ("девять", "девятка", "девятку", "f"),
]

#: Russian phrasings; {w} numeral word, {d} numeral, {noun}/{acc} the everyday form, {written}: "написанная"/"написанный"
RU_TEMPLATES = [
    "пожалуйста, нарисуй {acc}",
    "покажи, как пишется цифра {w}",
    "хочу увидеть {acc}",
    "сделай рисунок цифры {w}",
    "цифра {d} ручкой на бумаге",
    "детский почерк, цифра {w}",
    "аккуратно выведенная цифра {w}",
    "{Noun}, {written} шариковой ручкой",
    "изобрази {acc} карандашом",
    "Срочно нарисуй {acc}!",
    "сгенерируй изображение с цифрой {w}",
    "как выглядит {noun}?",
    "мне нужна картинка, где {noun}",
    "{noun} от руки, пожалуйста",
    "можешь нарисовать {d}?",
    "{W}, и больше ничего",
]


#: Russian attribute pairs: (attribute, more, less) per digit, two phrasings each
def ru_attribute_pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for w, noun, _, g in RU_DIGITS:
        bold, thin = ("жирный", "тонкий") if g == "m" else ("жирная", "тонкая")
        tilted = "наклонённый" if g == "m" else "наклонённая"
        pairs.append(("thickness", f"{bold} {noun}", f"{thin} {noun}"))
        pairs.append(("thickness", f"толстая цифра {w}", f"тонкая цифра {w}"))
        pairs.append(("slant", f"{noun}, {tilted} вправо", f"{noun}, {tilted} влево"))
        pairs.append(("slant", f"цифра {w} с наклоном вправо", f"цифра {w} с наклоном влево"))
    return pairs


def en_prompts() -> list[tuple[str, int]]:
    """(prompt, digit) for every English template and digit."""
    return [(t.format(w=EN_WORDS[k], W=EN_WORDS[k].capitalize(), d=k), k) for t in EN_TEMPLATES for k in range(10)]


def ru_prompts() -> list[tuple[str, int]]:
    """(prompt, digit) for every Russian template and digit."""
    out = []
    for t in RU_TEMPLATES:
        for k, (w, noun, acc, g) in enumerate(RU_DIGITS):
            text = t.format(
                w=w,
                W=w.capitalize(),
                d=k,
                noun=noun,
                Noun=noun.capitalize(),
                acc=acc,
                written="написанный" if g == "m" else "написанная",
            )
            out.append((text, k))
    return out


#: zero-shot class names as a user types them
RU_CLASSES = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]

#: prompts that name no digit: the system must say so instead of drawing
UNDRAWABLE = [
    "a cat",
    "Красивый закат над океаном",
    "a red sports car",
    "draw me a house with a garden",
    "кошка на диване",
    "the sound of rain",
    "портрет девушки в шляпе",
    "a handwritten letter",
    "банан",
    "sunset over the mountains",
]
