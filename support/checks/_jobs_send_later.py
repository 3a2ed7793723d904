"""03's Exercise 4 checked (``support.checks.jobs.ex_send_later``): the learner's ``perform_later`` call queued one
GifSenderJob for the notebook's `email` and `thought`; a worker, not the notebook, ran it; exactly one email with
that thought reached the inbox (none sent inline by the cell as well).

The check is handed the job, and the `email` and `thought` the cell was asked to queue it for: a job for other
values (a typed-in constant) is not the one asked for. It counts the GifSenderJobs the cell queued together with
it (``_jobs_effects.queued_with``) and the emails the catcher got for that thought from shortly before the job was
queued until its run ended, less those that other runs of the same job (the cell run again) explain.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rq.job import Job

from ..exercises import Exercise, Incorrect, describe, is_placeholder
from ..rq_helpers import job_watch, queues, recovery
from ..services import inbox
from . import _jobs_effects as effects
from ._check_trouble import redis_needed


def _wait_until_done(job: Job, timeout: float) -> str:
    """The job's final status, or the one it still has after `timeout` seconds."""
    try:
        return job_watch.wait_for_status(job, job_watch.DONE, timeout=timeout)
    except TimeoutError:
        return job_watch.status(job)


def _ran(job: Job) -> tuple[datetime, datetime] | None:
    """When a worker ran `job` (its start and end, with the catcher's slack), or None when it did not finish."""
    if job.get_status(refresh=False) != "finished" or job.started_at is None or job.ended_at is None:
        return None
    return effects.aware(job.started_at) - effects.SLACK, effects.aware(job.ended_at) + effects.SLACK


class SendLaterExercise(Exercise):
    """Exercise 4: ``check(job, email, thought)``: queue a GifSenderJob; the check waits for a worker to run it and
    for its email to arrive, and counts the jobs and the emails.

    ``use(job)`` only needs a queued GifSenderJob job to go on with (it does not wait): your job when it is one,
    else a reference job queued now. The full check, which waits, runs later with ``check(job, email, thought)``.
    """

    wait_seconds = 30.0  # how long check() waits for the worker, then for the email

    @redis_needed
    def evaluate(self, value: Any, email: Any = None, thought: Any = None) -> str:
        job = effects.stored(effects.as_active_job(value, "GifSenderJob", "perform_later"))
        args = effects.perform_args(job)
        asked = [email, thought] if email is not None and not is_placeholder(email) else None
        if len(args) != 2:
            raise Incorrect(
                f"Your job was queued with perform_later({effects.listed(args)}): it needs the email and the "
                "thought, perform_later(email, thought)."
            )
        if "@" not in str(args[0]) and "@" in str(args[1]):
            raise Incorrect(
                f"Your job was queued with perform_later({effects.listed(args)}): the thought first. Hand over the "
                "email first, then the thought: perform_later(email, thought)."
            )
        if asked is not None and args != asked:
            raise Incorrect(
                f"Your job was queued with perform_later({effects.listed(args)}), but the cell asks for a "
                f"GifSenderJob for email and thought, the variables: ({describe(email)}, {describe(thought)}). "
                "Hand them over as they are: perform_later(email, thought)."
            )
        effects.one_job(job, "GifSenderJob", args)
        self._ran_on_a_worker(job)
        self._one_email(job, *map(str, args))
        return f"A worker ran your job (not this notebook), and its email to {args[0]} reached the inbox."

    def _ran_on_a_worker(self, job: Job) -> None:
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

    def _one_email(self, job: Job, email: str, thought: str) -> None:
        """Exactly one email for this thought since just before the job was queued: its own."""
        start = effects.aware(job.enqueued_at or datetime.now(timezone.utc)) - effects.SAME_CELL
        wanted = email.strip().lower()

        def since_queued(m: inbox.Message) -> bool:
            to = [a.lower() for a in m.to]
            return wanted in to and thought in m.text and m.received is not None and m.received >= start

        try:
            found = inbox.wait_for(1, match=since_queued, timeout=self.wait_seconds)
        except TimeoutError:
            raise Incorrect(
                f"A worker ran your job, but no email to {email} with your thought reached the mail "
                "catcher. Does perform send it (deliver(email, thought))?"
            ) from None
        others = [_ran(other) for other in queues.all_jobs() if other.id != job.id and _same(other, email, thought)]
        unexplained = [m for m in found if not any(r and m.received and r[0] <= m.received <= r[1] for r in others)]
        if len(unexplained) > 1:
            raise Incorrect(
                f"{len(unexplained)} emails with your thought reached {email}, but your job sends one: the cell "
                "sent one itself as well (perform_now, or deliver), and made you wait for it. Only queue the "
                "job: the worker sends the email."
            )

    def accept(self, value: Any) -> Job:
        """Any queued GifSenderJob job will do to go on with (no waiting for the worker)."""
        return effects.as_active_job(value, "GifSenderJob", "perform_later")


def _same(job: Job, email: str, thought: str) -> bool:
    path = effects.job_path(job)
    return bool(path and path.endswith(":GifSenderJob")) and effects.perform_args(job) == [email, thought]
