"""Getting jobs back: when a Retry tries again, and the jobs a worker abandoned when it died mid-job.

``retry_times(retry)`` says when RQ tries a job again after its first failure (RQ's own interval rule).
``error_line(job)`` is the last line of a failed job's exception, without the time some RQ errors carry.

A worker killed mid-job, and how RQ 3 notices on its own. A job a worker takes goes into its queue's
``StartedJobRegistry`` (a sorted set) with a deadline as its score: now + min(the job's timeout,
``job_monitoring_interval`` = 30 s) + 60 s, so about 90 s. While the job runs, the worker keeps pushing that deadline
forward (its heartbeat). A worker killed with SIGKILL stops pushing. Once the deadline has passed, the next
``StartedJobRegistry.cleanup()`` (every worker runs one when it starts and every 10 minutes after, one worker at a
time; ``registry.count`` and ``get_job_ids()`` run it too) finds the job still STARTED: an *abandoned* job. It
retries it if it has retries left, else moves it to the ``FailedJobRegistry`` with the error ``AbandonedJobError``.
The dead worker itself stays listed in Redis until its key expires (up to 90 s when it was busy, 480 s when idle).

``recover_abandoned()`` does the same now rather than in a minute and a half, and only for jobs whose worker is
known to be dead: a worker registered from this machine whose process no longer runs. (A worker on another machine
cannot be checked from here: its jobs are left to RQ's deadline.)
"""

from __future__ import annotations

import logging
import re
import socket
import time
from types import SimpleNamespace

import psutil
import redis
from rq import Retry, Worker
from rq.job import Job
from rq.utils import parse_composite_key

from . import queues
from .processes import Service


# --- retries ---------------------------------------------------------------------------------------------------


def retry_intervals(retry: Retry | Job | tuple[int, list[int]]) -> list[int]:
    """The pause before each retry of a job with `retry`, of a stored job, or of ``(retries_left, intervals)``.

    This is RQ's own rule (``Job.get_retry_interval``): the pause is taken from the list of intervals, counted from
    its end as ``retries_left`` goes down, so with more retries than intervals the first value comes again.
    """
    if isinstance(retry, Job):
        left, intervals = retry.retries_left or 0, retry.retry_intervals
    elif isinstance(retry, Retry):
        left, intervals = retry.max, list(retry.intervals)
    else:
        left, intervals = retry
    pauses = []
    while left > 0:
        pauses.append(int(Job.get_retry_interval(SimpleNamespace(retries_left=left, retry_intervals=intervals))))
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


def is_gone(worker: Worker) -> bool:
    """True when `worker` ran on this machine and its process no longer runs (killed, crashed, or a zombie)."""
    if not worker.pid or worker.hostname != socket.gethostname():
        return False  # on another machine: we cannot tell from here
    try:
        return not _running(psutil.Process(worker.pid))
    except psutil.Error:
        return True


def dead_workers(connection: redis.Redis | None = None) -> list[Worker]:
    """Workers still registered in Redis whose process is gone (see ``is_gone``), by name."""
    conn = connection or queues.connection()
    return sorted((w for w in Worker.all(connection=conn) if is_gone(w)), key=lambda w: w.name)


def _started_entries(conn: redis.Redis) -> list[tuple[str, bytes, float, Job | None]]:
    """(queue name, registry entry, deadline, job) for every job in the course queues' started registries."""
    found = []
    for q in queues.all_queues(conn):
        registry = q.started_job_registry
        for entry, score in conn.zrange(registry.key, 0, -1, withscores=True):
            job_id, _execution = parse_composite_key(entry.decode())
            found.append((q.name, entry, score, Job.fetch_many([job_id], connection=conn)[0]))
    return found


def abandoned_jobs(connection: redis.Redis | None = None) -> list[Job]:
    """Jobs the course's queues list as started whose worker is dead or no longer registered at all."""
    conn = connection or queues.connection()
    alive = {w.name for w in Worker.all(connection=conn) if not is_gone(w)}
    return [job for _q, _entry, _score, job in _started_entries(conn) if job is not None
            and job.worker_name not in alive]


def seconds_left(job: Job, connection: redis.Redis | None = None) -> float | None:
    """How long the ``StartedJobRegistry`` still gives `job` before it counts as abandoned (None: not listed)."""
    conn = connection or job.connection
    scores = [score for _q, _entry, score, listed in _started_entries(conn)
              if listed is not None and listed.id == job.id]
    return scores[0] - time.time() if scores else None


def recover_abandoned(connection: redis.Redis | None = None) -> list[Job]:
    """Hand every abandoned job (see ``abandoned_jobs``) to RQ's own clean-up now; returns those jobs, refreshed.

    Their deadline in the ``StartedJobRegistry`` is moved to now, and ``cleanup()`` runs: a job with retries left
    is retried, any other job goes to the ``FailedJobRegistry`` with ``AbandonedJobError``. The dead workers are
    unregistered, as a worker does itself when it shuts down properly.
    """
    conn = connection or queues.connection()
    dead = dead_workers(conn)
    alive = {w.name for w in Worker.all(connection=conn)} - {w.name for w in dead}
    now = time.time()
    recovered: list[Job] = []
    touched = set()
    for queue_name, entry, _score, job in _started_entries(conn):
        if job is not None and job.worker_name not in alive:
            conn.zadd(queues.queue(queue_name, conn).started_job_registry.key, {entry: now - 1}, xx=True)
            recovered.append(job)
            touched.add(queue_name)
    registry_log = logging.getLogger("rq.registry")
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)  # its warning (job id and time) would land in the notebook cell
    try:
        for queue_name in sorted(touched):
            queues.queue(queue_name, conn).started_job_registry.cleanup(timestamp=now)
    finally:
        registry_log.setLevel(level)
    for worker in dead:
        worker.register_death()
    for job in recovered:
        job.refresh()
    return recovered
