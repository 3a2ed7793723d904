"""Exercise 3 of ``12_django_tasks`` checked: ``send_later(email, thought, seconds)`` run twice (40 s, 130 s), each
task found in RQ's scheduled registry of urgent at its time, with its arguments; the check's tasks deleted after."""

from __future__ import annotations

import time
from datetime import timezone
from typing import Any

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from ..exercises import Exercise, Incorrect, NotAttempted, call, is_placeholder, require_function
from ..lessons import django_tasks as lesson
from ..rq_helpers import queues
from ._check_trouble import redis_needed


@redis_needed
def _check_send_later(send_later: Any) -> str:
    if is_placeholder(send_later):
        raise NotAttempted()
    require_function(send_later, "send_later", ("email", "thought", "seconds"))
    made: list[Job] = []
    try:
        for n, seconds in ((1, 40), (2, 130)):
            email, thought = lesson.fresh_submission(f"later-{n}")
            asked = time.time()
            result = call(send_later, email, thought, seconds)
            if is_placeholder(result):
                raise NotAttempted()
            jobs = lesson.tasks_holding(email, thought)
            made += jobs
            _judge_later(result, jobs, email, thought, asked, seconds)
    finally:
        for job in made:
            lesson.drop_job(job)
    return "send_later queued send_gif_email on urgent, to run 40 s and 130 s later: RQ keeps each one scheduled."


def _judge_later(result: Any, jobs: list[Job], email: str, thought: str, asked: float, seconds: int) -> None:
    if len(jobs) != 1:
        raise Incorrect(f"send_later({email!r}, {thought!r}, {seconds}) queued {len(jobs)} tasks with them: one.")
    job = jobs[0]
    if lesson.called_with(job) != (email, thought):
        raise Incorrect(
            f"The task got {lesson.called_with(job)!r}: hand enqueue the email and the thought, in that order."
        )
    if job.origin != "urgent":
        raise Incorrect(f"The task went to the {job.origin!r} queue: put it on the urgent queue.")
    when = ScheduledJobRegistry(queue=queues.queue("urgent")).get_scheduled_time(job) if job.is_scheduled else None
    if when is None:
        raise Incorrect(f"The task is {job.get_status()}, not scheduled: give it run_after, `seconds` from now.")
    late = when.replace(tzinfo=timezone.utc).timestamp() - asked
    if abs(late - seconds) > 3:
        raise Incorrect(f"The task runs {late:.0f} s after the call, not {seconds} s: run_after is `seconds` from now.")
    if getattr(result, "id", None) != job.id:
        raise Incorrect("send_later returned something else than the result enqueue gives: return it.")


ex_send_later = Exercise(
    "Exercise 4",
    _check_send_later,
    title="send_later: another queue, later",
    hints=[
        "send_gif_email.using(queue_name=..., run_after=...) is a copy of the task with other defaults.",
        "run_after wants an aware datetime: timezone.now() + timedelta(seconds=seconds).",
    ],
    solution=(
        "def send_later(email, thought, seconds):\n"
        "    when = timezone.now() + timedelta(seconds=seconds)\n"
        '    return send_gif_email.using(queue_name="urgent", run_after=when).enqueue(email, thought)'
    ),
)
