"""The rules conftest.py sets for test sessions: notebooks under pytest use a state folder of their own, never the
learner's, and whatever they started is stopped when the session ends.

(A two-cell notebook of the test's own: the rule is conftest.py's, not any course notebook's, and the course's
notebooks already run under it in every ``make test``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # a pytest session of its own with a notebook: not in make test-fast

ROOT = Path(__file__).resolve().parent.parent


def test_notebooks_under_pytest_leave_the_learners_state_folder_alone(tmp_path: Path) -> None:
    learner_home = tmp_path / "learner"  # where a learner's open course would keep its state
    basetemp = tmp_path / "session"
    edition = tmp_path / "instructor"  # named as an edition folder: conftest.py's rules apply to it
    edition.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nfrom support.services import course\ncourse.up('redis', quiet=True);"),
                nbformat.v4.new_code_cell("print(os.environ['COURSE_AUTORUN'])")]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]  # as a run stores it
    nb.cells[1].execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, edition / "tiny.ipynb")
    result = subprocess.run(
        # (-p conftest: the course's conftest.py as a plugin, since the notebook is not in the checkout)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest", "--basetemp", str(basetemp),
         "--nbval", "--nbval-current-env", str(edition / "tiny.ipynb")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "COURSE_HOME": str(learner_home)})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout, result.stdout[-3000:]
    assert not (learner_home / "state.json").exists(), "the notebook used the learner's state folder"
    own = basetemp / "course-notebooks"
    assert (own / "redis").is_dir(), "the notebook did not run Redis in the session's own state folder"
    assert json.loads((own / "state.json").read_text()) == {}, "the session did not stop what the notebook started"
