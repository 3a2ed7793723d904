"""Where the course keeps its runtime state, and the JSON file that says which services run where.

Everything lives in one git-ignored folder (``.course/`` at the top of the repository, or ``$COURSE_HOME``):

    .course/
        state.json      which service runs on which port with which PID
        state.lock      a file lock: one process at a time starts or stops services
        redis/          Redis's data directory (append-only file on)
        maildir/        every caught email, one file each
        logs/           one log file per service
        access_token    the key the Work-It app and rq-dashboard ask for (access.py), 0600

Any kernel or process reads the same folder, so notebook 03 finds the Redis that notebook 02 started.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[2]  # support/services/state.py -> the checkout


def home() -> Path:
    """The state folder, created on first use."""
    path = Path(os.environ.get("COURSE_HOME") or REPO_ROOT / ".course")
    path.mkdir(parents=True, exist_ok=True)
    return path


def subdir(name: str) -> Path:
    """A folder inside the state folder (``redis``, ``maildir``, ``logs``...), created on first use."""
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_path(service: str) -> Path:
    return subdir("logs") / f"{service}.log"


def locked() -> FileLock:
    """The course-wide lock, to hold with ``with``: across processes, and re-entrant within one (filelock keeps one
    object per state folder)."""
    return FileLock(home() / "state.lock", timeout=60, is_singleton=True)


def read() -> dict[str, Any]:
    path = home() / "state.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write(state: dict[str, Any]) -> None:
    path = home() / "state.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)


def get(name: str) -> dict[str, Any] | None:
    """The recorded entry of one service, or None."""
    return read().get(name)


def put(name: str, entry: dict[str, Any]) -> None:
    with locked():
        state = read()
        state[name] = entry
        _write(state)


def remove(name: str) -> None:
    with locked():
        state = read()
        if state.pop(name, None) is not None:
            _write(state)


def wipe(name: str) -> None:
    """Delete one folder of the state; the services' entries stay."""
    shutil.rmtree(home() / name, ignore_errors=True)
