"""Getting jobs back: when a Retry tries again, and the jobs a worker abandoned when it died mid-job.

``retry_times(retry)`` says when RQ tries a job again after its first failure (RQ's own interval rule).
``error_line(job)`` is the last line of a failed job's exception, without the time some RQ errors carry.

A worker killed mid-job, and how RQ 3 notices on its own. A job a worker takes goes into its queue's
``StartedJobRegistry`` (a sorted set) with a deadline as its score: now + min(the job's timeout,
``job_monitoring_interval`` = 30 s) + 60 s, so about 90 s. While the job runs, the worker keeps pushing that deadline
forward (its heartbeat: ``monitor_work_horse`` -> ``maintain_heartbeats``, in the worker, the parent; the work horse
never pushes it). A worker killed with SIGKILL stops pushing, even when its horse lives on and still runs the job:
such a job is called abandoned at its deadline all the same, and retried or failed while the orphaned horse runs it.
Once the deadline has passed, the next
``StartedJobRegistry.cleanup()`` (every worker runs one when it starts and every 10 minutes after, one worker at a
time; ``registry.count`` and ``get_job_ids()`` run it too) finds the job still STARTED: an *abandoned* job. It
retries it if it has retries left, else moves it to the ``FailedJobRegistry`` with the error ``AbandonedJobError``.
The dead worker itself stays listed in Redis until its key expires (up to 90 s when it was busy, 480 s when idle).

``recover_abandoned()`` does the same now rather than in a minute and a half, and only for the executions of a worker
known to be dead: registered in Redis from this machine, its process no longer running. (A worker on another machine
cannot be checked from here: its jobs are left to RQ's deadline.)
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import redis
from rq import Retry, Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.worker import BaseWorker

from ..services.processes import Service
from . import queues, rq_internals

# --- retries ---------------------------------------------------------------------------------------------------


def retry_intervals(retry: Retry | Job | tuple[int, list[int]]) -> list[int]:
    """The pause before each retry of a job with `retry`, of a stored job, or of ``(retries_left, intervals)``.

    This is RQ's own rule (``Job.get_retry_interval``, see ``rq_internals.retry_pause``): the pause is taken from the
    list of intervals, counted from its end as ``retries_left`` goes down, so with more retries than intervals the
    first value comes again.
    """
    if isinstance(retry, Job):
        left, intervals = retry.retries_left or 0, retry.retry_intervals
    elif isinstance(retry, Retry):
        left, intervals = retry.max, list(retry.intervals)
    else:
        left, intervals = retry
    pauses = []
    while left > 0:
        pauses.append(rq_internals.retry_pause(left, intervals))
        left -= 1
    return pauses


def retry_times(retry: Retry | Job | tuple[int, list[int]]) -> list[int]:
    """Seconds after the first failure at which each retry starts (not counting how long each try takes, nor the
    scheduler's rounds, which come once a second)."""
    times, total = [], 0
    for pause in retry_intervals(retry):
        total += pause
        times.append(total)
    return times


_AT_TIME = re.compile(r",? at \d{4}-\d\d-\d\d[ T][\d:.+]+$")


def error_line(job: Job) -> str:
    """The last line of the job's latest failure, without the time stamp some RQ messages end with."""
    try:
        result = job.latest_result()
    except Exception:  # noqa: BLE001 - an unreadable result must not break a view or a check
        result = None
    text = (result.exc_string if result is not None else "") or job.exc_info or ""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return _AT_TIME.sub("", lines[-1]) if lines else "(no error recorded)"


# --- a worker killed mid-job -------------------------------------------------------------------------------------


def work_horse(service: Service) -> psutil.Process | None:
    """The work horse of a forking worker that is running a job: the child it forked for that job, or None.

    A forking ``Worker`` (not ``SimpleWorker``) forks one child per job; a worker started with the scheduler has one
    more child, the scheduler, started before any job: the work horse is the newest child.
    """
    try:
        children = psutil.Process(service.pid).children()
    except psutil.Error:
        return None
    live = [c for c in children if _running(c)]
    return max(live, key=lambda c: c.create_time()) if live else None


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def is_gone(process: BaseWorker | RQScheduler) -> bool:
    """The course's one rule for "is this worker (or scheduler) dead": True when it ran on this machine (its
    hostname is ours) and its PID no longer runs, or is a zombie. One of another machine, or one that has not said
    its PID, cannot be checked from here: it counts as alive."""
    if not process.pid or process.hostname != socket.gethostname():
        return False  # on another machine: we cannot tell from here
    try:
        return not _running(psutil.Process(process.pid))
    except psutil.Error:
        return True


def dead_workers(connection: redis.Redis | None = None) -> list[BaseWorker]:
    """Workers still registered in Redis whose process is gone (see ``is_gone``), by name."""
    conn = connection or queues.connection()
    return sorted((w for w in Worker.all(connection=conn) if is_gone(w)), key=lambda w: w.name)


def _execution(job: Job, conn: redis.Redis) -> tuple[StartedJobRegistry, str] | None:
    """The started registry that lists `job`, and the id of its execution there (None: not listed)."""
    registry = StartedJobRegistry(job.origin, connection=conn, job_class=type(job), serializer=job.serializer)
    for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
        if job_id == job.id:
            return registry, execution_id
    return None


def seconds_left(job: Job, connection: redis.Redis | None = None) -> float | None:
    """How long the ``StartedJobRegistry`` still gives `job` before it counts as abandoned (None: not listed)."""
    found = _execution(job, connection or job.connection)
    if found is None:
        return None
    deadline = rq_internals.execution_deadline(found[0], job.id, found[1])
    return None if deadline is None else deadline - time.time()


def _hand_to_cleanup(executions: list[tuple[StartedJobRegistry, str, str]]) -> list[bool]:
    """Let each (registry, job id, execution id)'s deadline pass now and run RQ's clean-up on exactly those: a job
    with retries left is retried, any other goes to the ``FailedJobRegistry`` with ``AbandonedJobError``; every other
    job of the registries stays as it is. Returns, for each, whether the registry listed it."""
    marked = [rq_internals.mark_abandoned(*execution) for execution in executions]
    touched = {registry.name: registry for (registry, _job, _execution), ok in zip(executions, marked) if ok}
    with hidden_log_records("rq.registry", below=logging.ERROR):  # its warning (job id, time) would land in a cell
        for name in sorted(touched):
            rq_internals.cleanup_marked(touched[name])
    return marked


def abandon(job: Job, connection: redis.Redis | None = None) -> bool:
    """What RQ's clean-up does to `job` once its deadline in the ``StartedJobRegistry`` has passed, done now, and
    to this job only. False when the registry does not list it."""
    found = _execution(job, connection or job.connection)
    return found is not None and _hand_to_cleanup([(found[0], job.id, found[1])]) == [True]


def recover_abandoned(connection: redis.Redis | None = None) -> list[Job]:
    """Hand every job a dead worker left behind to RQ's own clean-up now; returns those jobs, refreshed.

    A dead worker is one still registered in Redis from this machine whose process no longer runs (``is_gone``).
    RQ keeps, per worker, an index of the executions it is running (``Worker.get_current_executions``): a live
    worker's jobs are never touched, however busy it is. Each abandoned execution's deadline in its queue's
    ``StartedJobRegistry`` is moved to now, and RQ's clean-up runs on those executions only (``_hand_to_cleanup``).
    The dead workers are then unregistered, as a worker does itself when it shuts down properly.
    """
    conn = connection or queues.connection()
    dead = dead_workers(conn)
    left: list[tuple[Job, tuple[StartedJobRegistry, str, str]]] = []
    for worker in dead:
        for execution in worker.get_current_executions(refresh=True):
            job = Job.fetch_many([execution.job_id], connection=conn)[0]
            if job is not None:  # else its data is gone: nothing to hand back
                left.append((job, (job.started_job_registry, job.id, execution.id)))
    handed = _hand_to_cleanup([execution for _job, execution in left])
    recovered = [job for (job, _execution), ok in zip(left, handed) if ok]
    for worker in dead:
        worker.register_death()
    for job in recovered:
        job.refresh()
    return recovered


class _Below(logging.Filter):
    """Lets through only the records at `level` or above."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


@contextmanager
def hidden_log_records(logger_name: str, below: int) -> Iterator[None]:
    """Inside the block, the logger `logger_name` drops its records under level `below` (its level is untouched)."""
    logger = logging.getLogger(logger_name)
    dropper = _Below(below)
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)
