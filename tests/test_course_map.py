"""The course map covers the course: every heading, exercise and practical-results item of the course
text (../shared/seed/course_block5.md when it is beside the repository, else the shipped outline
docs/course_outline.txt) has a row in both maps, with a command that parses, a module that exists and
a guide that exists; the rendered maps and the shipped outline are current."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
COURSE = ROOT.parent / "shared" / "seed" / "course_block5.md"
MAPS = [DOCS / "course-map.md", DOCS / "ru" / "course-map.md"]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def course_outline() -> list[str]:
    """The course's outline: from the course text when it is here, else the shipped copy."""
    if COURSE.is_file():
        return load("course_outline").outline(COURSE.read_text(encoding="utf-8"))
    return (DOCS / "course_outline.txt").read_text(encoding="utf-8").splitlines()


def rows(md: Path) -> list[list[str]]:
    """The cells of every table row (header and separator rows left out)."""
    out = []
    for line in md.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not cells[0].startswith(("Course text", "Текст курса")):
                out.append(cells)
    return out


def test_the_outline_finds_the_exercises_and_results():
    outline = course_outline()
    assert "#### Задание 1: Реализация классического автоэнкодера" in outline
    assert "### Задание: Создание мультимодальной генеративной системы" in outline
    assert "- Генерация реалистичных лиц" in outline
    assert (
        sum(line.startswith("- ") for line in outline) == 28
        and sum(line == "### Практические результаты" for line in outline) == 7
    )


def test_the_shipped_outline_is_the_course_texts():
    if not COURSE.is_file():
        pytest.skip(f"{COURSE} is not beside this clone; the shipped outline stands in for it")
    shipped = (DOCS / "course_outline.txt").read_text(encoding="utf-8").splitlines()
    assert shipped == course_outline(), (
        "docs/course_outline.txt is stale: python docs/course_outline.py > docs/course_outline.txt"
    )


@pytest.mark.parametrize("md", MAPS, ids=["en", "ru"])
def test_every_course_item_has_a_row_in_order(md):
    course_items = [line.split(" ", 1)[1] for line in course_outline()]
    first_cells = [r[0] for r in rows(md)]
    assert len(first_cells) == len(course_items), (len(first_cells), len(course_items))
    for item, cell in zip(course_items, first_cells):
        assert item.replace("|", "\\|") in cell, f"{md.name}: the course's {item!r} is not mapped (row: {cell!r})"


@pytest.mark.parametrize("md", MAPS, ids=["en", "ru"])
def test_every_row_names_what_implements_it_or_why_not(md):
    for cells in rows(md):
        item, cmd, module, guide, note = cells
        assert guide != "—" or note, f"{md.name}: {item} has no guide section and no note saying why"
        if item.startswith("✅") or "Задание" in item:  # exercises and practical results: something to run
            assert cmd.startswith("`") and module.startswith("`"), f"{md.name}: {item} has no command or module"


@pytest.mark.parametrize("md", MAPS, ids=["en", "ru"])
def test_commands_parse_modules_exist_links_resolve(md):
    from test_docs import check_command

    seen = 0
    for item, cmd, module, guide, note in rows(md):
        for code in re.findall(r"`([^`]+)`", cmd):
            words = shlex.split(code.replace("\\|", "|"))
            if words[0] == "genlab":
                check_command(words[1:])
                seen += 1
        for name in re.findall(r"`(genlab[\w.]*)`", module):
            path = ROOT / "src" / Path(*name.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), f"{md.name}: no module {name}"
        for link in re.findall(r"\]\(([^)]+)\)", guide + note):
            assert (md.parent / link).is_file(), f"{md.name}: {item} links a missing guide {link}"
    assert seen > 50


def test_the_departures_are_said():
    en, ru = (m.read_text(encoding="utf-8") for m in MAPS)
    for text in (en, ru):
        assert "Красивый закат над океаном" in text and "MNIST" in text and "Omniglot" in text
    assert "faces" in en and "лица" in ru


def test_the_maps_are_rendered_from_course_map_py():
    for path, text in load("course_map").targets().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.relative_to(ROOT)} is stale: python docs/course_map.py"
