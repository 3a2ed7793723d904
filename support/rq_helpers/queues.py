"""The course's RQ queues on the course's Redis.

Three named queues, as in the seed lesson's ``queue_as``: ``urgent``, ``mailers`` and ``default``. A worker listens
to them in that order, so an urgent job is always taken before a waiting mailer or default job.
"""

from __future__ import annotations

import redis
from rq import Queue
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
