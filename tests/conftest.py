"""Shared fixtures. Every test that starts services gets a state folder of its own (``COURSE_HOME``), so tests
never touch a learner's running course. (The check that no course process is left after a session is in the
top-level conftest.py, so that it also runs when only the notebooks are tested.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support import course


@pytest.fixture(autouse=True)
def own_progress_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checks run by tests write their progress lines to a file of the test's own, never to the learner's."""
    path = tmp_path_factory.mktemp("progress") / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


@pytest.fixture
def course_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty state folder for this test; everything started in it is stopped afterwards."""
    home = tmp_path / "course"
    monkeypatch.setenv("COURSE_HOME", str(home))
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield home
    monkeypatch.setenv("COURSE_HOME", str(home))  # a test may have pointed it elsewhere
    monkeypatch.delenv("REDIS_URL", raising=False)
    course.down()
