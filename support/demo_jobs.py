"""Small jobs for measuring workers (``06_scaling_and_scheduling``): a one-second job, a no-op job, and a job that
reports its code.

They live in a module, not in a notebook cell, so that any worker can import them as ``support.demo_jobs.<name>``.
``one_second`` sleeps, the way a job that waits on a mail server or an API does: it holds a worker, not a CPU core.
"""

from __future__ import annotations

import os
import time


def one_second(n: int = 0) -> int:
    """Wait one second (like a slow SMTP call), then return `n`."""
    time.sleep(1.0)
    return n


def sleep_for(seconds: float, n: int = 0) -> int:
    """Wait `seconds`, then return `n`."""
    time.sleep(seconds)
    return n


def noop() -> None:
    """Do nothing: what is left to measure is the worker's own cost per job."""
    return None


def which_process() -> int:
    """The PID of the process that runs the job (a forking worker's is new for every job)."""
    return os.getpid()


def note_run(log: str, label: str, then_queue: str = "", then_label: str = "") -> str:
    """Append ``<worker name>|<label>`` to the Redis list `log` (which worker ran the job, and when, by its place in
    the list); then, if `then_queue` is given, enqueue ``note_run(log, then_label)`` there: a job that queues a
    follow-up job, as a real one does."""
    from rq import Queue, get_current_job

    job = get_current_job()
    if job is None:
        raise RuntimeError("note_run runs in a worker: enqueue it")
    job.connection.rpush(log, f"{job.worker_name}|{label}")
    job.connection.expire(log, 3600)
    if then_queue:
        Queue(then_queue, connection=job.connection).enqueue(note_run, log, then_label)
    return label
