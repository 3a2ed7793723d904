"""The exercises of ``12_django_tasks``: Work-It's email as a Django task (``workit_tasks.py``), the view's one
``enqueue()`` line (``workit_views.py``), and ``send_later`` with ``.using(queue_name=, run_after=)``; and the
closing question on the RQ backend and priority.

Each check runs the learner's code twice with fresh addresses and thoughts and counts the real effects: emails in
the catcher (the task, run by Django's Immediate backend with the mailer's slow step skipped), jobs in the course's
Redis (the view and ``send_later``, through django-tasks-rq); the check's own jobs are deleted afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..exercises import (
    Choice,
    Exercise,
    Incorrect,
    NotAttempted,
    is_placeholder,
    load_module_from,
    require_function,
)
from ..lessons import django_tasks as lesson
from ..workit import mailer
from . import _jobs_effects as effects
from ._check_trouble import redis_needed
from ._django_tasks_later import ex_send_later
from ._django_tasks_worker import ex_worker

__all__ = ["ex_task", "ex_view", "ex_worker", "ex_send_later", "q_priority"]

TASKS_FILE, VIEWS_FILE = "workit_tasks.py", "workit_views.py"


def _file(path: Any) -> Path:
    if is_placeholder(path):
        raise NotAttempted()
    file = Path(path)
    if not file.is_file():
        raise NotAttempted(f"{file.name} does not exist yet: run the cell that writes it, then this check.")
    return file


# --- Exercise 1: the task -------------------------------------------------------------------------------------------


def load_task(path: Any) -> Any:
    """``send_gif_email`` from the learner's tasks file, imported afresh; NotAttempted while it is not there."""
    from django_tasks.base import Task

    module = load_module_from(_file(path))
    task = getattr(module, "send_gif_email", None)
    if task is None:
        raise NotAttempted(f"{Path(path).name} has no send_gif_email yet: write it, run its cell, then this check.")
    if not isinstance(task, Task):
        raise Incorrect(
            "send_gif_email is a plain function, not a task: decorate it with @task(...) from django_tasks, so "
            "that it has .enqueue()."
        )
    return task


def _check_task(path: Any) -> str:
    task = load_task(path)
    if task.queue_name != "mailers":
        raise Incorrect(f"send_gif_email goes to the {task.queue_name!r} queue: put it on the mailers queue.")
    with mailer.stand_in(lambda email, thought, delay: mailer.deliver_now(email, thought)):  # no slow step here
        for n in (1, 2):
            email, thought = lesson.fresh_submission(f"check-{n}")
            result = task.using(backend="immediate").enqueue(email, thought)
            if result.errors:
                last = result.errors[-1].traceback.strip().splitlines()[-1]
                raise Incorrect(f"send_gif_email raised when Django ran it: {last}")
            sent = effects.emails(email, thought)
            if len(sent) != 1:
                raise Incorrect(
                    f"send_gif_email({email!r}, {thought!r}) sent {len(sent)} emails with them: it should deliver "
                    "the email and the thought it is given, once."
                )
            if result.return_value != _message_id(sent[0]):
                raise Incorrect(
                    f"send_gif_email returned {result.return_value!r}: return what deliver returns (the "
                    "Message-ID), so that the task's result says which email went out."
                )
    return "send_gif_email is a task on the mailers queue: Django ran it twice, and each time one email went out."


def _message_id(message: Any) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(message.raw)["Message-ID"])


class TaskExercise(Exercise):
    """Exercise 1. ``use(path)`` gives the learner's task when it checks, else the reference's."""

    def accept(self, value: Any) -> Any:
        result = self.check(value)
        if not result.correct:
            raise Incorrect(result.message)
        return load_task(value)


def _reference_task() -> Any:
    from ..workit.django_app import reference

    return reference.send_gif_email


ex_task = TaskExercise(
    "Exercise 1",
    _check_task,
    title="send_gif_email, a Django task",
    hints=[
        "A task is a module-level function with @task(...) above it: from django_tasks import task.",
        '@task(queue_name="mailers") puts it on the mailers queue; its body is one line: '
        "return deliver(email, thought).",
    ],
    solution='@task(queue_name="mailers")\ndef send_gif_email(email, thought):\n    return deliver(email, thought)',
    fallback=_reference_task,
    fallback_note="Using the reference send_gif_email (support.workit.django_app.reference) so you can go on.",
)


