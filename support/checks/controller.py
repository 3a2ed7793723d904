"""Exercise 5 of notebook 03_jobs: the Work-It app's controller queues the learner's job (the Rails lesson's step 7).

The learner changes one line of ``mailers_controller.py`` (the counterpart of ``MailersController#create``) from
sending the email inside the request to ``GifSenderJob.perform_later(email, thought)``. The check runs that file in
the real app (``support.workit.controller``), submits the form once as a user would, and reads the job it queued
back from Redis. (The notebook's other exercises are in ``support.checks.jobs``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rq.job import Job

from ..exercises import Exercise, Incorrect, NotAttempted, is_placeholder
from ..rq_helpers import queues
from ..services import app
from .jobs import PERFORM_JOB, ex_write_job

CONTROLLER_FILE = "mailers_controller.py"
REFERENCE_CONTROLLER = "mailers_controller_reference.py"  # written beside the learner's file by use()
PROBE = ("you@example.com", "The check submitted this one")  # one real submission, as a user would make it


def _queued_probe(email: str, thought: str) -> Job | None:
    """A job on any course queue whose arguments hold this submission (a job queued but not returned)."""
    conn = queues.connection()
    for queue in queues.all_queues(conn):
        for job in queue.get_jobs():
            if email in repr(job.args) and thought in repr(job.args):
                return job
    return None


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
    email, thought = PROBE
    app.start(delivery="controller", controller=file)
    answer = app.post_thought(email, thought)
    if answer["status"] != 200:
        raise Incorrect(
            f"The app could not run your controller (HTTP {answer['status']}): "
            f"{answer.get('error') or answer.get('message')}"
        )
    job_id = answer.get("job_id")
    if not job_id:
        stray = _queued_probe(email, thought)
        if stray is not None:
            stray.cancel()
            raise Incorrect(
                "create() queued a job but did not return it, so the app told the user the email was "
                "already sent. Return what perform_later gives back: return GifSenderJob.perform_later(...)."
            )
        raise Incorrect(
            f"The app answered after {answer['seconds']:.1f} s and queued nothing: create() still sends "
            "the email inside the request. Queue it instead, with GifSenderJob.perform_later."
        )
    job = Job.fetch(job_id, connection=queues.connection())
    path_in_job = job.args[0] if job.func_name == PERFORM_JOB and job.args else None
    if path_in_job != "gif_sender_job:GifSenderJob":
        raise Incorrect(
            f"The app queued {job.description or job.func_name}, not your GifSenderJob from "
            "gif_sender_job.py. The job a worker should run is the class you wrote in Exercise 1."
        )
    if list(job.args[1]) != [email, thought]:
        raise Incorrect(
            f"The form sent ({email!r}, {thought!r}), but the job got {tuple(job.args[1])!r}: hand "
            "perform_later the email and the thought, in that order."
        )
    if job.origin != "mailers":
        raise Incorrect(
            f"The job went into the {job.origin!r} queue; GifSenderJob's own queue is mailers. Call "
            "GifSenderJob.perform_later(...) without .set(queue=...)."
        )
    return (
        f"The app queued your GifSenderJob on mailers and answered in ⏱ {answer['seconds'] * 1000:.0f} ms; a "
        "worker sends the email."
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
