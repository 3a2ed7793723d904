"""Faults caused at a chosen moment, for ``05_when_things_fail``: the mail server back between two tries of a
retried email, a work horse or a whole worker killed while a job runs and before its email has left.

Each of these is a race when done by hand: a kill a moment too late finds the email already out. So the jobs used
here (``support.failure_jobs``) hold at the step in question until the helper has acted (``support.rq_helpers.holds``);
what the helper did then happened at that step on any machine, fast or slow. The notebook reads only what it sees:

    retried, back = faults.send_during_outage(mailers, email, thought, retry=Retry(...), mail_back_after_try=2)
    job, status_at_kill, killed_at = faults.kill_work_horse_mid_send(worker, mailers, email, thought)
    batch = faults.send_batch_and_kill_worker(worker, mailers, emails, thought, kill_during=2)
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

from rq import Queue, Retry
from rq.job import Job

from .. import failure_jobs, jobs
from ..rq_helpers import job_watch, recovery
from ..services import mailcatcher, processes
from ..services.processes import Service


def send_during_outage(
    queue: Queue, email: str, thought: str, *, retry: Retry, mail_back_after_try: int, delay: float = 0.2
) -> tuple[Job, float]:
    """Enqueue the email with `retry` while the mail catcher is down (``failure_jobs.tracked_send``: each try noted
    in Redis), and start the catcher again right after try number `mail_back_after_try` has failed, before the next
    try can begin. Returns the job and the Unix time the catcher was back."""
    job = queue.enqueue(
        failure_jobs.tracked_send, email, thought, delay=delay, hold_failed_try=mail_back_after_try, retry=retry
    )
    failure_jobs.wait_until_held(job)  # that try has failed and waits: the next one cannot have begun
    mailcatcher.start()
    back = time.time()
    failure_jobs.release(job)  # now RQ hears of the failure, and schedules the next try
    return job, back


def kill_work_horse_mid_send(
    worker: Service, queue: Queue, email: str, thought: str, delay: float = 0.2
) -> tuple[Job, str, float]:
    """Enqueue an email and SIGKILL the forking `worker`'s work horse while it runs the job, before the email has
    left. Returns the job, its status at the moment of the kill, and the ``time.perf_counter()`` of the kill."""
    job = queue.enqueue(failure_jobs.send_when_released, email, thought, delay=delay)
    failure_jobs.wait_until_held(job)  # running in the work horse, and not sent yet
    status_at_kill = job_watch.status(job)
    horse = recovery.work_horse(worker)
    if horse is None:
        raise RuntimeError("the worker has no work horse: is it a forking Worker (not SimpleWorker)?")
    os.kill(horse.pid, signal.SIGKILL)
    killed_at = time.perf_counter()
    failure_jobs.release(job)  # a later run of this job (a requeue) goes straight through
    return job, status_at_kill, killed_at


def send_batch_and_kill_worker(
    worker: Service, queue: Queue, emails: Sequence[str], thought: str, *, kill_during: int, delay: float = 0.2
) -> list[Job]:
    """Enqueue one email per address; while job number `kill_during` (1-based) runs, before its email has left,
    SIGKILL the forking `worker` and then its work horse (the worker first, so that nobody reports the horse's
    death). Returns the jobs, once the worker is gone."""
    batch = [
        queue.enqueue(
            failure_jobs.send_when_released if n == kill_during else jobs.send_gif_email, email, thought, delay=delay
        )
        for n, email in enumerate(emails, start=1)
    ]
    held = batch[kill_during - 1]
    failure_jobs.wait_until_held(held)  # it runs, and has not sent
    horse = recovery.work_horse(worker)
    os.kill(worker.pid, signal.SIGKILL)
    if horse is not None:
        os.kill(horse.pid, signal.SIGKILL)
    processes.wait_until(lambda: not worker.alive(), timeout=5)
    failure_jobs.release(held)  # a later run of this job (a requeue) goes straight through
    return batch
