"""Extract the course text's outline: its section headings (##, ###, ####) and the items of each
"Практические результаты" list, emoji and markup stripped, one per line.

    python docs/course_outline.py [../shared/seed/course_block5.md] > docs/course_outline.txt

The course map (docs/course-map.md, docs/ru/course-map.md) must name every line; tests/test_course_map.py
checks it against the course text when it is beside the repository and against this shipped copy
otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "seed" / "course_block5.md"
RESULTS = "Практические результаты"


def clean(text: str) -> str:
    """A heading or item without emoji, check marks and bold markers."""
    text = re.sub(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]", "", text)
    return re.sub(r"\s+", " ", text.replace("**", "")).strip(" :")


def outline(markdown: str) -> list[str]:
    """'## ...', '### ...', '#### ...' headings and '- ...' items of the practical-results lists, in order."""
    out, in_fence, in_results = [], False, False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = re.match(r"^(#{2,4}) (.+)$", line)
        if m:
            title = clean(m.group(2))
            out.append(f"{m.group(1)} {title}")
            in_results = title == RESULTS
        elif in_results and line.startswith("- "):
            out.append(f"- {clean(line[2:])}")
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    src = Path(argv[0]) if argv else DEFAULT
    sys.stdout.write("\n".join(outline(src.read_text(encoding="utf-8"))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
