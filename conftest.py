"""Session-wide check for every pytest run of the course (unit tests, notebooks, or both): no process that the
course started may be left running when the session ends."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from support import cli, processes, state


def _home_of(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("COURSE_HOME", "")
    except psutil.Error:
        return ""


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
