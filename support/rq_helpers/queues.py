"""The course's RQ queues on the course's Redis.

Three named queues, as in the seed lesson's ``queue_as``: ``urgent``, ``mailers`` and ``default``. A worker listens
to them in that order, so an urgent job is always taken before a waiting mailer or default job.
"""

from __future__ import annotations

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from ..services import redis_client
from . import rq_internals

QUEUE_NAMES: tuple[str, ...] = ("urgent", "mailers", "default")


def connection() -> redis.Redis:
    """This process's client of the course's Redis (started if needed): one client, kept, that finds the server
    again when it moves (``services.redis_client``); cheap to call as often as you like."""
    return redis_client.shared()


def queue(name: str = "default", connection_: redis.Redis | None = None, serializer: str | None = None) -> Queue:
    """The RQ queue `name` on the course's Redis; `serializer` ("json", "pickle"; default: rq's, pickle) is how
    its jobs are stored."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"Unknown queue {name!r}: the course's queues are {', '.join(QUEUE_NAMES)}.")
    return Queue(name, connection=connection_ or connection(), serializer=serializer)


def all_queues(connection_: redis.Redis | None = None) -> list[Queue]:
    """The course's queues in priority order."""
    conn = connection_ or connection()
    return [Queue(name, connection=conn) for name in QUEUE_NAMES]


def empty(q: Queue) -> int:
    """Drop every job of `q`, queued or in any of its registries; returns how many were queued.

    Each registered job goes through `Job.delete`, which knows how to leave every registry (rq 3's started-job
    registry refuses a plain `remove`); entries whose job is already gone go with the registry itself.
    """
    dropped = q.empty()
    # started first: reading it runs RQ's clean-up, which moves expired jobs into the failed registry
    for registry in (
        q.started_job_registry,
        q.failed_job_registry,
        q.finished_job_registry,
        q.scheduled_job_registry,
        q.deferred_job_registry,
        q.canceled_job_registry,
    ):
        for job in Job.fetch_many(registry.get_job_ids(), connection=q.connection):
            if job is not None:
                job.delete()
        rq_internals.delete_registry(registry)
    return dropped


def empty_all(connection_: redis.Redis | None = None) -> int:
    """Remove every job from the course's queues and their registries; returns how many queued jobs were dropped."""
    return sum(empty(q) for q in all_queues(connection_))


def all_jobs(connection_: redis.Redis | None = None) -> list[Job]:
    """Every job in the course's Redis, whatever its state, found by its hash: a job a worker is taking is in no
    list for a moment (a worker on several queues takes it with BLPOP, rq 3.0.0 ``Queue.dequeue_any``), but its hash
    is there from enqueue to delete, and a SCAN returns every key that exists while it runs."""
    conn = connection_ or connection()
    prefix = Job.redis_job_namespace_prefix
    ids = [key.decode()[len(prefix) :] for key in conn.scan_iter(match=f"{prefix}*", count=1000)]
    ids = [i for i in ids if ":" not in i]  # a job's own hash, not its results' or its dependents' keys
    try:
        return [job for job in Job.fetch_many(ids, connection=conn) if job is not None]
    except NoSuchJobError:  # a hash that is no job's (a worker wrote to one deleted under it): skip it
        found = []
        for job_id in ids:
            try:
                found.append(Job.fetch(job_id, connection=conn))
            except NoSuchJobError:
                continue
        return found
