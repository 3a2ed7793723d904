"""Acting on failed jobs, as the dashboards' buttons do: requeue one, delete one, requeue them all."""

from __future__ import annotations

import redis
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from . import queues


def requeue_failed(job_id: str, connection: redis.Redis | None = None) -> Job:
    """Put one failed job back on its queue (it leaves the failed registry)."""
    conn = connection or queues.connection()
    job = Job.fetch(job_id, connection=conn)
    return FailedJobRegistry(job.origin, connection=conn).requeue(job)


def delete_failed(job_id: str, connection: redis.Redis | None = None) -> None:
    """Delete one failed job: its data, its result and its place in the failed registry."""
    Job.fetch(job_id, connection=connection or queues.connection()).delete()


def requeue_all_failed(connection: redis.Redis | None = None) -> int:
    """Requeue every failed job of the course's queues; returns how many went back."""
    conn = connection or queues.connection()
    moved = 0
    for q in queues.all_queues(conn):
        registry = q.failed_job_registry
        for job_id in registry.get_job_ids(cleanup=False):
            try:
                registry.requeue(job_id)
                moved += 1
            except (InvalidJobOperation, NoSuchJobError):  # gone meanwhile (another click, another kernel)
                continue
    return moved
