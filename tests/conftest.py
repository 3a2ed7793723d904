"""Shared fixtures. Every test that starts services gets a state folder of its own (``COURSE_HOME``), so tests
never touch a learner's running course; after the session, no process the course started may be left."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import psutil

from support import cli, processes, state


def _home_of(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("COURSE_HOME", "")
    except psutil.Error:
        return ""


@pytest.fixture
def course_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty state folder for this test; everything started in it is stopped afterwards."""
    home = tmp_path / "course"
    monkeypatch.setenv("COURSE_HOME", str(home))
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield home
    monkeypatch.setenv("COURSE_HOME", str(home))  # a test may have pointed it elsewhere
    monkeypatch.delenv("REDIS_URL", raising=False)
    cli.stop_everything()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail if any course process is left: those of the tests' own state folders, and, when this session ran the
    notebooks (which share the default state folder, as a learner's would), those of the default one too, after
    stopping what the notebooks left for each other. A session without notebooks never touches the default folder,
    so running a few unit tests does not stop a course you have open."""
    os.environ.pop("COURSE_HOME", None)
    tmp = str(session.config._tmp_path_factory.getbasetemp()) + os.sep
    default = ""
    if any(Path(str(item.path)).suffix == ".ipynb" for item in session.items):
        cli.stop_everything()
        default = str(state.home())
    left = [p for p in processes.course_processes() if _home_of(p).startswith(tmp) or _home_of(p) == default]
    if left:
        lines = [f"  pid {p.pid}: {' '.join(p.cmdline())[:120]}" for p in left]
        print("\nCourse processes still running after the tests:\n" + "\n".join(lines))
        for proc in left:  # end them (ours, found by their mark) so the machine is clean, and fail the run
            proc.kill()
        session.exitstatus = 1
