"""Headings in every notebook of both editions go in order: one ``#`` title first, then ``##`` and below, never
skipping a level (a screen reader lists the headings as the notebook's outline)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "instructor").glob("*.ipynb")) + sorted((ROOT / "notebooks").glob("*.ipynb"))

ATX = re.compile(r"^ {0,3}(#{1,6})(?:\s|$)")
SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
HTML = re.compile(r"<h([1-6])\b", re.IGNORECASE)


def headings(markdown: str) -> list[tuple[int, str]]:
    """The headings of one markdown text as (level, line), code blocks skipped."""
    found: list[tuple[int, str]] = []
    fenced = False
    previous = ""
    for line in markdown.splitlines():
        if re.match(r"^ {0,3}(```|~~~)", line):
            fenced = not fenced
        elif not fenced:
            if match := ATX.match(line):
                found.append((len(match.group(1)), line.strip()))
            elif SETEXT.match(line) and previous.strip() and not previous.lstrip().startswith(("-", "*", "|")):
                found.append((1 if line.strip()[0] == "=" else 2, previous.strip()))
            found += [(int(level), line.strip()) for level in HTML.findall(line)]
        previous = line if not fenced else ""
    return found


def problems(levels: list[tuple[int, str]]) -> list[str]:
    """What is wrong with a notebook's headings, in order: empty when they go title, ##, ###... without skips."""
    if not levels:
        return ["no heading at all (the first markdown cell starts with a # title)"]
    found = []
    if levels[0][0] != 1:
        found.append(f"the first heading is not a # title: {levels[0][1]!r}")
    titles = [text for level, text in levels if level == 1]
    if len(titles) > 1:
        found.append(f"{len(titles)} # titles, one expected: {titles}")
    for (before, _), (level, text) in zip(levels, levels[1:]):
        if level > before + 1:
            found.append(f"{text!r} (level {level}) comes after a level {before} heading: a level is skipped")
    return found


def test_the_checker_sees_skipped_levels_and_extra_titles() -> None:
    # a check on the checker
    assert problems(headings("# Title\n## A\n### B\n## C")) == []
    assert problems(headings("# Title\n### Skipped")) != []
    assert problems(headings("## No title\n")) != []
    assert problems(headings("# One\ntext\n# Two")) != []
    assert problems(headings("# Title\n```\n### in a code block\n```\n## A")) == []
    assert headings("Title\n=====\nSection\n-------\n<h3>html</h3>") == [
        (1, "Title"),
        (2, "Section"),
        (3, "<h3>html</h3>"),
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_headings_go_in_order(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    levels = [h for cell in notebook.cells if cell.cell_type == "markdown" for h in headings(cell.source)]
    found = problems(levels)
    assert not found, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(found)
