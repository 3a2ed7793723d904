"""Where the course keeps its runtime state, and the JSON file that says which services run where.

Everything lives in one git-ignored folder (``.course/`` at the top of the repository, or ``$COURSE_HOME``):

    .course/
        state.json      which service runs on which port with which PID
        state.lock      a file lock: one process at a time starts or stops services
        redis/          Redis's data directory (append-only file on)
        maildir/        every caught email, one file each
        logs/           one log file per service
        progress.jsonl  the learner's exercise events (progress_log.py); learner_id: their id for exports
        redis-password  the course Redis's password (and redis.conf, the server's config file that holds it)
        iredisrc        02's command line (iredis): the address with the password
        access_token    the key the Work-It app and rq-dashboard ask for (access.py), 0600

Any kernel or process of the same user reads the same folder, so notebook 03 finds the Redis that notebook 02
started. Nobody else can: the folder and every folder in it are private (0700), its files readable by their owner
only (0600); a folder left readable by an older checkout is tightened on first use (``private``).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[2]  # support/services/state.py -> the checkout


PRIVATE_DIR = 0o700  # the state folder and every folder in it: its owner only
PRIVATE_FILE = 0o600  # every file in it
SERVICE_UMASK = 0o077  # the course's services create what they write (AOF, Maildir messages) private too


def home() -> Path:
    """The state folder, created private on first use (and tightened if an older checkout left it open)."""
    path = Path(os.environ.get("COURSE_HOME") or REPO_ROOT / ".course")
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.geteuid():
        private(path)
    return path


def private(top: Path) -> None:
    """Take away every permission of the group and of others on `top` and everything under it (ours only; links are
    not followed). The top folder goes last: while it is still open, the next ``home()`` tightens again."""
    for folder, dirs, files in os.walk(top, topdown=False):
        for name in [*files, *dirs]:
            _owner_only(Path(folder) / name)
    _owner_only(top)


def _owner_only(path: Path) -> None:
    try:
        info = path.lstat()
        if info.st_uid == os.geteuid() and not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
    except FileNotFoundError:
        pass


def subdir(name: str) -> Path:
    """A private folder inside the state folder (``redis``, ``maildir``, ``logs``...), created on first use."""
    path = home() / name
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """`path`, created empty if missing, readable and writable by its owner only."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, PRIVATE_FILE))
    _owner_only(path)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace the file `path` with `text` at once (a temporary file, renamed), created 0600 from the start."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, PRIVATE_FILE)  # an older, open .tmp file keeps its mode through O_TRUNC
    tmp.replace(path)


def log_path(service: str) -> Path:
    """The log file of one service, created private."""
    return private_file(subdir("logs") / f"{service}.log")


def locked() -> FileLock:
    """The course-wide lock, to hold with ``with``: across processes, and re-entrant within one (filelock keeps one
    object per state folder)."""
    return FileLock(home() / "state.lock", timeout=60, is_singleton=True, mode=PRIVATE_FILE)


def read() -> dict[str, Any]:
    path = home() / "state.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _write(state: dict[str, Any]) -> None:
    write_private(home() / "state.json", json.dumps(state, indent=2, sort_keys=True))


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
