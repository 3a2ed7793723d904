"""04's Exercise 3 checked: the job the learner requeued, read back from Redis (its failures, when it first failed,
whether it is still in a failed registry), what else happened since it failed (a copy enqueued, other failed jobs
requeued) and the emails sent to its address since."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.results import Result

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
    """Every job of the course's queues (and the job's own), whatever its state; the job itself left out. Found by
    its hash, not by the lists it passes through: a worker on several queues takes a job with BLPOP, and until it
    enters the started registry the job is in no list at all (rq 3.0.0 `Queue.dequeue_any`)."""
    names = {*(q.name for q in queues.all_queues(conn)), job.origin}
    return [found for found in queues.all_jobs(conn) if found.origin in names and found.id != job.id]


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
