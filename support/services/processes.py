"""Starting, finding, recording and stopping the course's own processes (the ports they use: ``ports``; one process
itself, started, checked, stopped and waited on: ``process_control``).

Every service the course starts is a process of its own, started in a new session so that it outlives the kernel
that started it (a restarted kernel finds it again through the state file). Its entry in the state file records
its PID *and* its start time, so that the course never signals a process that merely reuses an old PID. Every
record is written by ``register`` (services through ``ensure``, worker kernels); numbered services (workers, rq cron
processes) are started by ``start_numbered`` under ``free_name(prefix)`` and found by ``running_numbered``.
``wait_until`` is the course's one polling loop.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import psutil

from . import state
from .ports import HOST, free_port, listens, pick_port, port_answers, port_is_free
from .process_control import SERVICE_MARK, course_env, process_alive, spawn, stop_process, wait_until

# The helpers of ports and process_control come along: notebooks, the CLI and the other services know them as
# processes.port_answers, processes.wait_until, ...
__all__ = [
    "HOST",
    "SERVICE_MARK",
    "Service",
    "ServiceError",
    "course_env",
    "course_processes",
    "ensure",
    "free_name",
    "free_port",
    "listens",
    "pick_port",
    "port_answers",
    "port_is_free",
    "process_alive",
    "python_argv",
    "register",
    "running",
    "running_numbered",
    "spawn",
    "start_numbered",
    "stop",
    "stop_all",
    "stop_process",
    "wait_until",
]


class ServiceError(RuntimeError):
    """A course service could not be started or reached; the message says what to do."""


@dataclass
class Service:
    """One running service as recorded in the state file. The fields after `url` belong to one kind of service
    each and keep their defaults on the others."""

    name: str
    pid: int
    port: int
    started: float  # the process's create time, as psutil reports it
    url: str
    external: bool = False  # Redis: a REDIS_URL server, which the course neither started nor stops
    redis_url: str = ""  # the dashboard: the Redis it shows
    delivery: str = ""  # the Work-It app: "inline" or "background"
    delay: float = 0.0  # the Work-It app: seconds its mailer waits
    controller: str = ""  # the Work-It app: the controller file it runs (delivery "controller")
    rq_name: str = ""  # a background worker: its name in Redis
    queues: list[str] = field(default_factory=list)  # a worker (also one in a second kernel): what it listens to
    simple: bool = False  # a background worker: SimpleWorker (no fork per job)
    worker_class: str = ""  # a background worker: rq's class (Worker, SpawnWorker, SimpleWorker)

    @classmethod
    def from_entry(cls, name: str, entry: dict[str, Any] | None) -> Service | None:
        if not entry:
            return None
        known = {f.name for f in fields(cls)} - {"name"}
        merged = {**entry.get("extra", {}), **entry}  # "extra": how entries were written before these fields
        return cls(name=name, **{k: v for k, v in merged.items() if k in known})

    def entry(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("name")
        return data

    def alive(self) -> bool:
        return process_alive(self.pid, self.started)


def register(name: str, proc: psutil.Process, *, port: int = 0, url: str = "", **details: Any) -> Service:
    """Record `proc` in the state file as the service `name`, with its start time, so that a later reuse of its PID
    is never taken for it (psutil reads that time when `proc` is made: it holds even after the process ended).
    `details` are the kind-specific fields of ``Service``."""
    service = Service(name=name, pid=proc.pid, port=port, started=proc.create_time(), url=url, **details)
    state.put(name, service.entry())
    return service


def free_name(prefix: str) -> str:
    """The first of ``prefix1``, ``prefix2``, ... that the state file does not hold yet. Hold ``state.locked()``
    from this call until ``register``, so that nobody else takes the same name meanwhile."""
    taken = set(state.read())
    return next(f"{prefix}{n}" for n in itertools.count(1) if f"{prefix}{n}" not in taken)


# --- processes -----------------------------------------------------------------------------------------------


def course_processes() -> list[psutil.Process]:
    """Every process on this machine that the course started (any state folder), found by its environment mark."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if SERVICE_MARK in proc.environ() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def python_argv(module: str, *args: str) -> list[str]:
    """The command line that runs `python -m module args` with this very interpreter."""
    return [sys.executable, "-m", module, *args]


# --- the generic service life cycle --------------------------------------------------------------------------


def running(name: str) -> Service | None:
    """The recorded service `name` if its process still runs, else None (a stale entry is dropped)."""
    service = Service.from_entry(name, state.get(name))
    if service is None:
        return None
    if service.alive():
        return service
    state.remove(name)
    return None


