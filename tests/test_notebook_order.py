"""The learner edition run the way learners run it: last notebook first, each in a fresh kernel, nothing running.

(nbval, later in ``make test``, runs both editions in the usual order and compares every stored output.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from support import cli

ROOT = Path(__file__).resolve().parent.parent
LEARNER = sorted((ROOT / "notebooks").glob("*.ipynb"))


def errors(nb: nbformat.NotebookNode) -> list[str]:
    """Cells that raised although they are not tagged ``raises-exception``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue}")
    return found


def test_the_learner_edition_runs_in_reverse_order_from_nothing(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(LEARNER) >= 7, "the learner edition is missing notebooks"
    monkeypatch.setenv("COURSE_HOME", str(tmp_path / "course"))
    work = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    failures = {}
    try:
        for path in reversed(sorted(work.glob("*.ipynb"))):
            nb = nbformat.read(path, as_version=4)
            NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(work)}}).execute()
            if errors(nb):
                failures[path.name] = errors(nb)
    finally:
        cli.stop_everything()
    assert failures == {}
