"""Waiting for jobs: until they reach a status, and counting where a batch of jobs ended up.

batch = [q.enqueue(...) for _ in range(8)]
job_watch.wait_for_jobs(batch)          # -> {"finished": 7, "failed": 1}, once none is queued or running
batch[0].ended_at                       # the jobs are refreshed: what the worker wrote is there
job_watch.wait_for_status(job, "scheduled")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from rq.exceptions import InvalidJobOperation
from rq.job import Job

from ..services.processes import wait_until
from . import rq_internals

DONE = ("finished", "failed", "stopped", "canceled")
POLL_SECONDS = 0.02


def status(job: Job) -> str:
    """The job's status in Redis now, as a plain string (``"deleted"`` when its data is gone)."""
    try:
        value = job.get_status(refresh=True)
    except InvalidJobOperation:  # rq's answer when the job's hash has no status: deleted (or expired)
        return "deleted"
    return str(getattr(value, "value", value))


def wait_for_status(job: Job, statuses: str | Iterable[str], timeout: float = 15.0) -> str:
    """Poll until `job` has one of `statuses`; returns it. TimeoutError (naming the status it has) after `timeout`."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    now = ""

    def reached() -> bool:
        nonlocal now
        now = status(job)
        return now in wanted

    if not wait_until(reached, timeout, POLL_SECONDS):
        raise TimeoutError(
            f"job {job.id[:8]} is still {now!r} after {timeout:g} s; waited for "
            f"{' or '.join(sorted(wanted))}. Is a worker running?"
        )
    return now


def statuses(jobs: Sequence[Job]) -> list[str]:
    """Each job's status in Redis now, read in one round trip (``"deleted"`` when its data is gone)."""
    if not jobs:
        return []
    return [found or "deleted" for found in rq_internals.job_statuses(jobs[0].connection, jobs)]


def counts(jobs: Sequence[Job]) -> dict[str, int]:
    """How many of `jobs` have each status now, e.g. ``{"finished": 7, "failed": 1}`` (sorted by status)."""
    return dict(sorted(Counter(statuses(jobs)).items()))


def wait_for_jobs(jobs: Sequence[Job], timeout: float = 30.0, done: Iterable[str] = DONE) -> dict[str, int]:
    """Poll until every job in `jobs` is done (finished, failed, ...), refresh each job object (its result, its
    times, the worker that ran it), and return ``counts(jobs)``.

    TimeoutError after `timeout` seconds, saying how many are still waiting.
    """
    final = set(done)
    now: dict[str, int] = {}

    def all_done() -> bool:
        nonlocal now
        now = counts(jobs)
        return set(now) <= final

    if not wait_until(all_done, timeout, POLL_SECONDS):
        raise TimeoutError(
            f"after {timeout:g} s the jobs are {now}: some never finished: is a worker listening "
            "to their queue (and, for scheduled jobs, running the scheduler)?"
        )
    for job in jobs:
        job.refresh()
    return now
