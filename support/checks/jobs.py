"""The exercises of notebook 03_jobs: write the job, route a job to the urgent queue, start the worker in a terminal,
send an email through a worker.

Each check looks at what really happened: the module file is imported afresh and its class inspected (that check,
Exercise 1's, is in ``_jobs_job_file``); the worker is looked for in Redis and the process table (Exercise 3:
``_jobs_terminal_worker``); the job is read back from Redis (its queue, its status, the worker that ran
it); the email is looked for in the mail catcher.

The reference solutions live here too, as classes a worker can import (``support.checks.jobs:GifSenderJob``): when
an exercise is left blank, ``use()`` falls back to them so that the rest of the notebook still runs.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job

from ..active_job import ActiveJob, ConfiguredJob
from ..exercises import Exercise, Incorrect, NotAttempted, describe, is_placeholder, load_module_from
from ..lessons import terminal_worker
from ..rq_helpers import job_watch, queues, recovery
from ..services import inbox
from ..workit.mailer import deliver
from ._jobs_job_file import check_job_file
from ._jobs_terminal_worker import TerminalWorkerExercise, check_terminal_worker, worker_in_a_second_kernel

PERFORM_JOB = "support.active_job.perform_job"
# --- the reference solutions ---------------------------------------------------------------------------------


class GifSenderJob(ActiveJob):
    """The seed's GifSenderJob: one GIF email, on the mailers queue (the reference solution of Exercise 1)."""

    queue_as = "mailers"

    def perform(self, email, thought):
        return deliver(email, thought)


class PasswordResetJob(ActiveJob):
    """A quick job (no delay) that someone is waiting for; the same as the notebook's quick_jobs.PasswordResetJob."""

    queue_as = "default"

    def perform(self, email):
        return f"reset link for {email} sent"


REFERENCE_EMAIL = "you@example.com"
REFERENCE_THOUGHT = "The reference job sent this one"


# --- Exercise 1: the job as a module file --------------------------------------------------------------------


class JobFileExercise(Exercise):
    """Exercise 1. ``check("gif_sender_job.py")`` inspects the file; ``use(...)`` gives the job class to go on with
    (yours when the file checks as correct, else the reference class)."""

    def accept(self, value: Any) -> type[ActiveJob]:
        """Your GifSenderJob class, imported afresh from your file, when the file checks as correct. The file is
        checked again: it may have changed since the last check while its name stayed the same."""
        result = self.check(value)
        if not result.correct:
            raise Incorrect(result.message)
        return load_module_from(Path(value)).GifSenderJob


ex_write_job = JobFileExercise(
    "Exercise 1",
    check_job_file,
    title="Write GifSenderJob as a module",
    hints=[
        "queue_as names one of the course's queues (urgent, mailers, default); the Rails lesson puts mail jobs on "
        "mailers.",
        "perform is a method: self comes first, then what the job needs, in the order perform_later hands it "
        "over: def perform(self, email, thought):",
        "Its body sends the email: deliver(email, thought), imported at the top of the file, does the slow work.",
    ],
    solution='class GifSenderJob(ActiveJob):\n    queue_as = "mailers"\n\n    def perform(self, email, thought):\n'
    "        deliver(email, thought)",
    reference=GifSenderJob,
)


# --- Exercise 2: one job to the urgent queue -----------------------------------------------------------------


def _stored(job: Job) -> Job:
    """The job as Redis has it now."""
    try:
        return Job.fetch(job.id, connection=queues.connection())
    except NoSuchJobError:
        raise Incorrect(
            "That job is no longer in Redis (was it deleted?). Run your cell again to queue a new one."
        ) from None


def _as_active_job(value: Any, class_name: str, method: str) -> Job:
    """The learner's value as an RQ job of the ActiveJob `class_name`, or Incorrect saying what it is instead."""
    if is_placeholder(value):
        raise NotAttempted()
    if isinstance(value, ConfiguredJob):
        raise Incorrect(
            f"That is {value!r}: the job set up for a queue, but nothing was queued yet. Call .{method}(...) on it."
        )
    if isinstance(value, type):
        raise Incorrect(
            f"That is {describe(value)} itself. Call {value.__name__}.{method}(...): it returns the job it queued."
        )
    if not isinstance(value, Job):
        got = "None" if value is None else "a str" if isinstance(value, str) else describe(value)
        raise Incorrect(
            f"You got {got} back, not a job. perform_now runs the job here and returns what "
            "perform returns; perform_later puts the job in a queue and returns that job."
        )
    path = value.args[0] if value.func_name == PERFORM_JOB and value.args else None
    if not (isinstance(path, str) and path.endswith(f":{class_name}")):
        raise Incorrect(f"That job runs {value.description or value.func_name}, not a {class_name}.")
    return value


def _perform_args(job: Job) -> list[Any]:
    """The arguments perform_later handed over, as stored with the job."""
    return list(job.args[1]) if len(job.args) > 1 and isinstance(job.args[1], (list, tuple)) else []


def _listed(args: list[Any]) -> str:
    return ", ".join(describe(a) for a in args)


def _check_urgent(value: Any) -> str:
    job = _stored(_as_active_job(value, "PasswordResetJob", "perform_later"))
    if job.origin != "urgent":
        raise Incorrect(
            f"Your job went into the {job.origin!r} queue: that is what PasswordResetJob's queue_as "
            'says. Choose the queue for this one job: PasswordResetJob.set(queue="urgent").'
        )
    module_name, _, class_name = job.args[0].partition(":")
    queue_as = getattr(getattr(sys.modules.get(module_name), class_name, None), "queue_as", "default")
    if queue_as != "default":
        raise Incorrect(
            f"PasswordResetJob.queue_as is now {queue_as!r}: you changed the class, so every password "
            "reset would go there. Leave the class as it was and choose the queue for this one call."
        )
    args = _perform_args(job)
    if [str(a).strip().lower() for a in args] != ["ada@example.com"]:
        raise Incorrect(
            f"Your job was queued with perform_later({_listed(args)}): it should reset Ada's password, "
            "ada@example.com, as the exercise says."
        )
    return (
        "Your PasswordResetJob went into the urgent queue (its origin in Redis): a worker takes it before "
        "anything waiting in mailers or default."
    )


