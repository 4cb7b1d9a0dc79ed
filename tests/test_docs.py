"""The docs teach with commands and figures that work: every `genlab ...` command quoted in the
README and docs/ parses with the real CLI (models, presets and --set keys included), every image
they link exists, the rendered guides are their templates filled from figures.json, and
docs/make_figures.py runs end to end on one chapter at the smoke-test budget."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

from genlab.cli import build_parser
from genlab.config import parse_set_args
from genlab.errors import GenlabError
from genlab.registry import get_recipe
from genlab.train.engine import build_config

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKDOWN = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def load_make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", DOCS / "make_figures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def genlab_commands(text: str) -> list[list[str]]:
    """argv (after 'genlab') of every genlab command in the shell code blocks of a markdown text."""
    out = []
    for lang, body in FENCE.findall(text):
        if lang not in ("", "bash", "sh", "shell", "console"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            for part in re.split(r"&&|;|\|\|?", line):
                words = shlex.split(part, comments=True)
                for i, w in enumerate(words):  # genlab ..., python -m genlab ..., torchrun ... -m genlab ...
                    if w == "genlab" and (i == 0 or words[i - 1] == "-m"):
                        out.append(words[i + 1 :])
                        break
    return out


def check_command(argv: list[str]) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"'genlab {shlex.join(argv)}' does not parse")
    if args.command == "train":  # the model, its preset and every --set key must exist
        try:
            build_config(get_recipe(args.model), args.preset, parse_set_args(args.set))
        except GenlabError as e:
            pytest.fail(f"'genlab {shlex.join(argv)}': {e}")


def test_every_quoted_command_parses():
    seen = 0
    for md in MARKDOWN:
        for argv in genlab_commands(md.read_text()):
            check_command(argv)
            seen += 1
    assert seen >= 60  # the README and eight guides quote many commands; finding none means the scan broke


def test_the_scan_catches_bad_commands():
    bad = "```bash\ngenlab train vae --preset nope\n```\n"
    assert genlab_commands(bad) == [["train", "vae", "--preset", "nope"]]
    with pytest.raises(pytest.fail.Exception):
        check_command(["train", "vae", "--preset", "nope"])
    with pytest.raises(pytest.fail.Exception):
        check_command(["sample", "runs/vae", "--n", "4"])  # --out is required
    with pytest.raises(pytest.fail.Exception):
        check_command(["train", "maml", "--set", "no_such_field=1"])


def test_every_linked_image_exists():
    links = 0
    for md in MARKDOWN:
        if DOCS / "templates" in md.parents:
            continue  # their links are checked in the guides rendered from them
        base = md.parent
        for link in IMAGE.findall(md.read_text()):
            if not link.startswith("http"):
                assert (base / link).is_file(), f"{md.relative_to(ROOT)} links a missing image: {link}"
                links += 1
    assert links >= 10


def test_guides_are_their_templates_filled_from_figures_json():
    mf = load_make_figures()
    figures = json.loads((DOCS / "figures" / "figures.json").read_text())
    for lang in mf.LANGS:
        rendered = {
            key: mf.guide_path(key, lang) for key in mf.CHAPTERS if (DOCS / mf.guide_path(key, lang)[1]).is_file()
        }
        assert rendered, f"no rendered {lang} guide: run python docs/make_figures.py --render-only"
        for key, (template, target) in rendered.items():
            assert key in figures, f"{target} exists but figures.json has no chapter {key}"
            guide = (DOCS / target).read_text()
            assert "{{" not in guide and "}}" not in guide, f"{target} has an unfilled placeholder"
            text, missing = mf.render(template.read_text(), mf.chapter_numbers(figures, key, lang), lang)
            assert not missing, f"{target}: figures.json has no number for {missing}"
            assert guide.split("\n", 1)[1] == text, f"{target} is stale: run python docs/make_figures.py --render-only"


# ----------------------------------------------------------------------------- the Russian guides
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def code_blocks(text: str) -> list[str]:
    """Every fenced block's lines without comments (a comment may be translated, the code may not)."""
    out = []
    for _, body in FENCE.findall(text):
        lines = [re.sub(r"(^|\s+)#(?![!\]]).*$", "", line).rstrip() for line in body.splitlines()]
        out.append("\n".join(line for line in lines if line))
    return out


def figure_targets(md: Path) -> set[Path]:
    """The figures (docs/figures/...) a guide shows; screenshots may be of the studio in the guide's language."""
    return {(md.parent / link).resolve() for link in IMAGE.findall(md.read_text()) if "figures/" in link}


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text.split("\n", 1)[1]))


