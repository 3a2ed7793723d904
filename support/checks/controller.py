"""Exercise 5 of notebook 03_jobs: the Work-It app's controller queues the learner's job (the Rails lesson's step 7).

The learner changes one line of ``mailers_controller.py`` (the counterpart of ``MailersController#create``) from
sending the email inside the request to ``GifSenderJob.perform_later(email, thought)``. The check runs that file in
the real app (``support.workit.controller``) and submits the form twice, as two users would, each time with an
address and a thought of its own: it reads the job the app got back from Redis, counts every job in Redis that holds
the submission (exactly one) and the emails the catcher got for it (none sent inside the request), then deletes its
jobs that no worker took yet. (The notebook's other exercises are in ``support.checks.jobs``.)
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from rq.job import Job

from ..exercises import Exercise, Incorrect, NotAttempted, is_placeholder
from ..rq_helpers import job_watch, queues
from ..services import app
from . import _jobs_effects as effects
from ._check_trouble import redis_needed
from .jobs import ex_write_job

CONTROLLER_FILE = "mailers_controller.py"
REFERENCE_CONTROLLER = "mailers_controller_reference.py"  # written beside the learner's file by use()
APP_DELAY = 5.0  # the app's mailer delay while the check runs it (the notebook's app uses the same)


def _probes() -> list[tuple[str, str]]:
    """Two fresh submissions, as two users would make them: no job or email of anyone else's holds them."""
    tag = uuid.uuid4().hex[:8]
    return [(f"check-{n}-{tag}@example.com", f"The check submitted this one ({tag}, {n})") for n in (1, 2)]


def _drop(found: list[Job]) -> None:
    """The check's own jobs that no worker took yet go (nobody wants their email): taken off their queue in one
    step (LREM), so that a worker cannot take one while it is deleted, then deleted."""
    for job in found:
        if job.origin in queues.QUEUE_NAMES and queues.queue(job.origin).remove(job.id):
            job.delete()


@redis_needed
def _check_controller(path: Any) -> str:
    if is_placeholder(path):
        raise NotAttempted()
    file = Path(path)
    if not file.is_file():
        raise NotAttempted(f"{file.name} does not exist yet: run the cell that writes it, then this check.")
    source = file.read_text(encoding="utf-8")
    if "perform_later" not in source and "deliver(" in source:
        raise NotAttempted(
            f"{file.name} still sends the email inside the request (deliver(...)): change that line "
            "to queue a GifSenderJob, run its cell, then this check."
        )
    try:
        app.start(delivery="controller", controller=file, delay=APP_DELAY)
    except Exception as exc:  # noqa: BLE001 -- the app is the check's tool: its failure to start is not the answer's
        raise Incorrect(f"The check could not start the Work-It app ({type(exc).__name__}: {exc}).") from None
    seconds = [_submit(email, thought) for email, thought in _probes()]
    return (
        f"The app queued your GifSenderJob on mailers and answered in ⏱ {max(seconds) * 1000:.0f} ms; a "
        "worker sends the email."
    )


def _submit(email: str, thought: str) -> float:
    """Submit the form once with this email and thought; raise Incorrect unless create() queued exactly one
    GifSenderJob with them on mailers, returned it, and sent nothing itself. Returns the app's answer time."""
    answer = app.post_thought(email, thought)
    if answer["status"] == 400:
        raise Incorrect(f"The check's own submission was refused by the app: {answer.get('error')}")
    if answer["status"] != 200:
        raise Incorrect(
            f"The app could not run your controller (HTTP {answer['status']}): "
            f"{answer.get('error') or answer.get('message')}"
        )
    sent = effects.emails(email, thought)  # before the job's status: a worker's email only comes after it started
    queued = effects.jobs_holding(email, thought)
    job_id = answer.get("job_id")
    if not job_id:
        _drop(queued)
        if queued:
            raise Incorrect(
                "create() queued a job but did not return it, so the app told the user the email was "
                "already sent. Return what perform_later gives back: return GifSenderJob.perform_later(...)."
            )
        raise Incorrect(
            f"The app answered after {answer['seconds']:.1f} s and queued nothing: create() still sends "
            "the email inside the request. Queue it instead, with GifSenderJob.perform_later."
        )
    job = Job.fetch(job_id, connection=queues.connection())
    try:
        _judge(job, queued, sent, email, thought, answer["seconds"])
    finally:
        _drop(queued)
    return float(answer["seconds"])