START_ATTEMPTS = 3  # tries before ensure() gives up on a service


def ensure(
    name: str,
    preferred_port: int,
    argv_for: Callable[[int], list[str]],
    url_for: Callable[[int], str],
    ready: Callable[[int], bool],
    timeout: float = 15.0,
    env: dict[str, str] | None = None,
    **details: Any,
) -> Service:
    """Return the running service `name`, starting it first if needed (idempotent, across processes).

    `argv_for(port)` builds its command line, `env` adds to its environment (see ``spawn``), `ready(port)` says
    when it answers; `details` are recorded with it (see ``Service``). The course-wide lock makes a
    second caller (another kernel, the CLI) wait and then find the service the first one started.
    """
    with state.locked():
        recorded = Service.from_entry(name, state.get(name))
        if recorded is not None and recorded.alive():
            if ready(recorded.port):
                return recorded
            stop_process(recorded.pid, recorded.started)  # alive but not answering: replace it
        state.remove(name)
        # Come back on the port it had (clients may still hold its URL), else the preferred one, else any.
        port = pick_port(recorded.port if recorded is not None and port_is_free(recorded.port) else preferred_port)
        for attempt in range(1, START_ATTEMPTS + 1):
            proc = spawn(name, argv_for(port), env)
            started = proc.create_time()

            def up(pid: int = proc.pid, port: int = port) -> bool:  # it answers, and our process listens (no stranger)
                return listens(pid, port) and ready(port)

            def up_or_ended(pid: int = proc.pid, started: float = started) -> bool:
                return up() or not process_alive(pid, started)

            ok = wait_until(up_or_ended, timeout)
            if ok and up():
                return register(name, proc, port=port, url=url_for(port), **details)
            stop_process(proc.pid, started)
            if attempt < START_ATTEMPTS:
                # Free when we looked is not free when the server binds: another course on this machine (a second
                # state folder, a classmate) may have taken the port, or only probed it, in between. From here on
                # the server gets a port the OS has just handed out. A service that fails for another reason
                # fails again, and its log says why.
                port = free_port()
        log = state.log_path(name)
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        raise ServiceError(
            f"{name} did not start ({START_ATTEMPTS} tries, the last on {HOST}:{port}, {timeout:.0f} s "
            f"each at most). Last lines of its log ({log}):\n" + "\n".join(tail)
        )


def start_numbered(
    prefix: str,
    command: Callable[[str], tuple[Sequence[str], dict[str, Any]]],
    ready: Callable[[Service], bool],
    what: str,
    timeout: float = 15.0,
    env: dict[str, str] | None = None,
    may_end: bool = False,
) -> Service:
    """Start the next numbered service of `prefix` (``worker-1``, ``cron-2``...) and return it once `ready(service)`
    says so. `command(name)` gives its command line and the details recorded with it (see ``Service``); `env` adds
    to its environment (see ``spawn``). A process that ends first, or is not ready within `timeout` seconds, is
    stopped and raises ServiceError naming `what` and its log; with `may_end`, one that ended on its own (a burst
    worker with nothing to do) is returned as it is."""
    with state.locked():
        name = free_name(prefix)
        argv, details = command(name)
        service = register(name, spawn(name, argv, env), **details)
    ready_in_time = wait_until(lambda: ready(service) or not service.alive(), timeout, 0.05)
    if ready_in_time and service.alive():
        return service
    if may_end and not service.alive():
        return service
    stop(name)
    raise ServiceError(f"{what} did not start; see {state.log_path(name)}")


def running_numbered(prefix: str) -> list[Service]:
    """The services of `prefix` (see ``start_numbered``) that still run, in the order they were recorded."""
    return [service for name in list(state.read()) if name.startswith(prefix) and (service := running(name))]


def stop_all(last: Sequence[str] = ()) -> list[str]:
    """Stop every service the state file records: the others first, then those named in `last` from its end to its
    start (``course.down``: workers and kernels first, Redis last). Returns the names stopped."""
    stopped = []
    with state.locked():
        names = list(state.read())
        names.sort(key=lambda n: -list(last).index(n) if n in last else -len(last))
        for name in names:
            if stop(name):
                stopped.append(name)
    return stopped


def stop(name: str, timeout: float = 5.0) -> bool:
    """Stop the service `name` if the course started it. True when a process was stopped."""
    with state.locked():
        service = Service.from_entry(name, state.get(name))
        stopped = service is not None and stop_process(service.pid, service.started, timeout)
        state.remove(name)
        return stopped
