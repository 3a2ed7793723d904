"""The course's RQ queues on the course's Redis.

Three named queues, as in the seed lesson's ``queue_as``: ``urgent``, ``mailers`` and ``default``. A worker listens
to them in that order, so an urgent job is always taken before a waiting mailer or default job.
"""

from __future__ import annotations

import redis
from rq import Queue

from . import redis_server

QUEUE_NAMES: tuple[str, ...] = ("urgent", "mailers", "default")


def connection() -> redis.Redis:
    """A connection to the course's Redis (started if needed)."""
    return redis_server.connect()


def queue(name: str = "default", connection_: redis.Redis | None = None) -> Queue:
    """The RQ queue `name` on the course's Redis."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"Unknown queue {name!r}: the course's queues are {', '.join(QUEUE_NAMES)}.")
    return Queue(name, connection=connection_ or connection())


def all_queues(connection_: redis.Redis | None = None) -> list[Queue]:
    """The course's queues in priority order."""
    conn = connection_ or connection()
    return [Queue(name, connection=conn) for name in QUEUE_NAMES]


def empty_all(connection_: redis.Redis | None = None) -> int:
    """Remove every job from the course's queues and their registries; returns how many queued jobs were dropped."""
    dropped = 0
    for q in all_queues(connection_):
        dropped += q.count
        q.empty()
        # started first: reading it runs RQ's clean-up, which moves expired jobs into the failed registry
        for registry in (q.started_job_registry, q.failed_job_registry, q.finished_job_registry,
                         q.scheduled_job_registry, q.deferred_job_registry, q.canceled_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
    return dropped
