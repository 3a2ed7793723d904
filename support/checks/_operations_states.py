"""The states 10_operations' Exercise 3 (which alerts fire) is checked against, built for real on queues of the
check's own: a job failed by RQ's own worker, a worker registered on a queue as RQ registers one, a cron job's run
recorded as ``rq cron`` records it. Everything goes again when the check ends, and the notebook's process keeps its
signal handlers and log handlers (the SimpleWorker installs its own)."""

from __future__ import annotations

import logging
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from rq import Queue, SimpleWorker, Worker, cron_job_registry
from rq.cron import CronJob, get_cron_job_history_key

from .. import ops_jobs
from ..rq_helpers import queues

QUIET = ("rq.worker", "rq.job", "rq.cron")  # RQ's loggers a SimpleWorker and CronJob.enqueue write to


@contextmanager
def scratch_queues() -> Iterator[tuple[Queue, Queue, str]]:
    """Two empty queues of the check's own and the name of a cron job; every key of theirs is deleted at the end."""
    conn = queues.connection()
    token = f"alerts-check-{uuid.uuid4().hex[:8]}"
    queue, other = (Queue(f"{token}{tail}", connection=conn) for tail in ("", "-other"))
    try:
        yield queue, other, token
    finally:
        for worker in Worker.all(queue=queue) + Worker.all(queue=other):
            worker.register_death()
        for q in (queue, other):
            queues.empty(q)
            q.delete(delete_jobs=True)
        conn.zrem(cron_job_registry.get_registry_key(), token)
        conn.delete(get_cron_job_history_key(token), *conn.scan_iter(match=f"*{token}*"))


@contextmanager
def _rq_quiet() -> Iterator[None]:
    """Silence RQ's log lines while a state is built (a SimpleWorker adds handlers: they go again)."""
    saved = [(log, list(log.handlers), log.level, log.disabled) for log in map(logging.getLogger, QUIET)]
    for log, *_ in saved:
        log.disabled = True
    try:
        yield
    finally:
        for log, handlers, level, disabled in saved:
            log.handlers[:] = handlers
            log.setLevel(level)
            log.disabled = disabled


def fail_one_job(queue: Queue) -> None:
    """Enqueue a job that raises, and let a burst SimpleWorker (RQ's own worker, in this process) run it. The worker
    installs its own SIGINT and SIGTERM handlers: the kernel's come back after it (an interrupt must still work)."""
    queue.enqueue(ops_jobs.work_for, 0, True, failure_ttl=600)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _rq_quiet():
            SimpleWorker([queue], connection=queue.connection, name=f"{queue.name}-burst").work(
                burst=True, with_scheduler=False
            )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def register_listener(queue: Queue) -> Worker:
    """A worker registered as listening on `queue`, as RQ registers one when it starts (``register_birth``); no
    process runs behind it, so it takes no job."""
    worker = Worker([queue], connection=queue.connection, name=f"{queue.name}-listener-{uuid.uuid4().hex[:4]}")
    worker.register_birth()
    return worker


def record_cron_run(queue: Queue, cron_job: str) -> None:
    """Run the cron job `cron_job` once as ``rq cron`` does (rq 3.0.0 ``CronJob.enqueue``): a job enqueued on
    `queue`, and the time of this run recorded in ``rq.cron_job_registry``."""
    with _rq_quiet():
        CronJob(queue.name, func=ops_jobs.work_for, args=(0,), interval=60, name=cron_job).enqueue(queue.connection)
