"""The course Redis's password, and the config file that gives it to the server.

On a shared machine (a JupyterHub), any user can open a socket to 127.0.0.1. So the course's Redis asks for a
password, made once per state folder (``secrets.token_urlsafe``) and kept in ``redis-password`` there, readable by
its owner only. The server reads it from ``redis.conf`` in the same folder (0600), never from its command line: every
user can read a process's command line (``/proc/PID/cmdline``), only its owner its environment. Every client of the
course puts it into its URL (``with_password``) without the learner typing it; every URL the course prints or
records has none (``redacted``). The config file also refuses, even with the password, what would let a client reach
beyond Redis: ``CONFIG SET`` of protected settings (``dir``, ``dbfilename``...), ``DEBUG`` and ``MODULE LOAD``.
"""

from __future__ import annotations

import functools
import re
import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from . import state

PASSWORD_FILE = "redis-password"
CONFIG_FILE = "redis.conf"

# Valkey's defaults (and Redis 7's), written down so that no build's other default matters. Redis 6.2 knows none of
# them (it has no DEBUG or MODULE switch at all) and would refuse to start with them in its config file.
LOCKED_DOWN = {"enable-protected-configs": "no", "enable-debug-command": "no", "enable-module-command": "no"}


def password() -> str:
    """The password of this state folder's Redis, made on first use."""
    path = state.home() / PASSWORD_FILE
    found = _read(path)
    if found:
        return found
    with state.locked():  # two processes asking at once must not make two passwords
        found = _read(path)
        if not found:
            found = secrets.token_urlsafe(32)
            state.write_private(path, found + "\n")
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


@functools.cache
def server_major(program: str) -> int:
    """The major version of the server `program` (``valkey-server --version``: ``v=9.1.2``), 0 if unknown."""
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r"\bv=(\d+)\.", out)
    return int(match[1]) if match else 0


def config_file(program: str) -> Path:
    """Write the server's config file (0600): the password, and the lock-down switches its version knows."""
    lines = [f'requirepass "{password()}"']
    if server_major(program) >= 7:
        lines += [f"{key} {value}" for key, value in LOCKED_DOWN.items()]
    path = state.home() / CONFIG_FILE
    state.write_private(path, "\n".join(lines) + "\n")
    return path


def with_password(url: str, secret: str | None = None) -> str:
    """`url` (``redis://127.0.0.1:6379/0``) with the password (default: this state folder's) in it, for a client."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f":{quote(secret or password(), safe='')}@{host}"))


def redacted(url: str) -> str:
    """`url` without a password (a user name stays): what may be printed, logged or recorded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    user_info, host = parts.netloc.rsplit("@", 1)
    user = user_info.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))
