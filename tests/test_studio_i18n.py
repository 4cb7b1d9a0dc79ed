"""The studio speaks English and Russian through one catalogue (genlab.app.i18n): every message has
both languages with the same placeholders, every key the pages use exists and every catalogue key is
used, the pages hold no user-facing English literal of their own (checked on their syntax trees), and
a switch to Russian leaves no English catalogue text on a page (AppTest)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from genlab.app.i18n import LANGS, LIBRARY_ERRORS, MESSAGES, english_phrases, error_text, t, untranslated

APP = Path(__file__).resolve().parents[1] / "src" / "genlab" / "app"
PAGE_FILES = [
    APP / "studio.py",
    *(APP / f"{name}.py" for name in ("ui", "status", "models", "preprocess")),
    *sorted((APP / "views").glob("*.py")),
]
#: Streamlit calls whose string arguments a user reads (labels, options, captions, messages, titles)
SHOWN = {
    "title",
    "header",
    "subheader",
    "caption",
    "markdown",
    "write",
    "text",
    "info",
    "warning",
    "error",
    "success",
    "exception",
    "button",
    "download_button",
    "slider",
    "select_slider",
    "selectbox",
    "multiselect",
    "radio",
    "checkbox",
    "toggle",
    "text_input",
    "text_area",
    "number_input",
    "file_uploader",
    "camera_input",
    "metric",
    "tabs",
    "expander",
    "spinner",
    "image",
    "Page",
    "set_page_config",
    "progress",
    "toast",
    "popover",
    "GenlabError",
    "DataFrame",
    "RangeIndex",
    "friendly",
}
#: the studio's own helpers: which of their arguments are text (position, keyword)
HELPERS = {"pick_run": (2, "label"), "digit_picker": (1, "label")}
#: keyword arguments that are identifiers, not text
NOT_TEXT = {
    "key",
    "type",
    "mime",
    "file_name",
    "icon",
    "page_icon",
    "layout",
    "width",
    "delta_color",
    "format",
    "label_visibility",
    "run_every",
    "horizontal",
    "axis",
}
#: literals a page may show as they are (file names, formats)
ALLOWED = {"config.yaml", "genlab-text2image.png", "image/png"}
WORD = re.compile(r"[A-Za-z]{3,}")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_has_both_languages_with_the_same_placeholders():
    assert list(LANGS) == ["en", "ru"]
    for key, texts in MESSAGES.items():
        assert len(texts) == len(LANGS) and all(isinstance(x, str) and x.strip() for x in texts), key
        en, ru = texts
        assert fields(en) == fields(ru), (key, fields(en), fields(ru))
        assert en == ru or not re.search("[а-яё]", en, re.I), f"{key}: Cyrillic in the English text"
        words = "".join(literal for literal, *_ in string.Formatter().parse(ru))
        if en != ru and re.search(r"[^\W\d_]{3,}", words):  # a Russian text with words has Russian ones
            assert re.search("[а-яё]", words, re.I), f"{key}: the Russian text has no Russian word"


def test_messages_format_in_both_languages():
    samples = {
        "n": 3,
        "limit": 1000,
        "seconds": 1.5,
        "best": 0.5,
        "mean": 0.4,
        "t": 0.25,
        "beta": 4.0,
        "ms": 12.0,
        "p": 0.5,
        "prob": 0.5,
        "r": 1.0,
        "ret": 200.0,
    }
    for key, (en, _) in MESSAGES.items():
        kw = {name: samples.get(name, "X") for name in fields(en)}
        for lang in LANGS:
            assert t(key, lang, **kw)


def used_keys() -> tuple[set[str], set[str]]:
    """Keys in t("...") calls of the studio's sources; and prefixes of keys built with f-strings."""
    keys, prefixes = set(), set()
    for path in [*PAGE_FILES, APP / "i18n.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    keys.add(arg.value)
                elif isinstance(arg, ast.JoinedStr) and isinstance(arg.values[0], ast.Constant):
                    prefixes.add(arg.values[0].value)
            elif isinstance(node, ast.Constant) and node.value in MESSAGES:  # tables of keys looked up with t(...)
                keys.add(node.value)
    keys |= {key for _, key in LIBRARY_ERRORS}
    return keys, prefixes


def test_every_used_key_exists_and_every_key_is_used():
    keys, prefixes = used_keys()
    assert keys and prefixes
    assert not keys - set(MESSAGES), f"keys missing from the catalogue: {sorted(keys - set(MESSAGES))}"
    unused = [k for k in MESSAGES if k not in keys and not any(k.startswith(p) for p in prefixes)]
    assert not unused, f"catalogue keys no page uses: {unused}"


def shown_literals(node: ast.AST):
    """String literals inside an argument that end up on the page (not dictionary lookups, not t(...) keys)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.JoinedStr):
        for v in node.values:
            if isinstance(v, ast.Constant):
                yield v
    elif isinstance(node, ast.BinOp):
        yield from shown_literals(node.left)
        yield from shown_literals(node.right)
    elif isinstance(node, ast.IfExp):
        yield from shown_literals(node.body)
        yield from shown_literals(node.orelse)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for e in node.elts:
            yield from shown_literals(e)
    elif isinstance(node, ast.Dict):
        for e in [*node.keys, *node.values]:
            if e is not None:
                yield from shown_literals(e)
    elif isinstance(node, ast.Lambda):
        yield from shown_literals(node.body)
    elif isinstance(node, ast.Subscript):
        yield from shown_literals(node.value)
    elif isinstance(node, ast.Call):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("t", "digit_name", "error_text"):
            return
        if name in ("join", "format") and isinstance(getattr(node.func, "value", None), ast.Constant):
            yield from ()  # ", ".join(...): the separator is punctuation
        for a in [*node.args, *(k.value for k in node.keywords)]:
            yield from shown_literals(a)


def english_literals(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name in HELPERS:
            pos, kw = HELPERS[name]
            args = node.args[pos : pos + 1] + [k.value for k in node.keywords if k.arg == kw]
        elif name in SHOWN:
            args = [k.value for k in node.keywords if k.arg not in NOT_TEXT]
            # options shown through format_func are values, not text
            formatted = any(k.arg == "format_func" for k in node.keywords)
            args += [a for i, a in enumerate(node.args) if not (formatted and i == 1)]
        else:
            continue
        for a in args:
            for lit in shown_literals(a):
                if lit.value not in ALLOWED and WORD.search(lit.value):
                    found.append((lit.lineno, lit.value))
    return found


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_hold_no_english_text_of_their_own(path):
    found = english_literals(path.read_text())
    assert not found, f"{path.name}: user-facing literals outside the catalogue: {found}"


def test_the_literal_scan_catches_english():
    bad = 'st.button("Generate")\nst.info(f"No run in {x} yet")\nc1.slider(label="Seed")\nst.radio("x", ["a", "b"], format_func=lambda v: {"a": "Apple"}[v])\n'
    assert [v for _, v in english_literals(bad)] == ["Generate", "No run in ", " yet", "Seed", "Apple"]
    good = 'st.button(t("common.generate"), key="go-button")\nst.image(x, caption=f"x_0 · x_{t}")\n'
    assert english_literals(good) == []


def test_known_library_errors_are_translated():
    cases = [
        "the prompt is empty; describe a digit, e.g. 'a bold seven slanted right'",
        "the prompt is 1,000,000 characters long; keep it under 1,000 (e.g. 'a thin 4')",
        "upload.png has too many pixels; the studio takes images up to 4,096 x 4,096 pixels",
        "x.png is 9.5 MB; the studio takes images up to 8 MB",
        "x.png is not a readable image (UnidentifiedImageError); give a PNG or JPEG file",
        "/etc is outside the folders this studio may read (/runs); start it with 'genlab studio --folder DIR'",
        "the prompt 'a cat' names no digit this model can draw; words it does not know: cat. It draws handwritten digits 0-9 "
        "(thin/bold, slanted left/right, small/large), e.g. 'a bold seven slanted right' or 'жирная семёрка'",
    ]
    for message in cases:
        assert error_text(message, "en") == message
        ru = error_text(message, "ru")
        assert re.search("[а-яё]", ru) and not ru.startswith(t("err.library", "ru", message="")), (message, ru)
    assert error_text("something new", "ru") == t("err.library", "ru", message="something new")


# ----------------------------------------------------------------------------- the pages in Russian (AppTest)
def test_english_phrases_are_found_where_they_are():
    phrases = english_phrases()
    assert "Show the stages" in " ".join(phrases) and len(phrases) > 100


def page_texts(at) -> str:
    """Everything an AppTest page shows as text: labels, options, captions, messages, titles."""
    parts = []
    for kind in (
        "title",
        "caption",
        "markdown",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
        "button",
        "tabs",
        "text_input",
        "text_area",
        "slider",
        "selectbox",
        "radio",
        "checkbox",
        "number_input",
        "metric",
        "expander",
        "multiselect",
    ):
        for el in at.get(kind):
            for attr in ("value", "label", "help", "placeholder", "options"):
                v = getattr(el, attr, None)
                if isinstance(v, str):
                    parts.append(v)
                elif isinstance(v, (list, tuple)):
                    parts += [str(o) for o in v]
    for el in at.get("tab"):
        parts.append(str(getattr(el, "label", "")))
    for el in at.get("imgs"):
        parts += [str(getattr(i, "caption", "")) for i in getattr(el.proto, "imgs", [])]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "name", ["text_to_image", "search", "zero_shot", "latent", "generators", "diffusion", "rl", "fewshot", "runs"]
)
def test_every_page_in_russian_in_an_empty_runs_folder(name, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from genlab.app.settings import environment

    for k, v in environment(tmp_path, train=False).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GENLAB_ZOO", str(tmp_path / "no-zoo"))  # no pretrained models either
    at = AppTest.from_file(str(APP / "studio.py"), default_timeout=120)
    at.query_params["lang"] = "ru"
    at.run()
    assert at.selectbox(key="lang").value == "ru"
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = page_texts(at)
    assert "genlab train" in text and re.search("[а-яё]{4,}", text), text
    assert not untranslated(text), untranslated(text)


def test_the_switch_changes_the_language_and_keeps_it_across_pages(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from genlab.app.settings import environment

    for k, v in environment(tmp_path, train=False).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GENLAB_ZOO", str(tmp_path / "no-zoo"))  # the pages' waiting messages, in both languages
    at = AppTest.from_file(str(APP / "studio.py"), default_timeout=120).run()
    assert at.selectbox(key="lang").value == "en" and at.title[0].value == t("t2i.title", "en")
    at.selectbox(key="lang").set_value("ru").run()
    assert at.title[0].value == t("t2i.title", "ru")
    at.switch_page("views/runs.py").run()
    assert (
        at.title[0].value == t("runs.title", "ru")
        and t("runs.none", "ru", runs=tmp_path).split("`")[0] in at.info[0].value
    )
