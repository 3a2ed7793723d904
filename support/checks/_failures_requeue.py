"""Exercise 1 of ``05_when_things_fail`` (``support.checks.failures.ex_requeue``): requeue what the outage broke.

The check fills a queue of its own, which no worker of the course listens to, with real failures: two emails sent
while the mail catcher is stopped (ConnectionError), one job called with a wrong argument (TypeError) and one that
gives up (RuntimeError, raised from a ConnectionError: its traceback mentions both); and a second queue of its own
with one more email that failed in the outage, which is not the learner's to requeue. A real ``rq worker --burst``
runs them. With the catcher back, it calls the learner's function on the first queue, looks where each job is (the
emails back on their queue as the same jobs, the others still failed, the second queue untouched), and runs the
worker once more: the requeued emails must reach the inbox. Then it calls the function again on the same queue,
where nothing failed with a ConnectionError any more: it must requeue nothing and return 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rq import Queue
from rq.job import Job

from .. import failure_jobs, jobs
from ..exercises import Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import job_watch, queues, recovery
from ..services import inbox, mailcatcher, redis_server

QUEUE = "course-check-requeue"  # a queue of its own: no course worker takes its jobs
OTHER_QUEUE = "course-check-requeue-other"  # another queue of its own, whose failed email the function must leave


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


def work_burst(*queue: Queue, timeout: float = 60.0) -> None:
    """Run ``rq worker --burst`` (a SimpleWorker) on the queues `queue` until they are empty: a real worker process,
    reaching the course's Redis through ``RQ_REDIS_URL``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--worker-class",
            "rq.worker.SimpleWorker",
            *(q.name for q in queue),
        ],
        env={**os.environ, "RQ_REDIS_URL": redis_server.url()},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rq worker --burst exited with {done.returncode}: {done.stderr.strip()[-300:]}")


@dataclass(frozen=True)
class Failures:
    """What the check's outage left: its queue, the emails it broke, the jobs that failed for a reason of their own,
    the address of the emails; the other queue and its failed email."""

    queue: Queue
    emails: list[Job]
    others: list[Job]
    email: str
    other_queue: Queue
    elsewhere: Job


def _failed_queue() -> Failures:
    """The check's queues, emptied, then filled with real failures."""
    conn = queues.connection()
    queue, other_queue = Queue(QUEUE, connection=conn), Queue(OTHER_QUEUE, connection=conn)
    for q in (queue, other_queue):
        queues.empty(q)
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
        elsewhere = other_queue.enqueue(jobs.send_gif_email, "elsewhere-" + email, "Not on your queue", 0)
        work_burst(queue, other_queue)
    finally:
        mailcatcher.start()  # the outage is over: the mail server is back
    return Failures(queue, emails, others, email, other_queue, elsewhere)


def _judge_first_call(f: Failures, returned: Any, errors: list[str]) -> None:
    registry = f.queue.failed_job_registry
    waiting = set(f.queue.get_job_ids())
    for job in f.emails:
        status = job_watch.status(job)
        if status == "deleted":
            raise Incorrect(
                "An email that failed with ConnectionError is gone from Redis: requeue puts the same job back on its "
                "queue (registry.requeue(job_id) or job.requeue()); a new job in its place is not the same job, and "
                "deleting the failed one loses its history."
            )
        if job.id in registry or status == "failed":
            raise Incorrect(
                f"An email that failed with ConnectionError is still failed ({status}) in the failed registry of "
                f"the queue your function was given ({f.queue.name}): requeue each job whose error is a "
                "ConnectionError, with registry.requeue(job_id) or job.requeue(), from the queue you are given."
            )
        if job.id not in waiting:
            raise Incorrect(
                f"An email that failed with ConnectionError left the failed registry, but it is not back on its queue "
                f"({status}): requeue puts the same job back on its queue, with registry.requeue(job_id)."
            )
    for job, error, why in zip(f.others, errors, ("it would only fail again", "it gave up on purpose"), strict=True):
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
    if f.elsewhere.id not in f.other_queue.failed_job_registry or job_watch.status(f.elsewhere) != "failed":
        raise Incorrect(
            f"An email that failed on another queue ({f.other_queue.name}) was requeued (or deleted) too: work on the "
            "queue your function is given, whichever it is, and only on it."
        )
    if isinstance(returned, bool) or returned != len(f.emails):
        raise Incorrect(
            f"Your function requeued the right jobs but returned {describe(returned)}: return how many it "
            f"requeued ({len(f.emails)} here)."
        )


def _check_requeue(fn: Callable[..., Any]) -> str:
    require_function(fn, "requeue_outage_failures", ("queue",))
    try:
        f = _failed_queue()
    except Exception as exc:  # noqa: BLE001 -- the check's own set-up, not the learner's code
        raise Incorrect(
            f"The check could not make its failed jobs ({type(exc).__name__}: {exc}). Is Redis running? course.up() "
            "starts it; then run this cell again."
        ) from None
    try:
        errors = [recovery.error_line(job).split(":", 1)[0] for job in f.others]  # read before the function runs
        returned = call(fn, f.queue)
        _judge_first_call(f, returned, errors)
        work_burst(f.queue)
        sent = len(inbox.to_address(f.email))
        if sent != len(f.emails):
            raise Incorrect(
                f"After your requeue a worker ran the queue, and {sent} of the {len(f.emails)} emails went out."
            )
        again = call(fn, f.queue)  # nothing failed with ConnectionError any more: two other failed jobs only
        if isinstance(again, bool) or again != 0:
            raise Incorrect(
                f"Called again on the same queue, where no job had failed with ConnectionError any more (two others "
                f"had), your function returned {describe(again)}: return how many it requeued (0 there)."
            )
        if any(job.id not in f.queue.failed_job_registry for job in f.others):
            raise Incorrect(
                "Called again on the same queue, your function requeued (or deleted) a job whose error is not a "
                "ConnectionError: leave every other failed job in the failed registry."
            )
    finally:
        queues.empty(f.queue)
        queues.empty(f.other_queue)
    return (
        f"The {len(f.emails)} emails the outage broke went back on their queue and out to the inbox; the job that "
        "failed with a TypeError, the one that gave up, and an email failed on another queue stayed failed; your "
        "function returned 2, and 0 when called again."
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