def _judge(job: Job, queued: list[Job], sent: list[Any], email: str, thought: str, seconds: float) -> None:
    if effects.job_path(job) != "gif_sender_job:GifSenderJob":
        raise Incorrect(
            f"The app queued {job.description or job.func_name}, not your GifSenderJob from "
            "gif_sender_job.py. The job a worker should run is the class you wrote in Exercise 1."
        )
    if effects.perform_args(job) != [email, thought]:
        raise Incorrect(
            f"The form sent ({email!r}, {thought!r}), but the job got {tuple(effects.perform_args(job))!r}: hand "
            "perform_later the email and the thought, in that order."
        )
    if job.origin != "mailers":
        raise Incorrect(
            f"The job went into the {job.origin!r} queue; GifSenderJob's own queue is mailers. Call "
            "GifSenderJob.perform_later(...) without .set(queue=...)."
        )
    if len(queued) > 1:
        shown = ", ".join(str(other.description or other.func_name) for other in queued)
        raise Incorrect(
            f"One submission queued {len(queued)} jobs ({shown}): the user would get as many emails. create() queues "
            "one GifSenderJob."
        )
    # Emails read before the status: while the job waits, any email is the request's own; once a worker took it,
    # one may be the worker's. A request that took the mailer's delay and left an email sent it itself.
    expected = 0 if job_watch.status(job) in ("queued", "scheduled", "deferred") else 1
    if len(sent) > expected or (sent and seconds >= APP_DELAY):
        raise Incorrect(
            f"create() queued the job and sent the email inside the request too: the user waited {seconds:.1f} s, "
            "and gets two emails, the request's and the worker's. Instead of sending, queue the job: the worker "
            "sends the email."
        )


class ControllerExercise(Exercise):
    """Exercise 5. ``check("mailers_controller.py")`` runs the file in the real app; ``use(...)`` gives the controller
    file for the app to run from then on: yours when it checks as correct, else a reference written beside it."""

    def accept(self, value: Any) -> Path:
        result = self.check(value)
        if not result.correct:
            raise Incorrect(result.message)
        return Path(value)


def write_reference_controller(path: Any = CONTROLLER_FILE) -> Path:
    """The fallback of Exercise 5: a controller that queues the job, beside the learner's file. It uses the
    learner's GifSenderJob when Exercise 1 passes, else the reference class."""
    from ..workit.controller import TEMPLATE

    folder = Path(CONTROLLER_FILE if is_placeholder(path) else path).resolve().parent
    module = (
        "gif_sender_job" if ex_write_job.check(str(folder / "gif_sender_job.py")).correct else "support.checks.jobs"
    )
    text = TEMPLATE.replace("from gif_sender_job import GifSenderJob", f"from {module} import GifSenderJob")
    text = text.replace(
        "    return deliver(email, thought)  # inline: the request waits for the slow mailer",
        "    return GifSenderJob.perform_later(email, thought)  # a worker sends it",
    )
    reference = folder / REFERENCE_CONTROLLER
    reference.write_text(text, encoding="utf-8")
    return reference


ex_controller = ControllerExercise(
    "Exercise 5",
    _check_controller,
    title="Queue the email from the controller",
    hints=[
        "One line changes: the one that calls deliver(email, thought) inside the request.",
        "GifSenderJob.perform_later(email, thought) writes the job into Redis and returns it at once; keep the "
        "return in front, so that the app can tell the user the email is on its way.",
    ],
    solution="    return GifSenderJob.perform_later(email, thought)",
    fallback=write_reference_controller,
    fallback_note="Using a reference controller (mailers_controller_reference.py) for Exercise 5 so you can go on.",
)
