"""RQ workers on the course's queues: in the foreground with a banner, or as background processes.

A worker is a separate process that takes jobs from Redis, imports their code by module path and runs them. The
foreground form (``python -m support worker``) is the Python counterpart of the seed lesson's ``bundle exec sidekiq``;
background workers (``start_worker``) are recorded in the state folder like every course service, and so is a
foreground worker while it runs (``recorded_while_running``), so ``python -m support down`` stops them all.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil
import redis
from filelock import Timeout
from rq import SimpleWorker, SpawnWorker, Worker
from rq.worker import BaseWorker

from ..services import platforms, processes, redis_server, state
from ..services.processes import Service
from . import queues, rq_internals, worker_log
from .worker_log import DATE_FORMAT, LOG_FORMAT

BANNER = r"""
    ____  ____       __        __         _
   |  _ \/ __ \      \ \      / /__  _ __| | _____ _ __
   | |_) | |  | |_____\ \ /\ / / _ \| '__| |/ / _ \ '__|
   |  _ <| |__| |_____|\ V  V / (_) | |  |   <  __/ |
   |_| \_\\___\_\       \_/\_/ \___/|_|  |_|\_\___|_|
"""

WORKER_PREFIX = "worker-"
TERMINAL_PREFIX = "terminal-worker-"
AUTORUN_IDLE_SECONDS = 2  # a worker notebook run by the course's tests stops after this many idle seconds

# How a worker runs each job (``platforms.WORKER_KINDS`` names the kinds and decides the default, rq-free):
# "fork" (rq's Worker: a forked copy of itself per job), "spawn" (SpawnWorker: a fresh Python per job, started with
# os.posix_spawn), "simple" (SimpleWorker: in the worker's own process).
KINDS: dict[str, type[BaseWorker]] = {"fork": Worker, "spawn": SpawnWorker, "simple": SimpleWorker}
KIND_OVERRIDE = platforms.KIND_OVERRIDE  # COURSE_WORKER_CLASS: fork, spawn or simple, the default for every worker


def default_worker_class(system: str | None = None) -> type[BaseWorker]:
    """The class of every course worker not asked to be simple: $COURSE_WORKER_CLASS if set, else SpawnWorker on
    macOS (`system` "Darwin", default: this machine's), where a forked child of a process that has used the
    system's frameworks can crash, and which rq 3's SpawnWorker is meant for ("POSIX environments where os.fork()
    is unsafe, like macOS"); else rq's forking Worker, its default. (``platforms.default_worker_kind`` decides.)"""
    return KINDS[platforms.default_worker_kind(system)]


def worker_class(simple: bool = False, kind: str | None = None) -> type[BaseWorker]:
    """The class for one worker: `kind` (fork, spawn, simple) when given, SimpleWorker when `simple`, else the
    platform's default (``default_worker_class``)."""
    if kind:
        return KINDS[kind]
    return SimpleWorker if simple else default_worker_class()


def banner(queue_names: Sequence[str], worker_class: str, redis_url: str, path: str) -> str:
    """The worker's start-up banner: what it listens to and where its code comes from."""
    return (
        BANNER + f"\n   Redis:   {redis_url}\n   Queues:  {' > '.join(queue_names)}  (priority order)\n"
        f"   Class:   {worker_class}\n   Imports job code from: {path}\n"
    )


def run_worker(
    queue_names: Sequence[str] = queues.QUEUE_NAMES,
    *,
    burst: bool = False,
    simple: bool = False,
    with_scheduler: bool = True,
    max_idle_time: int | None = None,
    path: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    serializer: str | None = None,
) -> bool:
    """Run a worker in this process until it is stopped (Ctrl+C: warm shutdown) or, with `burst`, out of work.
    `serializer` ("json", "pickle" or a dotted path; default: rq's, pickle) must be the one the jobs were queued
    with."""
    import_path = str(Path(path or os.getcwd()).resolve())
    if import_path not in sys.path:
        sys.path.insert(0, import_path)  # the worker imports job modules by name from here, like `rq worker --path`
    # A client of its own, made from the URL alone: a SpawnWorker rebuilds it in each new horse from its settings
    # (``Redis(**kwargs)``), which the course's shared client, following the server, cannot be.
    conn = redis_server.connect()
    cls = worker_class(simple, kind)
    print(banner(queue_names, cls.__name__, redis_server.address(), import_path), flush=True)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=DATE_FORMAT, force=True)
    worker = cls(
        [queues.queue(q, conn, serializer) for q in queue_names], connection=conn, name=name, serializer=serializer
    )
    sys.stdout.flush()  # a forking worker would repeat buffered output once per child
    return worker.work(
        burst=burst,
        with_scheduler=with_scheduler,
        max_idle_time=max_idle_time,
        logging_level="INFO",
        date_format=DATE_FORMAT,
        log_format=LOG_FORMAT,
    )


def notebook_idle_limit() -> int | None:
    """``max_idle_time`` for the worker notebook: None (run until interrupted) for a learner; a few seconds when
    the course's tests or ``tools/editions.py`` run the notebook (they set ``COURSE_AUTORUN``), so that they end."""
    return AUTORUN_IDLE_SECONDS if os.environ.get("COURSE_AUTORUN") else None


def run_in_notebook(queue_names: Sequence[str] = queues.QUEUE_NAMES, *, with_scheduler: bool = True) -> None:
    """Run a worker in this notebook's kernel until you interrupt it (the ■ button: a warm shutdown), its log as
    the cell's output (``worker_log.for_notebook``), under a name of its own (``notebook-...``). When the course's
    tests run the notebook it stops after ``AUTORUN_IDLE_SECONDS`` without work (``notebook_idle_limit``)."""
    worker_log.for_notebook()
    run_worker(
        queue_names,
        with_scheduler=with_scheduler,
        max_idle_time=notebook_idle_limit(),
        name=f"notebook-{uuid.uuid4()}",
    )


@contextmanager
def recorded_while_running() -> Iterator[None]:
    """Record this process, a worker started by hand (``python -m support worker``), in the state file while it
    runs, so that ``python -m support down`` stops it with the rest. A worker the course started is recorded
    already: then nothing is added."""
    me = psutil.Process()
    with state.locked():
        if any(entry.get("pid") == me.pid for entry in state.read().values()):
            name = None
        else:
            name = processes.free_name(TERMINAL_PREFIX)
            processes.register(name, me)
    try:
        yield
    finally:
        if name:
            try:
                with state.locked().acquire(blocking=False):
                    state.remove(name)
            except Timeout:
                pass  # `down` holds the lock: it is stopping this worker, and removes its record itself


def record(rq_name: str, conn: redis.Redis) -> BaseWorker | None:
    """The worker called `rq_name` as registered in Redis, or None.

    Safe to poll while the worker registers. RQ's ``Worker.find_by_key`` checks that the worker's key exists and, when
    it does not, removes it from the set of all workers (``rq:workers``). A worker whose registration lands between
    that check and that removal has its key, but is missing from the set for good, so ``Worker.all()`` (recovery,
    ``rq info``, the dashboard) never sees it. This looks first (``rq_internals.worker_registered``), and asks RQ
    only once the key is there.
    """
    if not rq_internals.worker_registered(conn, rq_name):
        return None
    return Worker.find_by_key(rq_internals.worker_key(rq_name), connection=conn)


READY_STATES = {"idle", "busy", "suspended"}  # states RQ sets only once its signal handlers are in place


def _state(rq_name: str, conn: redis.Redis) -> str | None:
    """The worker's state as it wrote it into Redis (``worker.get_state()``), None while it is not registered."""
    worker = record(rq_name, conn)
    return None if worker is None else str(getattr(worker.get_state(), "value", worker.get_state()))


def is_ready(rq_name: str, conn: redis.Redis) -> bool:
    """True once the worker called `rq_name` has registered and taken over SIGTERM and SIGINT.

    RQ registers a worker (state ``started``) before it installs its signal handlers; a SIGTERM in between kills it at
    once, with no warm shutdown and its name left in Redis. It goes ``idle`` (or ``busy``, or ``suspended``) only
    after. Safe to poll (see ``record``).
    """
    return _state(rq_name, conn) in READY_STATES


def start_worker(
    queue_names: Sequence[str] = queues.QUEUE_NAMES,
    *,
    simple: bool = False,
    with_scheduler: bool = True,
    burst: bool = False,
    path: str | Path | None = None,
    max_idle_time: int | None = None,
    timeout: float = 15.0,
    kind: str | None = None,
    serializer: str | None = None,
) -> Service:
    """Start a worker as a background process; returns once it is ready (``is_ready``): registered with Redis, and
    stopping warmly on SIGTERM. `serializer`: see ``run_worker``."""
    conn = queues.connection()

    def command(name: str) -> tuple[list[str], dict[str, object]]:
        rq_name = f"course-{name}-{os.getpid()}-{len(state.read())}"
        argv = processes.python_argv(
            "support", "worker", "--name", rq_name, "--path", str(path or os.getcwd()), *queue_names
        )
        argv += ["--simple"] if simple else []
        argv += ["--class", kind] if kind else []
        argv += [] if with_scheduler else ["--no-scheduler"]
        argv += ["--burst"] if burst else []
        argv += ["--max-idle-time", str(max_idle_time)] if max_idle_time else []
        argv += ["--serializer", serializer] if serializer else []
        return argv, {
            "rq_name": rq_name,
            "queues": list(queue_names),
            "simple": simple,
            "worker_class": worker_class(simple, kind).__name__,
        }

    # a burst worker with nothing to do may be done before anyone sees it ready
    return processes.start_numbered(
        WORKER_PREFIX, command, lambda service: is_ready(service.rq_name, conn), "The worker", timeout, may_end=burst
    )


def wait_until_idle(service: Service, timeout: float = 30.0) -> bool:
    """Wait until the worker says it is ``idle`` in Redis; True when it does. A worker marks itself idle a moment
    *after* its job's status became ``finished`` or ``failed`` (RQ does its bookkeeping in between), so a cell that
    shows the workers right after its jobs ended waits for this first."""
    conn = queues.connection()
    return processes.wait_until(lambda: _state(service.rq_name, conn) == "idle", timeout, 0.02)


def running_workers() -> list[Service]:
    """The background workers the course started that are still running."""
    return processes.running_numbered(WORKER_PREFIX)


def stop_worker(service: Service) -> bool:
    """Stop one background worker (SIGTERM: RQ finishes the current job first, a warm shutdown)."""
    return processes.stop(service.name, timeout=10.0)


def stop_all_workers() -> int:
    """Stop every background worker the course started; returns how many were running."""
    return sum(stop_worker(w) for w in running_workers())