# --- Exercise 2: the view -------------------------------------------------------------------------------------------


def load_view(path: Any) -> Any:
    file = _file(path)
    if any("____" in line.split("#")[0] for line in file.read_text(encoding="utf-8").splitlines()):
        raise NotAttempted(f"{file.name} still has a ____ in it: write the line, run its cell, then this check.")
    view = getattr(load_module_from(file), "create", None)
    if view is None:
        raise NotAttempted(f"{file.name} has no create(request) view: run the cell that writes it.")
    require_function(view, "create", ("request",))
    return view


@redis_needed
def _check_view(path: Any) -> str:
    from ..workit.django_app import urls

    view, before = load_view(path), urls.VIEW[0]
    urls.use_view(view)
    try:
        seconds = [_submit_once(n) for n in (1, 2)]
    finally:
        urls.use_view(before)
    return (
        f"The view queued send_gif_email on mailers and answered in ⏱ {max(seconds) * 1000:.0f} ms; a worker sends it."
    )


def _submit_once(n: int) -> float:
    email, thought = lesson.fresh_submission(f"check-{n}")
    try:
        done = lesson.submit(email, thought)
    except Exception as exc:
        raise Incorrect(f"The view raised when the form was submitted: {type(exc).__name__}: {exc}") from None
    sent = effects.emails(email, thought)  # before the jobs' status: a worker's email only comes after it started
    queued = lesson.tasks_holding(email, thought)
    try:
        if not queued:
            how = "sent the email inside the request" if sent else "queued nothing"
            raise Incorrect(
                f"The view answered in {done.seconds:.1f} s and {how}: call send_gif_email.enqueue(email, thought), "
                "on the default backend (RQ)."
            )
        if len(queued) > 1:
            raise Incorrect(f"One submission queued {len(queued)} tasks: the user gets as many emails. Enqueue once.")
        job = queued[0]
        if lesson.called_with(job) != (email, thought):
            raise Incorrect(
                f"The form sent ({email!r}, {thought!r}), but the task got {lesson.called_with(job)!r}: hand "
                "enqueue the email and the thought, in that order."
            )
        if job.origin != "mailers":
            raise Incorrect(f"The task went to the {job.origin!r} queue: enqueue send_gif_email as it is, on mailers.")
        if done.answer.get("task_id") != job.id:
            raise Incorrect(
                "The view's answer does not carry the queued task's id: keep result = ...enqueue(...), the result "
                "the view answers with."
            )
        expected = 0 if job.get_status() in ("queued", "scheduled") else 1
        if len(sent) > expected:
            raise Incorrect(
                "The view queued the task and sent the email inside the request too: the user gets two emails. "
                "Only enqueue: the worker sends it."
            )
    finally:
        for job in queued:
            lesson.drop_job(job)
    return done.seconds


class ViewExercise(Exercise):
    """Exercise 2. ``use(path)`` gives the learner's view when it checks, else the reference's."""

    def accept(self, value: Any) -> Any:
        result = self.check(value)
        if not result.correct:
            raise Incorrect(result.message)
        return load_view(value)


def _reference_view() -> Any:
    from ..workit.django_app import reference

    return reference.create


ex_view = ViewExercise(
    "Exercise 2",
    _check_view,
    title="the view enqueues",
    hints=["Tasks have .enqueue(*args): it returns a TaskResult at once, with .id and .status."],
    solution="result = send_gif_email.enqueue(email, thought)",
    fallback=_reference_view,
    fallback_note="Using the reference view (support.workit.django_app.reference.create) so you can go on.",
)


# --- The closing question -------------------------------------------------------------------------------------------

q_priority = Choice(
    "Exercise 5",
    'Work-It\'s default backend is RQ (django-tasks-rq). You write @task(queue_name="mailers", priority=10) above '
    "send_gif_email. What happens?",
    {
        "a": "The task jumps ahead of the other jobs on mailers",
        "b": "Importing the module raises InvalidTaskError: the backend is asked when the task is made",
        "c": "Nothing: the RQ backend ignores priority",
        "d": "The worker refuses the job when it takes it",
    },
    "b",
    explanations={
        "a": "Only a backend with supports_priority orders by it; the RQ backend does not declare it.",
        "c": "Django refuses what the backend cannot do, rather than ignore it: you saw the error above.",
        "d": "The job never reaches Redis: the task is validated when @task makes it, in the process that imports it.",
    },
)