@pytest.mark.parametrize("key", ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "final"])
def test_every_guide_has_a_russian_twin_with_the_same_commands_figures_and_numbers(key):
    mf = load_make_figures()
    en, ru = DOCS / mf.guide_path(key, "en")[1], DOCS / mf.guide_path(key, "ru")[1]
    assert ru.is_file(), (
        f"{ru.relative_to(ROOT)} is missing: write docs/templates/ru/{en.name}, then make_figures.py --render-only"
    )
    en_text, ru_text = en.read_text(), ru.read_text()
    assert code_blocks(en_text) == code_blocks(ru_text), (
        f"{ru.name}: its commands or code differ from the English guide"
    )
    assert figure_targets(en) == figure_targets(ru) and figure_targets(en), (
        f"{ru.name}: other figures than the English guide"
    )
    assert numbers(en_text) == numbers(ru_text), (
        f"{ru.name}: numbers only in English {sorted(numbers(en_text) - numbers(ru_text))}, "
        f"only in Russian {sorted(numbers(ru_text) - numbers(en_text))}"
    )
    assert len(re.findall("[а-яё]", ru_text, re.I)) > len(ru_text) / 4, f"{ru.name} is not mostly Russian"
    links = re.findall(r"\]\(([^)#\s]+\.md)", ru_text)
    assert all((ru.parent / link).is_file() for link in links), f"{ru.name} links a missing page: {links}"


def test_the_comparison_catches_a_changed_number_or_command():
    en = "x\nThe loss is 0.123 after 1,000 steps.\n```bash\ngenlab train ae  # quick\n```\n"
    ru = "x\nПотери 0.124 после 1,000 шагов.\n```bash\ngenlab train ae  # быстро\n```\n"
    assert numbers(en) - numbers(ru) == {"0.123"}
    assert code_blocks(en) == code_blocks(ru)
    assert code_blocks(en) != code_blocks(ru.replace("train ae", "train vae"))


def test_conditional_sections_follow_the_numbers():
    mf = load_make_figures()
    t = "a{{#if x.p}} P {{x.v}}{{else}} N{{/if}}{{#if y}} Y{{/if}}."
    assert mf.render(t, {"x": {"p": True, "v": 3}}) == ("a P 3.", [])
    assert mf.render(t, {"x": {"p": False}, "y": 1}) == ("a N Y.", [])
    assert mf.render(t, {}) == ("a N.", [])  # an absent number counts as false


def test_make_figures_runs_one_chapter_end_to_end(tmp_path):
    mf = load_make_figures()
    docs = tmp_path / "docs"
    rc = mf.main(["--only", "5.1", "--budget", "small", "--runs", str(tmp_path / "runs"), "--docs", str(docs)])
    assert rc == 0
    figures = json.loads((docs / "figures" / "figures.json").read_text())
    assert figures["5.1"]["ae"]["steps"] == 20 and figures["5.1"]["ae"]["recon_mse"] > 0
    guide = (docs / "chapters" / "5.1-autoencoders.md").read_text()
    assert "{{" not in guide
    for link in IMAGE.findall(guide):
        assert (docs / "chapters" / link).is_file(), link
    # a second call reuses the finished runs (no training) and gives the same numbers
    rc = mf.main(["--only", "5.1", "--budget", "small", "--runs", str(tmp_path / "runs"), "--docs", str(docs)])
    assert rc == 0
    again = json.loads((docs / "figures" / "figures.json").read_text())
    assert again["5.1"]["ae"]["recon_mse"] == figures["5.1"]["ae"]["recon_mse"]


def test_the_zoo_budget_takes_a_pretrained_model_and_its_manifest_numbers(tmp_path, monkeypatch):
    """A zoo holding 'ae' (a tiny one, built here): the zoo budget uses pretrained:ae with the
    manifest's metrics; another configuration of the model (the book preset) is not the zoo's."""
    import numpy as np

    from genlab.zoo import build as zbuild
    from genlab.zoo.manifest import entry

    rng = np.random.default_rng(0)
    x = (rng.random((96, 28, 28)) > 0.8).astype(np.float32)
    np.savez(tmp_path / "blobs.npz", x_train=x[:64], y_train=np.zeros(64, int), x_test=x[64:], y_test=np.zeros(32, int))
    spec = zbuild.ZooSpec(
        "ae",
        {"kind": "reconstruction", "metric": "recon_mse", "abs": 1e-4, "rel": 0.05},
        overrides={
            "data": str(tmp_path / "blobs.npz"),
            "arch": "mlp",
            "hidden": "32",
            "latent_dim": "4",
            "batch_size": "16",
            "eval_samples": "0",
        },
    )
    zbuild.build(["ae"], root=tmp_path / "zoo", steps=5, specs={"ae": spec}, log=lambda s: None)
    monkeypatch.setenv("GENLAB_ZOO", str(tmp_path / "zoo"))
    mf = load_make_figures()
    c = mf.Chapter("5.1", "zoo", tmp_path / "runs", tmp_path / "docs")
    assert c.train("ae", "ae") == "pretrained:ae" and c.pretrained("ae")
    e = entry("ae")
    assert c.nums["ae"]["recon_mse"] == e["metrics"]["recon_mse"] and c.nums["ae"]["steps"] == 5
    assert "pretrained:ae" in c.nums["ae"]["budget_note"] and not (tmp_path / "runs").exists()  # nothing trained
    assert c.zoo_model("ae", ["--preset", "book"]) is None and c.zoo_model("vae", []) is None
    assert mf.Chapter("5.1", "small", tmp_path / "runs", tmp_path / "docs").zoo_model("ae", []) is None
    # a pretrained model's guide shows no training curve (it has none)
    template = (DOCS / "templates" / "5.1-autoencoders.md").read_text()
    assert "ae_curves.png" in mf.render(template, {"ae": {"pretrained": False}})[0]
    assert "ae_curves.png" not in mf.render(template, {"ae": {"pretrained": True}})[0]
