"""RQ's internals: the one module of the course that reads or writes RQ's Redis layout below its public API, or
repeats a rule RQ keeps to itself. Everything else goes through RQ's public classes (``Worker.all``,
``Worker.find_by_key``, ``worker.get_state()``, ``worker.shutdown_requested_date``, ``Retry.intervals``...).

Each use says the RQ version it was read in (rq 3.0.0, the version ``requirements.txt`` pins: ``rq/worker/base.py``,
``rq/job.py``, ``rq/registry.py``, ``rq/scheduler.py``, ``rq/rate_limit.py``); should a later RQ store things
differently, only this module changes, and ``tests/test_rq_internals.py`` (which checks each one against the
installed RQ) says where.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from rq import Worker, cron_job_registry
from rq.defaults import RQ_KEY_PREFIX
from rq.executions import Execution
from rq.job import Job
from rq.rate_limit import RateLimitRegistry
from rq.registry import BaseRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

# --- a worker's hash --------------------------------------------------------------------------------------------


def worker_key(name: str) -> str:
    """The key of the worker `name`'s hash, which ``Worker.find_by_key`` asks for. rq 3.0.0:
    ``Worker.redis_worker_namespace_prefix + name`` (``rq:worker:<name>``)."""
    return Worker.redis_worker_namespace_prefix + name


def worker_registered(conn: redis.Redis, name: str) -> bool:
    """Does the worker `name` have its hash in Redis (it has registered, and not yet unregistered or expired)?

    rq 3.0.0: RQ's own ``Worker.find_by_key`` checks the same key, but removes the name from the set of all workers
    when the key is missing, which a worker registering at that moment never recovers from (``workers.record``).
    """
    return bool(conn.exists(worker_key(name)))


# --- a job's hash -----------------------------------------------------------------------------------------------


def job_statuses(conn: redis.Redis, jobs: Sequence[Job]) -> list[str | None]:
    """Each job's status as Redis has it now, in one round trip (None: the job's hash is gone).

    rq 3.0.0: ``Job.get_status(refresh=True)`` reads the field ``status`` of the job's hash (``job.key``), one
    command per job; RQ has no call that reads several at once.
    """
    with conn.pipeline() as pipe:
        for job in jobs:
            pipe.hget(job.key, "status")
        return [value.decode() if value else None for value in pipe.execute()]


def is_rq_key(key: bytes) -> bool:
    """Is `key` one of RQ's own (a queue, a registry, a job, a worker...)? rq 3.0.0: every key RQ writes starts
    with ``RQ_KEY_PREFIX`` (``rq``, or ``$RQ_KEY_PREFIX``) and a colon."""
    return key.startswith(f"{RQ_KEY_PREFIX}:".encode())


# --- the started registry: when an execution counts as abandoned ------------------------------------------------
# rq 3.0.0 has no public call for "when does this execution's deadline pass" or "let it pass now". Both are the
# score of the entry "<job id>:<execution id>" (``Execution.composite_key``) in the registry's sorted set
# (``StartedJobRegistry.add_execution``: now + ttl); ``StartedJobRegistry.cleanup(timestamp)`` takes the entries
# scored from 0 to `timestamp` (``get_expired_job_ids``), retries or fails each job still STARTED, and removes them.

MARKED = 0  # the deadline of an execution marked abandoned: before any real one, so a clean-up up to it takes only it


def execution_deadline(registry: StartedJobRegistry, job_id: str, execution_id: str) -> float | None:
    """The Unix time at which the registry counts this execution as abandoned (None: not listed)."""
    key = Execution(execution_id, job_id, registry.connection).composite_key
    return registry.connection.zscore(registry.key, key)


def mark_abandoned(registry: StartedJobRegistry, job_id: str, execution_id: str) -> bool:
    """Move this execution's deadline to ``MARKED``, so that ``cleanup_marked(registry)`` takes it. False when the
    registry does not list it (then nothing is written)."""
    key = Execution(execution_id, job_id, registry.connection).composite_key
    return registry.connection.zadd(registry.key, {key: MARKED}, xx=True, ch=True) == 1


def cleanup_marked(registry: StartedJobRegistry) -> None:
    """RQ's own clean-up of abandoned jobs, for the executions ``mark_abandoned`` marked and no other."""
    registry.cleanup(timestamp=MARKED)


def delete_registry(registry: BaseRegistry) -> None:
    """Delete a registry's sorted set with whatever it still lists (entries whose job is gone too). rq 3.0.0: a
    registry is the one sorted set ``registry.key``."""
    registry.connection.delete(registry.key)


# --- when a Retry tries again -------------------------------------------------------------------------------------


def retry_pause(retries_left: int, intervals: Sequence[int] | None) -> int:
    """The pause before the retry a job makes with `retries_left` retries left and `intervals` stored.

    rq 3.0.0, ``Job.get_retry_interval`` (a method of a stored job, reading only these two fields): the interval
    ``intervals[max(len(intervals) - retries_left, 0)]``, counted from the list's end as ``retries_left`` goes
    down, so with more retries than intervals the first value comes again; 0 without intervals.
    """
    if not intervals:
        return 0
    return int(intervals[max(len(intervals) - retries_left, 0)])


# --- the scheduler's locks ----------------------------------------------------------------------------------------


def scheduler_lock_owner(conn: redis.Redis, queue_name: str) -> str | None:
    """The name of the scheduler that holds `queue_name`'s lock, or None. rq 3.0.0: the lock is the key
    ``RQScheduler.get_locking_key(queue)`` (``rq:scheduler-lock:<queue>``), its value the scheduler's name, set by
    ``RQScheduler.acquire_locks`` with an expiry of a minute or so."""
    owner = conn.get(RQScheduler.get_locking_key(queue_name))
    return owner.decode() if isinstance(owner, bytes) else owner


def delete_scheduler_lock(conn: redis.Redis, queue_name: str) -> None:
    """Delete `queue_name`'s scheduler lock (RQ's ``release_locks`` deletes only its own scheduler's)."""
    conn.delete(RQScheduler.get_locking_key(queue_name))


# --- a rate limit ---------------------------------------------------------------------------------------------


def delete_rate_limit(conn: redis.Redis, key: str) -> None:
    """Delete every key of the rate limit `key` and unlist it. rq 3.0.0 (``RateLimitRegistry``): a config hash
    (``config_key``), two sorted sets (``allowed_key``, ``rate_limited_key``) and an entry in the set
    ``rl_keys_key``; RQ has no call that removes a rate limit."""
    registry = RateLimitRegistry(key, conn)
    conn.delete(registry.allowed_key, registry.rate_limited_key, registry.config_key)
    conn.srem(RateLimitRegistry.rl_keys_key, key)


# --- rq cron's registry -------------------------------------------------------------------------------------------


def cron_last_enqueue(conn: redis.Redis, name: str) -> float | None:
    """Unix time of the cron job `name`'s last enqueue, or None: rq 3.0.0 ``rq/cron_job_registry.py`` ``add`` keeps a
    sorted set of names scored by that time (its public ``get_names`` gives the names only)."""
    score = conn.zscore(cron_job_registry.get_registry_key(), name)
    return None if score is None else float(score)
