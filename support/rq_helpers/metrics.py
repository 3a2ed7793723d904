"""The few numbers a team watches on a queue, read from Redis: how many jobs wait, how old the oldest one is, how
many of the jobs that ended failed, how long jobs take (percentiles of finished jobs), and when a cron job last ran.

Everything comes from what RQ itself stores: the queue's list, each job's ``enqueued_at``, ``started_at`` and
``ended_at``, and the queue's finished and failed registries. Those registries forget: a finished job leaves its
registry when its result expires (``result_ttl``, 500 s by default), a failed one after ``failure_ttl`` (a year by
default), so a rate read from them covers different windows; a production dashboard counts ends per minute instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from redis import Redis
from rq import Queue
from rq.job import Job

from . import rq_internals


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `p` % of the values at or below it (None for no
    values). The input is left as it is."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def oldest_age(queue: Queue, now: float | None = None) -> float | None:
    """Seconds the job at the head of `queue` has waited since it was enqueued (None: the queue is empty)."""
    head = queue.get_job_ids(0, 1)
    job = Job.fetch_many(head, connection=queue.connection)[0] if head else None
    if job is None or job.enqueued_at is None:
        return None
    return (time.time() if now is None else now) - _timestamp(job.enqueued_at)


def last_cron_run(connection: Redis, name: str) -> float | None:
    """Unix time at which `rq cron` last enqueued the cron job called `name` (None: never, or too long ago).

    rq 3.0's ``CronJob.enqueue`` records it in ``rq.cron_job_registry``, a sorted set scored by that time; the
    registry drops a name whose last enqueue is older than the job history's TTL."""
    return rq_internals.cron_last_enqueue(connection, name)


def durations(queue: Queue) -> list[float]:
    """Seconds from start to end of each job in the queue's finished registry."""
    ids = queue.finished_job_registry.get_job_ids()
    found = Job.fetch_many(ids, connection=queue.connection) if ids else []
    return [
        _timestamp(j.ended_at) - _timestamp(j.started_at)
        for j in found
        if j is not None and j.started_at and j.ended_at
    ]


@dataclass(frozen=True)
class Metrics:
    """One reading of a queue."""

    at: float  # Unix time of the reading
    queued: int  # jobs waiting on the queue
    oldest_age: float | None  # seconds the head of the queue has waited
    running: int  # jobs in the started registry
    finished: int
    failed: int
    p50: float | None  # median duration of finished jobs, seconds
    p95: float | None

    @property
    def failure_rate(self) -> float | None:
        """Failed jobs as a share of the jobs that ended (None: none ended yet)."""
        ended = self.finished + self.failed
        return self.failed / ended if ended else None


def read(queue: Queue) -> Metrics:
    """Read the numbers of `queue` now."""
    now = time.time()
    took = durations(queue)
    return Metrics(
        at=now,
        queued=queue.count,
        oldest_age=oldest_age(queue, now),
        running=queue.started_job_registry.get_job_count(cleanup=False),
        finished=queue.finished_job_registry.count,
        failed=queue.failed_job_registry.count,
        p50=percentile(took, 50),
        p95=percentile(took, 95),
    )
