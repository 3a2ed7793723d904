"""What 03's checks count on the real system (``support.checks.jobs`` and ``controller``): the jobs in Redis that
carry given arguments, the jobs a cell queued together, and the emails in the mail catcher.

A check that only looked at the job it was handed could not see a second job queued beside it, or an email sent
inline as well as queued: these count everything RQ and the catcher hold, whatever queue or registry a job is in.
The checks that use them are wrapped in ``_check_trouble.redis_needed``: a Redis error here is the check's trouble.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job

from ..active_job import ConfiguredJob
from ..exercises import Incorrect, NotAttempted, describe, is_placeholder
from ..rq_helpers import queues
from ..services import inbox

PERFORM_JOB = "support.active_job.perform_job"
SAME_CELL = timedelta(seconds=2)  # jobs queued this close together came from one run of a cell (a person is slower)
SLACK = timedelta(seconds=1)  # an email is stored a moment after its job's run ends


def aware(moment: datetime) -> datetime:
    """`moment` in UTC (rq stores naive UTC times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def job_path(job: Job) -> str | None:
    """``module:Class`` of an ActiveJob's job (what ``perform_later`` queues), else None."""
    try:
        path = job.args[0] if job.func_name == PERFORM_JOB and job.args else None
    except Exception:  # noqa: BLE001 -- a job whose arguments cannot be read here is not an ActiveJob's
        return None
    return path if isinstance(path, str) else None


def perform_args(job: Job) -> list[Any]:
    """The arguments ``perform_later`` handed over, as stored with the job."""
    return list(job.args[1]) if len(job.args) > 1 and isinstance(job.args[1], (list, tuple)) else []


def jobs_holding(*values: str) -> list[Job]:
    """The jobs whose arguments hold every one of `values` (the check's own fresh values: no one else's job can)."""
    found = []
    for job in queues.all_jobs():
        try:
            shown = repr(job.args)
        except Exception:  # noqa: BLE001 -- arguments this process cannot unpickle: not the check's job
            continue
        if all(value in shown for value in values):
            found.append(job)
    return found


def queued_with(job: Job, class_name: str, args: list[Any] | None = None) -> list[Job]:
    """The jobs of the ActiveJob `class_name` (with these perform arguments, when given) queued within
    ``SAME_CELL`` of `job`, `job` included: what one run of the learner's cell queued."""
    if job.enqueued_at is None:
        return [job]
    moment = aware(job.enqueued_at)
    found = []
    for other in queues.all_jobs():
        path = job_path(other)
        if other.enqueued_at is None or path is None or not path.endswith(f":{class_name}"):
            continue
        if abs(aware(other.enqueued_at) - moment) <= SAME_CELL and (args is None or perform_args(other) == args):
            found.append(other)
    return found if any(other.id == job.id for other in found) else [job, *found]


def emails(address: str, thought: str) -> list[inbox.Message]:
    """The caught emails to `address` whose text holds `thought`."""
    wanted = address.strip().lower()
    return [m for m in inbox.messages() if wanted in [a.lower() for a in m.to] and thought in m.text]


def received_between(messages: Iterable[inbox.Message], start: datetime, end: datetime) -> list[inbox.Message]:
    """The messages the catcher stored between `start` and `end` (aware times)."""
    return [m for m in messages if m.received is not None and start <= m.received <= end]


# --- the learner's job, as the checks of Exercises 2 and 4 take it --------------------------------------------


def stored(job: Job) -> Job:
    """The job as Redis has it now."""
    try:
        return Job.fetch(job.id, connection=queues.connection())
    except NoSuchJobError:
        raise Incorrect(
            "That job is no longer in Redis (was it deleted?). Run your cell again to queue a new one."
        ) from None


def as_active_job(value: Any, class_name: str, method: str) -> Job:
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
    if isinstance(value, str) and Job.exists(value, connection=queues.connection()):
        raise Incorrect(f"That is a job's id, {value!r}: keep the job itself, what {method} returns.")
    if not isinstance(value, Job):
        got = "None" if value is None else "a str" if isinstance(value, str) else describe(value)
        raise Incorrect(
            f"You got {got} back, not a job. perform_now runs the job here and returns what "
            "perform returns; perform_later puts the job in a queue and returns that job."
        )
    path = job_path(value)
    if not (path and path.endswith(f":{class_name}")):
        raise Incorrect(f"That job runs {value.description or value.func_name}, not a {class_name}.")
    return value


def one_job(job: Job, class_name: str, args: list[Any] | None = None) -> None:
    """Incorrect when the cell that queued `job` queued other jobs of `class_name` beside it."""
    together = queued_with(job, class_name, args)
    if len(together) > 1:
        where = ", ".join(f"{other.origin}" for other in together)
        raise Incorrect(
            f"Your cell queued {len(together)} {class_name} jobs at once (on {where}): each one runs, so the "
            f"user gets {len(together)}. Queue one job. (Ran the cell twice by accident? Run it once more, alone.)"
        )


def listed(args: list[Any]) -> str:
    return ", ".join(describe(a) for a in args)
