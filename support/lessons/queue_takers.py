"""Who else would take the jobs that ``06_scaling_and_scheduling`` times (``scaling.prepare``, also run by 08 and
09): the live workers listening to its queues, and the scheduler holding each queue's lock (a killed one's stale lock,
deleted so that a new scheduler can take it).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from rq import Worker
from rq.scheduler import RQScheduler
from rq.worker import BaseWorker

from ..rq_helpers import queues, recovery, rq_internals


def live_workers(queue_names: Sequence[str], connection: redis.Redis | None = None) -> list[BaseWorker]:
    """Workers registered in Redis that listen to any of `queue_names` and whose process still runs.

    A worker killed with SIGKILL stays registered until its key expires (minutes); it takes no jobs, so it is
    left out here (``recovery.is_gone``).
    """
    conn = connection or queues.connection()
    wanted = set(queue_names)
    return [
        worker
        for worker in Worker.all(connection=conn)
        if wanted & set(worker.queue_names()) and not recovery.is_gone(worker)
    ]


def _lock_owners(queue_names: Sequence[str], conn: redis.Redis) -> dict[str, tuple[str, bool]]:
    """{queue: (the name of the scheduler holding its lock, whether that scheduler still runs)}, for the queues of
    `queue_names` whose lock is held."""
    owners = {}
    for name in queue_names:
        owner = rq_internals.scheduler_lock_owner(conn, name)
        if owner is None:
            continue
        try:
            alive = not recovery.is_gone(RQScheduler.fetch(owner, conn))
        except Exception:  # noqa: BLE001 - no metadata left: its owner is gone
            alive = False
        owners[name] = (owner, alive)
    return owners


def scheduler_lock_holders(queue_names: Sequence[str], connection: redis.Redis | None = None) -> dict[str, str]:
    """Which live scheduler holds the lock of each queue ({queue: scheduler name}); changes nothing.

    RQ lets one scheduler per queue move due jobs onto it. A scheduler that was killed keeps its lock for about a
    minute: such a lock is left out here (``delete_stale_scheduler_locks`` removes it).
    """
    owners = _lock_owners(queue_names, connection or queues.connection())
    return {name: owner for name, (owner, alive) in owners.items() if alive}


def delete_stale_scheduler_locks(queue_names: Sequence[str], connection: redis.Redis | None = None) -> list[str]:
    """Delete RQ's scheduler lock of each of `queue_names` whose holder's process is gone (killed: it kept its lock),
    so that a new scheduler can take it at once; returns those queues."""
    conn = connection or queues.connection()
    stale = [name for name, (_owner, alive) in _lock_owners(queue_names, conn).items() if not alive]
    for name in stale:
        rq_internals.delete_scheduler_lock(conn, name)
    return stale
