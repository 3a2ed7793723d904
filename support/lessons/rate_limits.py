"""RQ 3's ``RateLimit``, measured, for ``09_reliability``: how many jobs that share a key run at once.

``run_calls`` queues a batch of ``support.production_jobs.rate_limited_call`` jobs (each notes its start and end in
Redis) on workers that are already running. Every call waits at a gate until the expected number of calls has
started, which proves the concurrency before anything is timed; the statuses at that moment are kept. Then the
gate opens, each call takes its time, and the peak is computed from the calls' own start and end notes.

    run = rate_limits.run_calls(q, jobs=8, seconds=0.5, at_once=4)                              # no limit
    run = rate_limits.run_calls(q, jobs=8, seconds=0.5, at_once=2, rate_limit=RateLimit("mail", 2))
    run.peak, run.wall, run.while_running     # 2, 2.1 (seconds after the gate opened), {"rate_limited": 6, ...}
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import redis
from rq import Queue
from rq.job import Job
from rq.rate_limit import RateLimit, RateLimitRegistry
from rq.utils import as_text

from .. import production_jobs
from ..rq_helpers import holds, job_watch, queues, rq_internals
from ..services.processes import wait_until


@dataclass
class CallRun:
    """One batch of calls: how many ran at once at most, and how long they took once the gate opened."""

    jobs: int
    peak: int
    wall: float  # seconds from the gate opening to the last call's end
    while_running: dict[str, int] = field(default_factory=dict)  # job statuses once `at_once` calls ran (at the gate)
    on_queue: int = 0  # jobs on the queue itself then
    held_back: int = 0  # jobs the rate limiter held back then
    statuses: dict[str, int] = field(default_factory=dict)  # at the end


def peak(events: list[tuple[float, int]]) -> int:
    """The most calls running at once, from (time, +1 for a start / -1 for an end) events; at the same moment an
    end counts before a start."""
    running = highest = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        highest = max(highest, running)
    return highest


def events(run: str, connection: redis.Redis | None = None) -> list[tuple[float, int]]:
    """The start and end notes of `run`'s calls as (time, +1/-1)."""
    conn = connection or queues.connection()
    found = []
    for raw in conn.lrange(production_jobs.CALLS + run, 0, -1):
        kind, _, moment = as_text(raw).split("|")
        found.append((float(moment), 1 if kind == "start" else -1))
    return found


def reset_limit(key: str, connection: redis.Redis | None = None) -> int:
    """Forget the rate limit `key`: delete the jobs it still tracks (an interrupted earlier run) and its keys, so
    that no stale job holds a slot. Returns how many jobs were dropped."""
    conn = connection or queues.connection()
    registry = RateLimitRegistry(key, conn)
    ids = registry.get_allowed_job_ids() + registry.get_rate_limited_job_ids()
    for job in Job.fetch_many(ids, connection=conn):
        if job is not None:
            job.delete()
    rq_internals.delete_rate_limit(conn, key)
    return len(ids)


def run_calls(
    q: Queue,
    jobs: int = 8,
    seconds: float = 0.5,
    at_once: int = 4,
    rate_limit: RateLimit | None = None,
    timeout: float = 60.0,
) -> CallRun:
    """Queue `jobs` calls of `seconds` each (with `rate_limit` if given), wait until `at_once` of them have started
    (TimeoutError if they do not: too few workers?), note the statuses, open the gate, wait for all, and measure."""
    conn = q.connection
    run = uuid.uuid4().hex[:12]
    batch = [
        q.enqueue(production_jobs.rate_limited_call, run, n, seconds, rate_limit=rate_limit, result_ttl=600)
        for n in range(jobs)
    ]
    running = production_jobs.RUNNING + run
    if not wait_until(lambda: int(conn.get(running) or 0) >= at_once, timeout, 0.02):
        raise TimeoutError(f"only {int(conn.get(running) or 0)} calls started; expected {at_once}: enough workers?")
    while_running = job_watch.counts(batch)
    on_queue = q.count
    held_back = RateLimitRegistry(rate_limit.key, conn).get_rate_limited_job_count() if rate_limit else 0
    opened = time.time()
    holds.go(conn, run)
    final = job_watch.wait_for_jobs(batch, timeout=timeout)
    noted = events(run, conn)
    wall = max(moment for moment, step in noted if step < 0) - opened
    return CallRun(jobs, peak(noted), wall, while_running, on_queue, held_back, final)
