"""The exercises of notebook 03_jobs: write the job, route a job to the urgent queue, start the worker in a terminal,
send an email through a worker.

Each check looks at what really happened: the module file is imported afresh and its class inspected (that check,
Exercise 1's, is in ``_jobs_job_file``); the worker is looked for in Redis and the process table (Exercise 3:
``_jobs_terminal_worker``); the job is read back from Redis (its queue, its status, the worker that ran it), with
every other job the same cell queued beside it (``_jobs_effects``); the emails are counted in the mail catcher
(Exercise 4: ``_jobs_send_later``).

The reference solutions live here too, as classes a worker can import (``support.checks.jobs:GifSenderJob``): when
an exercise is left blank, ``use()`` falls back to them so that the rest of the notebook still runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rq.job import Job

from ..active_job import ActiveJob
from ..exercises import Exercise, Incorrect, load_module_from
from ..lessons import terminal_worker
from ..rq_helpers import job_watch
from ..workit.mailer import deliver
from . import _jobs_effects as effects
from ._check_trouble import redis_needed
from ._jobs_job_file import check_job_file
from ._jobs_send_later import SendLaterExercise
from ._jobs_terminal_worker import TerminalWorkerExercise, check_terminal_worker, worker_in_a_second_kernel

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


@redis_needed
def _check_urgent(value: Any) -> str:
    job = effects.stored(effects.as_active_job(value, "PasswordResetJob", "perform_later"))
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
    args = effects.perform_args(job)
    if [str(a).strip().lower() for a in args] != ["ada@example.com"]:
        raise Incorrect(
            f"Your job was queued with perform_later({effects.listed(args)}): it should reset Ada's password, "
            "ada@example.com, as the exercise says."
        )
    status = job_watch.status(job)
    if status in ("scheduled", "deferred", "canceled", "stopped"):
        raise Incorrect(f"Your job is {status}, not waiting in the urgent queue: queue it with perform_later.")
    effects.one_job(job, "PasswordResetJob")
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
