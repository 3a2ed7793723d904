"""The exercises of 06_scaling_and_scheduling, checked against real effects: the reminder read back from the
ScheduledJobRegistry of a real Redis (a scheduler's worker then sending it to the real mail catcher), and the
prediction compared with two real burst workers on three queues. Each exercise's requirements table (quoted from the
notebook, a wrong answer per requirement, right answers written differently) is at the end; Exercise 3 is a Choice,
in the generic table of every multiple-choice question."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import redis
from exercise_table import Requirement, Table, define, table_test
from redis.backoff import NoBackoff
from redis.retry import Retry

from support.checks import scaling as scaling_checks
from support.checks.scaling import check_schedule, ex_order, ex_schedule, ex_worker_class, schedule_reference
from support.exercises import ____
from support.exercises.results import Result
from support.jobs import send_gif_email
from support.lessons import scaling
from support.rq_helpers import job_watch, queues, workers
from support.services import course, inbox

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."


def up() -> None:
    course.up("redis", quiet=True)


def notebook_names() -> dict[str, Any]:
    """What 06 has defined by the time a learner writes Exercise 1 (its first cell's imports, and mailers)."""
    return {
        "math": math,
        "time": time,
        "datetime": datetime,
        "timedelta": timedelta,
        "timezone": timezone,
        "send_gif_email": send_gif_email,
        "scaling": scaling,
        "job_watch": job_watch,
        "queues": queues,
        "workers": workers,
        "course": course,
        "inbox": inbox,
        "____": ____,
        "mailers": queues.queue("mailers"),
    }


# --- Exercise 1: schedule the reminder -----------------------------------------------------------------------------


def submit_schedule(source: str) -> Result:
    queues.empty(queues.queue("mailers"))  # what an earlier answer scheduled
    return ex_schedule.check(define(source, "reminder", notebook_names()))


def schedule(args: str, when: str = "timedelta(seconds=2)", queue: str = "mailers", method: str = "enqueue_in") -> str:
    return f"reminder = {queue}.{method}({when}, {args})"


ARGS = 'send_gif_email, "you@example.com", "Time to stretch", 0'
SCHEDULE = Table(
    ex_schedule,
    submit_schedule,
    setup=up,
    requirements=[
        Requirement("Schedule one job", f"{schedule(ARGS)}\n{schedule(ARGS)}", "schedule one job"),
        Requirement(
            "Schedule one job, `send_gif_email`",
            schedule('"support.workit.mailer.deliver", "you@example.com", "Time to stretch", 0'),
            "schedule send_gif_email",
        ),
        Requirement(
            "to `you@example.com`",
            schedule('send_gif_email, "me@example.com", "Time to stretch", 0'),
            "sends it to you@example.com",
        ),
        Requirement(
            'with the thought `"Time to stretch"`',
            schedule('send_gif_email, "you@example.com", "Stretch!", 0'),
            "the thought 'Time to stretch'",
        ),
        Requirement(
            "and a delay of `0`", schedule('send_gif_email, "you@example.com", "Time to stretch"'), "a delay of 0"
        ),
        Requirement(
            "and a delay of `0`",
            schedule('send_gif_email, "you@example.com", "Time to stretch", delay=2'),
            "a delay of 0",
        ),
        Requirement("**2 seconds from now**", schedule(ARGS, "timedelta(minutes=2)"), "2 seconds from now"),
        Requirement(
            "**2 seconds from now**",
            schedule(ARGS, "datetime.now(timezone.utc) + timedelta(seconds=20)", method="enqueue_at"),
            "2 seconds from now",
        ),
        Requirement(
            "No scheduler runs yet, so it will wait",
            f"reminder = mailers.enqueue({ARGS})",
            "it will not wait",
        ),
        Requirement(
            "on the **mailers** queue (the `mailers` object above)",
            schedule(ARGS, queue='queues.queue("default")'),
            "schedule it on the mailers queue",
        ),
        Requirement("Keep the job in `reminder`", schedule(ARGS) + ".id", "keep the job in reminder"),
    ],
    right=[
        "reminder = mailers.enqueue_at(datetime.now(timezone.utc) + timedelta(seconds=2), send_gif_email,\n"
        '                              "you@example.com", "Time to stretch", delay=0)',
        'reminder = queues.queue("mailers").enqueue_in(\n'
        '    timedelta(milliseconds=2000), "support.jobs.send_gif_email", "you@example.com", "Time to stretch", 0.0\n'
        ")",
        "from rq import Queue\n\n"
        'in_two = timedelta(seconds=2)\nreminder = Queue("mailers", connection=mailers.connection).enqueue_in(\n'
        '    in_two, send_gif_email, args=("you@example.com", "Time to stretch", 0)\n)',
        "reminder = mailers.enqueue_in(timedelta(seconds=2), send_gif_email, email='you@example.com', "
        "thought='Time to stretch', delay=0)",
        "reminder = mailers.enqueue_at(datetime.now() + timedelta(seconds=2), send_gif_email, "
        '"you@example.com", "Time to stretch", 0)  # a naive time: RQ reads it as local time',
    ],
)


def test_schedule_blank_is_not_attempted(redis_up: Path) -> None:
    assert str(ex_schedule.check(____)) == NOT_ATTEMPTED


def test_schedule_fallback_schedules_the_reference(redis_up: Path) -> None:
    job = ex_schedule.use(____, quiet=True)
    assert job.func_name == "support.jobs.send_gif_email" and job.origin == "mailers"
    assert job in queues.queue("mailers").scheduled_job_registry


@pytest.mark.slow
def test_schedule_already_moved_by_a_scheduler_is_still_correct(services: Path) -> None:
    job = schedule_reference()
    worker = workers.start_worker(["mailers"], with_scheduler=True)
    try:
        job_watch.wait_for_jobs([job], timeout=30)
    finally:
        workers.stop_worker(worker)
    assert job.get_status() == "finished"
    mail = inbox.mail_for(job)  # the reminder really reached the catcher
    assert mail.to == ["you@example.com"]
    result = check_schedule(job)
    assert "already moved it onto the mailers queue" in result


def test_schedule_moved_by_a_scheduler_while_checked_is_still_correct(
    redis_up: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A learner's worker with a scheduler may move the reminder onto the queue between the check's fetch of the job
    and its look at the ScheduledJobRegistry: the check reads the job again, and finds it enqueued on time."""
    from rq.scheduler import RQScheduler

    job = schedule_reference()
    real_scheduled_time = scaling.scheduled_time

    def moved_first(checked: Any) -> Any:
        due = real_scheduled_time(checked)
        assert due is not None  # still scheduled when the check looks: the move happens now, as a scheduler's would
        time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()) + 0.05)
        scheduler = RQScheduler([queues.queue("mailers")], connection=queues.connection())
        assert scheduler.acquire_locks() == {"mailers"}  # no other scheduler runs here
        try:
            scheduler.enqueue_scheduled_jobs()
        finally:
            scheduler.release_locks()
        return real_scheduled_time(checked)

    monkeypatch.setattr(scaling_checks.scaling, "scheduled_time", moved_first)
    try:
        result = check_schedule(job)
    finally:
        job.delete()
    assert "already moved it onto the mailers queue" in result


def test_schedule_second_turning_between_clock_and_job(redis_up: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job created in the first milliseconds of a second may be due one second less after it (RQ read the clock
    in the second before): 2 s asked, not 1 s. Later in the second, one second less is 1 s asked."""
    base = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert scaling_checks._seconds_asked(base + timedelta(microseconds=300), base + timedelta(seconds=1)) is None
    assert scaling_checks._seconds_asked(base + timedelta(milliseconds=400), base + timedelta(seconds=1)) == 1
    assert scaling_checks._seconds_asked(base + timedelta(milliseconds=999), base + timedelta(seconds=2)) is None
    assert scaling_checks._seconds_asked(base + timedelta(milliseconds=999), base + timedelta(seconds=3)) == 3


# --- Exercise 2: predict who runs which job (two real burst workers on three queues) --------------------------------


def submit_order(source: str) -> Result:
    return ex_order.check(define(source, "prediction", notebook_names()))


REFERENCE_ORDER = {"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m1", "m2"]}


def predict(a: list[str], b: list[str]) -> str:
    return f"prediction = {{'A': {a!r}, 'B': {b!r}}}"


A, B = REFERENCE_ORDER["A"], REFERENCE_ORDER["B"]
ORDER = Table(
    ex_order,
    submit_order,
    setup=up,
    requirements=[
        Requirement(
            'Write `prediction`, a dict with one list for each worker, `"A"` and `"B"`',
            f"prediction = {A + B!r}",
            "make it a dict from worker to list",
        ),
        Requirement(
            'Write `prediction`, a dict with one list for each worker, `"A"` and `"B"`',
            f"prediction = {{'A': {A + B!r}}}",
            "one list for each worker",
        ),
        Requirement(
            "the jobs that worker runs, in the order it starts them",
            predict(["d1", "d2", "d3", "u1", "u2"], B),
            "in the order it starts them",
        ),
        Requirement(
            "the jobs that worker runs, in the order it starts them",
            predict(["u1", "d1", "d2", "d3", "u2"], B),
            "in the order it starts them",
        ),
        Requirement(
            "the jobs that worker runs, in the order it starts them", predict(A, ["m2", "m1"]), "in the order it starts"
        ),
        Requirement("the jobs that worker runs", predict([*A, "x9"], B), "list the jobs that run, and only those"),
        Requirement(
            "Every job that runs is in exactly one list", predict(["u1", "d1", "d2", "d3"], B), "exactly one list"
        ),
        Requirement("Every job that runs is in exactly one list", predict(A, [*B, "d3"]), "exactly one list"),
        Requirement(
            "the list of the worker that runs it", predict(A[:-1], [*B, "d3"]), "the list of the worker that runs it"
        ),
    ],
    right=[
        'prediction = {"a": ("U1", "d1", "u2", "d2", "d3"), "b": ("m1", "m2")}',
        'first, then = ["u1", "d1"], ["u2", "d2", "d3"]\nprediction = dict(B=["m1", "m2"], A=first + then)',
    ],
)


def test_order_blank_is_not_attempted(redis_up: Path) -> None:
    assert str(ex_order.check(____)) == NOT_ATTEMPTED
    assert ex_order.use(____, quiet=True) == REFERENCE_ORDER


def test_order_not_lists_is_incorrect(redis_up: Path) -> None:
    assert "give a list of job names" in ex_order.check({"A": "u1 d1 u2 d2 d3", "B": "m1 m2"}).message


@pytest.mark.slow
def test_order_with_another_worker_listening_says_the_check_could_not(redis_up: Path) -> None:
    other = workers.start_worker(["default"], with_scheduler=False)
    try:
        result = ex_order.check(REFERENCE_ORDER)
    finally:
        workers.stop_worker(other)
    assert result.kind == "incorrect"
    assert result.message.startswith("The check could not run the six jobs with only workers A and B: 1 other")
    assert "Your answer is not judged yet" in result.message


def test_redis_that_does_not_answer_is_the_checks_trouble(redis_up: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))  # nothing listens there
    monkeypatch.setattr(queues, "connection", lambda: nowhere)
    result = ex_order.check(REFERENCE_ORDER)
    assert result.message.startswith("The check could not talk to the course's Redis: ConnectionError"), result
    assert 'course.up("redis")' in result.message


# --- Exercise 3: choose the worker class (a Choice: the generic table covers its options) ----------------------------


def test_worker_class_blank_is_not_attempted() -> None:
    assert str(ex_worker_class.check(____)) == NOT_ATTEMPTED


TABLES = [SCHEDULE, ORDER]
test_requirements_table = table_test(TABLES)
