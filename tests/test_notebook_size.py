"""A notebook a learner can finish in one sitting: 09_reliability and 10_operations (09_production_patterns split
in two, issue 24) hold at most 45 cells and 2,000 words each, counted as a learner reads them: the learner edition
made from the instructor notebook (solutions replaced by their placeholders), every markdown and code cell, words
split on white space."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.solutions import learner_source  # noqa: E402

LIMITS = {  # notebook -> (cells, words)
    "09_reliability.ipynb": (45, 2000),
    "10_operations.ipynb": (45, 2000),
}


def size(path: Path) -> tuple[int, int]:
    """(cells, words) of the learner edition of an instructor notebook."""
    learner = learner_source(nbformat.read(path, as_version=4), path.name)
    cells = [c for c in learner.cells if c.cell_type in ("markdown", "code")]
    return len(learner.cells), sum(len(c.source.split()) for c in cells)


def test_size_counts_the_learner_edition(tmp_path: Path) -> None:
    # a check on the checker: a solution's words do not count, its placeholder's do
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nFive words in this cell."),
        nbformat.v4.new_code_cell("x = 1\n# BEGIN SOLUTION\nanswer = compute(a, very, long, answer)\n# END SOLUTION"),
    ]
    path = tmp_path / "demo.ipynb"
    nbformat.write(notebook, path)
    assert size(path) == (2, 7 + 3 + 1)  # "# Title Five words in this cell." + "x = 1" + "____"


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_notebook_within_its_limits(name: str) -> None:
    cells, words = size(ROOT / "instructor" / name)
    most_cells, most_words = LIMITS[name]
    assert cells <= most_cells, f"{name}: {cells} cells, at most {most_cells}"
    assert words <= most_words, f"{name}: {words} words as a learner reads them, at most {most_words}"
