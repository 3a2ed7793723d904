"""Recurring work for ``10_operations``: ``rq cron`` processes that enqueue
the session clean-up (``support.ops_cron_config``), the sessions it expires, and the record of its runs.

Each cron process is a real ``rq cron`` (``python -m rq.cli cron support.ops_cron_config``), started as a course
service (``cron-1``, ``cron-2``...), so ``python -m support down`` stops it with the rest. A worker on ``default``
runs what it enqueues; each run of ``expire_sessions`` appends a line to ``ops:cron:runs`` saying which cron
process enqueued it and how many sessions it deleted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis
from rq.cron import CronScheduler

from .. import ops_jobs
from ..rq_helpers import queues
from ..services import processes, redis_server
from ..services.processes import Service

CRON_PREFIX = "cron-"
CONFIG = "support.ops_cron_config"


@dataclass(frozen=True)
class Run:
    """One run of the clean-up: which cron process enqueued it, how many sessions it deleted, when (Unix time)."""

    by: str
    deleted: int
    at: float


def reset(connection: redis.Redis | None = None) -> None:
    """Stop this course's cron processes; forget every session and every recorded run."""
    conn = connection or queues.connection()
    stop_all()
    keys = list(conn.scan_iter(match=f"{ops_jobs.SESSION_PREFIX}*", count=1000)) + [ops_jobs.RUNS_KEY]
    conn.delete(*keys)


def add_sessions(count: int, age: float, connection: redis.Redis | None = None) -> list[str]:
    """Make `count` sessions last seen `age` seconds ago; returns their keys."""
    conn = connection or queues.connection()
    seen = time.time() - age
    keys = []
    for _ in range(count):
        key = f"{ops_jobs.SESSION_PREFIX}{conn.incr('ops:session-counter')}"
        conn.hset(key, mapping={"user": "ada", "last_seen": seen})
        keys.append(key)
    return keys


def sessions(older_than: float = 0.0, connection: redis.Redis | None = None) -> int:
    """How many sessions exist that were last seen more than `older_than` seconds ago."""
    conn = connection or queues.connection()
    now = time.time()
    return sum(
        1
        for key in conn.scan_iter(match=f"{ops_jobs.SESSION_PREFIX}*", count=1000)
        if now - float(conn.hget(key, "last_seen") or now) > older_than
    )


def runs(connection: redis.Redis | None = None) -> list[Run]:
    """Every recorded run of the clean-up, oldest first."""
    conn = connection or queues.connection()
    return [Run(**json.loads(line)) for line in conn.lrange(ops_jobs.RUNS_KEY, 0, -1)]


def wait_for_runs(count: int, by: str | None = None, since: int = 0, timeout: float = 60.0) -> list[Run]:
    """Wait until `count` runs (enqueued by `by`, if given) are recorded after the first `since`; returns those."""

    def found() -> list[Run]:
        return [r for r in runs()[since:] if by is None or r.by == by]

    if not processes.wait_until(lambda: len(found()) >= count, timeout, 0.05):
        raise TimeoutError(f"Only {len(found())} of {count} runs were recorded in {timeout:g} s")
    return found()


def start_cron(timeout: float = 30.0) -> Service:
    """Start one ``rq cron`` process on the course's Redis; returns when it has registered in Redis."""
    conn = queues.connection()
    before = {s.name for s in CronScheduler.all(conn)}

    def command(name: str) -> tuple[list[str], dict[str, object]]:
        return processes.python_argv("rq.cli", "cron", "--logging-level", "INFO", CONFIG), {}

    def registered(service: Service) -> bool:
        return len({s.name for s in CronScheduler.all(conn)} - before) > 0

    return processes.start_numbered(
        CRON_PREFIX, command, registered, "rq cron", timeout, env={"RQ_REDIS_URL": redis_server.url()}
    )


def running_crons() -> list[Service]:
    """The cron processes this course started that still run."""
    return processes.running_numbered(CRON_PREFIX)


def stop_all() -> int:
    """Stop every cron process the course started (SIGTERM: rq cron unregisters and exits); returns how many."""
    return sum(processes.stop(s.name, timeout=10.0) for s in running_crons())


def registered_crons(connection: redis.Redis | None = None) -> int:
    """How many cron processes are registered in Redis (``CronScheduler.all``: those with a recent heartbeat)."""
    return len(CronScheduler.all(connection or queues.connection()))
