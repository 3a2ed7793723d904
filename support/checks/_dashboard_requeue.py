"""04's Exercise 3 checked: the job the learner requeued, read back from Redis (its failures, when it first failed,
whether it is still in a failed registry), what else happened since it failed (a copy enqueued, other failed jobs
requeued) and the emails sent to its address since."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.results import Result
from rq.utils import as_text

from ..exercises import Incorrect, describe
from ..rq_helpers import queues
from ..services import inbox


def _job_from(value: Any, conn: redis.Redis) -> Job:
    if isinstance(value, Job):
        job_id = value.id
    elif isinstance(value, str):
        job_id = value
    else:
        raise Incorrect(f"You gave {describe(value)}. Give the job you requeued (requeue returns it) or its id.")
    try:
        return Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise Incorrect(
            "Redis has no job with that id any more: it was deleted, so its email will never go out. "
            "Delete is for jobs that can never work; Requeue keeps the job and runs it again."
        ) from None


def _failures(job: Job) -> int:
    """How many times the job has failed (RQ keeps a result per run)."""
    return sum(result.type == Result.Type.FAILED for result in job.results())


def _failed_before(job: Job) -> bool:
    return _failures(job) > 0


def _first_failure(job: Job) -> datetime:
    """When the job first failed (its oldest failed result)."""
    return min(result.created_at for result in job.results() if result.type == Result.Type.FAILED)


def _in_failed_registry(job: Job, conn: redis.Redis) -> bool:
    return any(job.id in q.failed_job_registry for q in queues.all_queues(conn))


def _jobs_around(job: Job, conn: redis.Redis) -> list[Job]:
    """Every job of the course's queues (and the job's own): waiting, taken by a worker (RQ's intermediate list,
    between the queue and the started registry), or in any registry; the job itself left out. All lists are read in
    one transaction, so a job a worker moves meanwhile is seen in one place or the next, never in none."""
    names = dict.fromkeys([*(q.name for q in queues.all_queues(conn)), job.origin])
    snapshot = conn.pipeline(transaction=True)
    parsers: list[Callable[[str], str]] = []  # how to read a job id from each list's (decoded) entries
    for name in names:
        q = Queue(name, connection=conn)
        for key in (q.key, q.intermediate_queue_key):
            snapshot.lrange(key, 0, -1)
            parsers.append(str)
        for registry in (
            q.started_job_registry,  # its entries are "<job id>:<execution id>"
            q.finished_job_registry,
            q.failed_job_registry,
            q.scheduled_job_registry,
            q.deferred_job_registry,
        ):
            snapshot.zrange(registry.key, 0, -1)
            parsers.append(registry.parse_job_id)
    ids = {parse(as_text(entry)) for parse, entries in zip(parsers, snapshot.execute()) for entry in entries}
    ids.discard(job.id)
    return [found for found in Job.fetch_many(sorted(ids), connection=conn) if found is not None]


def _extra_work(job: Job, conn: redis.Redis) -> None:
    """Incorrect when, besides requeueing `job`, something enqueued a new job with its call, or requeued other
    failed jobs, after `job` failed."""
    failed_at = _first_failure(job)
    around = _jobs_around(job, conn)
    copies = [
        j
        for j in around
        if j.created_at is not None
        and j.created_at >= failed_at
        and (j.func_name, j.args, j.kwargs) == (job.func_name, job.args, job.kwargs)
    ]
    if copies:
        raise Incorrect(
            f"Besides {job.id}, a new job with the same call was enqueued ({copies[0].id}): the reader gets the email "
            "twice. Requeue down_job itself, and enqueue nothing new."
        )
    others = [j for j in around if j.enqueued_at is not None and j.enqueued_at > failed_at and _failed_before(j)]
    if others:
        raise Incorrect(
            f"{len(others)} other failed job{'s' if len(others) > 1 else ''} went back on a queue too "
            f"({', '.join(j.id for j in others[:3])}): requeue down_job only. A job that failed for a reason of its "
            "own fails again; it waits in the failed registry for someone to fix or delete it."
        )


def _emails_since(address: str, since: datetime) -> int:
    return sum(1 for m in inbox.to_address(address) if m.received is not None and m.received >= since)
