"""The learner edition run the way learners run it: last notebook first, each notebook twice in a row, each time in
a fresh kernel, starting from an empty state folder, with every stored output compared (strict nbval).

(``make test`` also runs both editions in the usual order under nbval.)
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from support import course

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("editions", ROOT / "tools" / "editions.py")
editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editions)
LEARNER = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_learner_edition_runs_backwards_and_twice_from_nothing(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(LEARNER) >= 7, "the learner edition is missing notebooks"
    monkeypatch.setenv("COURSE_HOME", str(tmp_path / "course"))
    monkeypatch.setenv("COURSE_AUTORUN", "1")  # the worker notebook stops once idle (conftest.py does it in make test)
    work = tmp_path / "notebooks"  # a copy: the notebooks write files (03's job module) next to themselves
    shutil.copytree(ROOT / "notebooks", work, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in work.glob("*.ipynb"):  # stored clean: give each cell the outputs it must produce
        nbformat.write(nbformat.from_dict(editions.expected_learner(path.name)), path)
    order = [str(path) for path in reversed(sorted(work.glob("*.ipynb"))) for _ in range(2)]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--keep-duplicates",
             "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "inner"), "--nbval", "--nbval-current-env",
             "--nbval-sanitize-with", str(ROOT / "tests" / "sanitize.cfg"), *order],
            cwd=tmp_path, capture_output=True, text=True, timeout=2400)  # COURSE_HOME: set above, inherited
    finally:
        course.down()
    assert result.returncode == 0, result.stdout[-6000:]
    code_cells = sum(cell.cell_type == "code" for path in LEARNER for cell in nbformat.read(path, as_version=4).cells)
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(rf"\b{2 * code_cells} passed\b", summary), f"expected every code cell twice: {summary}"
