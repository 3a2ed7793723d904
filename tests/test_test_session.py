"""The rules conftest.py sets for test sessions: notebooks under pytest use state folders of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_notebooks_under_pytest_leave_the_learners_state_folder_alone(tmp_path: Path) -> None:
    learner_home = tmp_path / "learner"  # where a learner's open course would keep its state
    basetemp = tmp_path / "session"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(basetemp), "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "tests/sanitize.cfg", "notebooks/worker.ipynb"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "COURSE_HOME": str(learner_home)})
    assert result.returncode == 0, result.stdout[-3000:]
    assert not (learner_home / "state.json").exists(), "the notebook used the learner's state folder"
    own = basetemp / "course-notebooks"
    assert (own / "redis").is_dir(), "the notebook did not run Redis in its edition's own state folder"
    assert json.loads((own / "state.json").read_text()) == {}, "the session did not stop what the notebook started"
