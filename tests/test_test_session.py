"""The rules conftest.py sets for test sessions: notebooks under pytest use a state folder of their own, never the
learner's, and whatever they started is stopped when the session ends.

(A two-cell notebook of the test's own: the rule is conftest.py's, not any course notebook's, and the course's
notebooks already run under it in every ``make test``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from support.services import processes

pytestmark = pytest.mark.slow  # a pytest session of its own with a notebook: not in make test-fast

ROOT = Path(__file__).resolve().parent.parent


def _home_of(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("COURSE_HOME", "")
    except psutil.Error:
        return ""


def test_notebooks_under_pytest_leave_the_learners_state_folder_alone(tmp_path: Path) -> None:
    learner_home = tmp_path / "learner"  # where a learner's open course would keep its state
    session_tmp = tmp_path / "tmp"  # the session's TMPDIR: where the chain's own state folder must be made
    session_tmp.mkdir()
    edition = tmp_path / "instructor"  # named as an edition folder: conftest.py's rules apply to it
    edition.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os\nfrom support.services import course, state\ncourse.up('redis', quiet=True);"
        ),
        nbformat.v4.new_code_cell(
            "print(os.environ['COURSE_AUTORUN'], os.environ['COURSE_HOME'].startswith("
            "os.environ['TMPDIR']), (state.home() / 'redis').is_dir())"
        ),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1 True True\n")]  # as a run stores it
    nb.cells[1].execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, edition / "tiny.ipynb")
    result = subprocess.run(
        # (-p conftest: the course's conftest.py as a plugin, since the notebook is not in the checkout)
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "conftest",
            "--basetemp",
            str(tmp_path / "basetemp"),
            "--nbval",
            "--nbval-current-env",
            str(edition / "tiny.ipynb"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COURSE_HOME": str(learner_home), "TMPDIR": str(session_tmp)},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout, result.stdout[-3000:]  # the second cell: Redis ran in a folder under TMPDIR
    assert not (learner_home / "state.json").exists(), "the notebook used the learner's state folder"
    assert list(session_tmp.iterdir()) == [], "the chain's state folder was not removed when the session ended"
    left = [p.pid for p in processes.course_processes() if str(session_tmp) in _home_of(p)]
    assert left == [], "the session did not stop what the notebook started"