def reset_job_on_urgent() -> Job:
    """The fallback of Exercise 2: a reference PasswordResetJob queued on urgent now."""
    return PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")


ex_route_urgent = Exercise(
    "Exercise 2",
    _check_urgent,
    title="Send one job through the urgent queue",
    hints=[
        "perform_later puts the job on the class's queue_as, here default. You want another queue for one job.",
        'As in Rails: PasswordResetJob.set(queue="urgent") gives you the job class set for that queue; call '
        "perform_later on it.",
    ],
    solution='reset_job = PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")',
    fallback=reset_job_on_urgent,
)


# --- Exercise 3: the worker, started in a terminal with rq worker -------------------------------------------


ex_start_worker = TerminalWorkerExercise(
    "Exercise 3",
    check_terminal_worker,
    title="Start the worker in a terminal",
    hints=[
        "Open a terminal in the folder of this notebook (File > New > Terminal, with this folder open in the file "
        "browser); the worker imports worker_settings.py and your job modules from the folder it starts in.",
        "rq worker takes the queues as arguments, most urgent first; -c names the settings module (without .py); "
        "--with-scheduler starts its scheduler.",
    ],
    solution=terminal_worker.COMMAND,
    fallback=worker_in_a_second_kernel,
    fallback_note=(
        "Using a reference worker: no worker from a terminal registered, so this notebook starts the same worker "
        "(urgent > mailers > default, with its scheduler) in a second kernel. Its log shows wherever a cell shows "
        "worker.log."
    ),
)


# --- Exercise 4: perform_later, and the worker sends the email -----------------------------------------------


def _received_after(message: inbox.Message, moment: datetime | None) -> bool:
    if moment is None or message.received is None:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return message.received >= moment - timedelta(seconds=2)  # file times are coarse; allow a little slack


def _wait_until_done(job: Job, timeout: float) -> str:
    """The job's final status, or the one it still has after `timeout` seconds."""
    try:
        return job_watch.wait_for_status(job, job_watch.DONE, timeout=timeout)
    except TimeoutError:
        return job_watch.status(job)


class SendLaterExercise(Exercise):
    """Exercise 4: queue a GifSenderJob; the check waits for a worker to run it and for its email to arrive.

    ``use(job)`` only needs a queued GifSenderJob job to go on with (it does not wait): your job when it is one,
    else a reference job queued now. The full check, which waits, runs later with ``check(job)``.
    """

    wait_seconds = 30.0  # how long check() waits for the worker, then for the email

    def evaluate(self, value: Any) -> str:
        job = _stored(_as_active_job(value, "GifSenderJob", "perform_later"))
        args = _perform_args(job)
        if len(args) != 2:
            raise Incorrect(
                f"Your job was queued with perform_later({_listed(args)}): it needs the email and the "
                "thought, perform_later(email, thought)."
            )
        if "@" not in str(args[0]) and "@" in str(args[1]):
            raise Incorrect(
                f"Your job was queued with perform_later({_listed(args)}): the thought first. Hand over the "
                "email first, then the thought: perform_later(email, thought)."
            )
        status = _wait_until_done(job, self.wait_seconds)
        job.refresh()  # everything the worker wrote: who ran it, when, its result
        if status == "failed":
            raise Incorrect(f"Your job failed on the worker: {recovery.error_line(job)}")
        if status == "queued":
            raise Incorrect(
                f"Your job is still waiting in the {job.origin!r} queue after {self.wait_seconds:g} s: "
                "no worker took it. Start the worker (Exercise 3), then run this check again."
            )
        if status == "started":
            raise Incorrect(
                f"A worker is still running your job after {self.wait_seconds:g} s. Run this check again in a moment."
            )
        if status != "finished":
            raise Incorrect(f"Your job ended as {status!r}, so it never sent its email. Queue a new one.")
        if not job.worker_name:
            raise Incorrect("Your job finished, but no worker is recorded for it: did it run in this notebook?")
        email, thought = (list(job.args[1]) + ["", ""])[:2] if len(job.args) > 1 else ("", "")
        try:
            inbox.wait_for(
                1,
                match=lambda m: (
                    str(email).lower() in [a.lower() for a in m.to]
                    and str(thought) in m.text
                    and _received_after(m, job.enqueued_at)
                ),
                timeout=self.wait_seconds,
            )
        except TimeoutError:
            raise Incorrect(
                f"A worker ran your job, but no email to {email} with your thought reached the mail "
                "catcher. Does perform send it (deliver(email, thought))?"
            ) from None
        return f"A worker ran your job (not this notebook), and its email to {email} reached the inbox."

    def accept(self, value: Any) -> Job:
        """Any queued GifSenderJob job will do to go on with (no waiting for the worker)."""
        return _as_active_job(value, "GifSenderJob", "perform_later")


ex_send_later = SendLaterExercise(
    "Exercise 4",
    title="Queue the email and let the worker send it",
    hints=[
        "The method that writes the job into Redis and returns at once is perform_later.",
        "Keep what it returns: job = GifSenderJob.perform_later(email, thought)",
    ],
    solution="job = GifSenderJob.perform_later(email, thought)",
    fallback=lambda: GifSenderJob.perform_later(REFERENCE_EMAIL, REFERENCE_THOUGHT),
)
