"""Solution markers: the learner's source of an instructor notebook, and where a learner notebook's source differs.

In the instructor notebooks:

* a code cell (``%%writefile`` cells too) marks a solution with lines ``# BEGIN SOLUTION`` and ``# END SOLUTION``
  (any indentation). The learner edition replaces the region with its ``# PLACEHOLDER: <code>`` lines (each at its
  own indentation; an empty ``# PLACEHOLDER:`` removes the region), or else with ``____`` at the region's
  indentation;
* a markdown cell marks a solution with ``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->`` lines; the region
  is removed (or replaced by ``<!-- PLACEHOLDER: text -->`` lines); a markdown cell left empty is dropped;
* a cell tagged ``instructor-only`` is left out of the learner edition.

Learner cells keep the instructor's cell ids.
"""

from __future__ import annotations

import copy
import hashlib
import re

from tools.notebook_files import EditionError, NotebookNode, as_node, without_volatile_metadata

DROP_TAG = "instructor-only"


class Markers:
    """The three line patterns of one cell type's solution regions, and what replaces a region without placeholder."""

    def __init__(self, begin: str, end: str, placeholder: str, default: str | None) -> None:
        self.begin, self.end = re.compile(begin), re.compile(end)
        self.placeholder, self.default = re.compile(placeholder), default


CODE = Markers(r"^(\s*)#\s*BEGIN SOLUTION\b", r"^\s*#\s*END SOLUTION\b", r"^(\s*)#\s*PLACEHOLDER:(.*)$", default="____")
MARKDOWN = Markers(
    r"^(\s*)<!--\s*BEGIN SOLUTION\s*-->\s*$",
    r"^\s*<!--\s*END SOLUTION\s*-->\s*$",
    r"^(\s*)<!--\s*PLACEHOLDER:(.*?)-->\s*$",
    default=None,
)


def strip_solutions(source: str, markers: Markers = CODE) -> str:
    """The learner's version of one cell's source: solution regions replaced by their placeholders."""
    out: list[str] = []
    region: tuple[str, list[str], bool] | None = None  # (indent, placeholder lines, saw a PLACEHOLDER line)
    for number, line in enumerate(source.split("\n"), start=1):
        begin, end, placeholder = markers.begin.match(line), markers.end.match(line), markers.placeholder.match(line)
        if region is None:
            if begin:
                region = (begin.group(1), [], False)
            elif end or placeholder:
                raise EditionError(f"line {number}: {line.strip()!r} outside a solution region")
            else:
                out.append(line)
        elif begin:
            raise EditionError(f"line {number}: a solution region inside another one")
        elif end:
            indent, lines, seen = region
            if not seen and markers.default is not None:
                lines = [indent + markers.default]
            out.extend(lines)
            region = None
        elif placeholder:
            text = placeholder.group(2).strip()
            region = (region[0], region[1] + ([placeholder.group(1) + text] if text else []), True)
    if region is not None:
        raise EditionError("a solution region is never closed (no END SOLUTION line)")
    return "\n".join(out)


def _cell_id(notebook_name: str, index: int) -> str:
    return hashlib.sha1(f"{notebook_name}#{index}".encode()).hexdigest()[:12]


def learner_source(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The learner edition of an instructor notebook, with empty outputs. Raises EditionError on bad markers."""
    learner = as_node(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "cells": [],
            "metadata": copy.deepcopy({k: v for k, v in nb.metadata.items() if k != "widgets"}),
        }
    )
    for index, cell in enumerate(nb.cells):
        if DROP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.source
        if cell.cell_type in ("code", "markdown"):
            try:
                source = strip_solutions(cell.source, CODE if cell.cell_type == "code" else MARKDOWN)
            except EditionError as exc:
                raise EditionError(f"{name}, cell {index + 1}: {exc}") from None
        if cell.cell_type == "markdown" and not source.strip() and cell.source.strip():
            continue  # the whole cell was a solution
        new = as_node(
            dict(
                cell_type=cell.cell_type,
                id=cell.get("id") or _cell_id(name, index),
                metadata=copy.deepcopy(without_volatile_metadata(cell.get("metadata", {}))),
                source=source,
            )
        )
        if cell.cell_type == "code":
            new.update(outputs=[], execution_count=None)
        elif "attachments" in cell:
            new.attachments = copy.deepcopy(cell.attachments)
        learner.cells.append(new)
    return learner


def _shown(text: str) -> str:
    first = text.split("\n", 1)[0]
    return repr(first if len(first) <= 60 else first[:57] + "...")


def first_difference(expected: NotebookNode, found: NotebookNode) -> str | None:
    """Where two notebooks' cell sources (type, id, tags, source) first differ, in words; None when they match."""

    def key(c: NotebookNode) -> tuple:
        return c.cell_type, c.get("id"), c.get("metadata", {}).get("tags", []), c.source

    for index, (want, got) in enumerate(zip(expected.cells, found.cells), start=1):
        if key(want) != key(got):
            where = f"cell {index} ({want.cell_type}, id {want.get('id')})"
            if want.source != got.source:
                lines = zip(want.source.split("\n") + [""], got.source.split("\n") + [""])
                line, (a, b) = next((n, ab) for n, ab in enumerate(lines, start=1) if ab[0] != ab[1])
                return f"{where} differs at line {line}: expected {_shown(a)}, found {_shown(b)}"
            return f"{where} differs in its type, id or tags (found {got.cell_type}, id {got.get('id')})"
    if len(expected.cells) != len(found.cells):
        return f"expected {len(expected.cells)} cells, found {len(found.cells)}"
    return None
