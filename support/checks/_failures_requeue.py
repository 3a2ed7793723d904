"""Exercise 1 of ``05_when_things_fail`` (``support.checks.failures.ex_requeue``): requeue what the outage broke.

The check fills a queue of its own, which no worker of the course listens to, with real failures: two emails sent
while the mail catcher is stopped (ConnectionError), one job called with a wrong argument (TypeError) and one that
gives up (RuntimeError, raised from a ConnectionError: its traceback mentions both), each run
by a real ``rq worker --burst``. With the catcher back, it calls the learner's function on that queue, looks where
each job is, and runs the worker once more: the requeued emails must reach the inbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

from rq import Queue
from rq.job import Job

from .. import failure_jobs, jobs
from ..exercises import Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import job_watch, queues, recovery
from ..services import inbox, mailcatcher, redis_server

QUEUE = "course-check-requeue"  # a queue of its own: no course worker takes its jobs


def requeue_reference(queue: Queue) -> int:
    """Requeue the jobs of `queue`'s failed registry that failed with ConnectionError; returns how many."""
    registry = queue.failed_job_registry
    requeued = 0
    for job_id in registry.get_job_ids():
        job = queue.fetch_job(job_id)
        if job is not None and recovery.error_line(job).startswith("ConnectionError"):
            registry.requeue(job_id)
            requeued += 1
    return requeued


def work_burst(queue: Queue, timeout: float = 60.0) -> None:
    """Run ``rq worker --burst`` (a SimpleWorker) on `queue` until it is empty: a real worker process, reaching the
    course's Redis through ``RQ_REDIS_URL``."""
    done = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--worker-class", "rq.worker.SimpleWorker", queue.name],
        env={**os.environ, "RQ_REDIS_URL": redis_server.url()},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rq worker --burst exited with {done.returncode}: {done.stderr.strip()[-300:]}")


def _failed_queue() -> tuple[Queue, list[Job], list[Job], str]:
    """The check's queue, emptied, then filled with real failures: (queue, emails, other failures, the address)."""
    queue = Queue(QUEUE, connection=queues.connection())
    queues.empty(queue)
    email = f"outage-{uuid.uuid4().hex[:10]}@example.com"
    mailcatcher.stop()
    try:
        emails = [queue.enqueue(jobs.send_gif_email, email, f"Sent after the outage ({n})", 0) for n in (1, 2)]
        others = [
            queue.enqueue(failure_jobs.slow_job, "three"),  # a bug: time.sleep("three") raises TypeError
            queue.enqueue(
                failure_jobs.send_login_code, "code-" + email, "123456"
            ),  # gives up: RuntimeError from ConnectionError
        ]
        work_burst(queue)
    finally:
        mailcatcher.start()  # the outage is over: the mail server is back
    return queue, emails, others, email


def _check_requeue(fn: Callable[..., Any]) -> str:
    require_function(fn, "requeue_outage_failures", ("queue",))
    queue, emails, others, email = _failed_queue()
    try:
        errors = [recovery.error_line(job).split(":", 1)[0] for job in others]  # read before the function runs
        returned = call(fn, queue)
        registry = queue.failed_job_registry
        for job in emails:
            status = job_watch.status(job)
            if job.id in registry or status == "failed":
                raise Incorrect(
                    f"An email that failed with ConnectionError is still failed ({status}) in the failed registry of "
                    f"the queue your function was given ({queue.name}): requeue each job whose error is a "
                    "ConnectionError, with registry.requeue(job_id) or job.requeue(), from the queue you are given."
                )
        for job, error, why in zip(others, errors, ("it would only fail again", "it gave up on purpose"), strict=True):
            if job_watch.status(job) == "deleted":
                raise Incorrect(
                    f"The job that failed with {error} is gone: leave the other failed jobs in the failed registry, "
                    "for someone to read."
                )
            if job.id not in registry or job_watch.status(job) != "failed":
                mentions = " (its traceback mentions ConnectionError, but its error, the last line, is not one)"
                raise Incorrect(
                    f"The job that failed with {error} was requeued too{mentions if error == 'RuntimeError' else ''}: "
                    f"{why}. Requeue only the jobs whose error is a ConnectionError, leave the others."
                )
        if isinstance(returned, bool) or returned != len(emails):
            raise Incorrect(
                f"Your function requeued the right jobs but returned {describe(returned)}: return how many it "
                f"requeued ({len(emails)} here)."
            )
        work_burst(queue)
        sent = len(inbox.to_address(email))
        if sent != len(emails):
            raise Incorrect(
                f"After your requeue a worker ran the queue, and {sent} of the {len(emails)} emails went out."
            )
    finally:
        queues.empty(queue)
    return (
        f"The {len(emails)} emails the outage broke went back on their queue and out to the inbox; the job that "
        "failed with a TypeError and the one that gave up stay in the failed registry; your function returned 2."
    )


ex_requeue = Exercise(
    "Exercise 1",
    _check_requeue,
    title="Requeue what the outage broke",
    hints=[
        "queue.failed_job_registry.get_job_ids() lists the failed jobs; queue.fetch_job(job_id) gives each one.",
        "job.latest_result().exc_string is the traceback; its last line starts with the error's name. "
        "registry.requeue(job_id) puts the job back on its queue.",
    ],
    solution="""\
def requeue_outage_failures(queue):
    registry = queue.failed_job_registry
    requeued = 0
    for job_id in registry.get_job_ids():
        job = queue.fetch_job(job_id)
        last_line = job.latest_result().exc_string.strip().splitlines()[-1]
        if last_line.startswith("ConnectionError"):
            registry.requeue(job_id)
            requeued += 1
    return requeued""",
    reference=requeue_reference,
)
