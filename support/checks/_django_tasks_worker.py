"""The terminal step of ``12_django_tasks`` checked: the learner's Django ``rqworker``, as Redis (``Worker.all``) and
the process table (its command line) show it: django-tasks-rq's job class, the three queues in order, the scheduler.
``use()`` goes on with it, else starts the same command as a course process (``lesson.start_as_typed``)."""

from __future__ import annotations

from typing import Any

from ..exercises import Exercise, Incorrect, NotAttempted
from ..lessons import django_tasks as lesson

WAIT_SECONDS = 5.0


def _worker_problem(queue_names: list[str], command: list[str]) -> str | None:
    if not any(arg.endswith("django_tasks_rq.Job") for arg in command):
        return (
            "Your rqworker runs RQ's own job class: start it with --job-class django_tasks_rq.Job, the class that "
            "runs a Django task and records its result."
        )
    if queue_names != lesson.QUEUES:
        return f"Your rqworker listens to {', '.join(queue_names)}: name urgent mailers default, in that order."
    if "--with-scheduler" not in command:
        return "Your rqworker runs no scheduler: add --with-scheduler, or a task with run_after never runs."
    return None


def _check_worker() -> str:
    seen = lesson.django_rqworkers()
    if not seen:
        lesson.wait_for_worker(WAIT_SECONDS)
        seen = lesson.django_rqworkers()
    if not seen:
        raise NotAttempted(
            f"No Django rqworker has registered with the course's Redis (waited {WAIT_SECONDS:g} s): type the "
            "command in a terminal opened in this folder, then run this check again."
        )
    problems = [problem for worker, command in seen if (problem := _worker_problem(worker.queue_names(), command))]
    if problems:
        raise Incorrect(problems[0])
    return (
        "Your rqworker registered with the course's Redis, runs Django tasks (django_tasks_rq.Job), listens to "
        "urgent > mailers > default and runs its scheduler."
    )


class WorkerExercise(Exercise):
    """The terminal step. ``use()`` gives the queues of the worker later cells go on with: the learner's, else the
    same command started by the course as a process of its own (``lesson.start_as_typed``)."""

    def accept(self, value: Any) -> list[str]:
        seen = lesson.django_rqworkers()
        if not seen or any(_worker_problem(w.queue_names(), command) for w, command in seen):
            raise Incorrect("no rqworker from a terminal that does")
        return seen[0][0].queue_names()

    def use(self, value: Any = None, *fallback_args: Any, quiet: bool = False) -> Any:
        """The worker's queues (nothing to hand over: the worker is in Redis)."""
        return super().use(value, *fallback_args, quiet=quiet)


def _worker_as_typed() -> list[str]:
    lesson.start_as_typed()
    return lesson.QUEUES


ex_worker = WorkerExercise(
    "Exercise 3",
    lambda *values: _check_worker(),
    title="Django's rqworker, in a terminal",
    hints=["Copy the command above into the terminal whole: one line, from ../.venv/bin/django-admin to the end."],
    solution=lesson.COMMAND,
    fallback=_worker_as_typed,
    fallback_note="Using the reference command: the course starts the same rqworker as a process of its own.",
)
