"""The exercises of 06_scaling_and_scheduling, checked against real effects: jobs scheduled in a real Redis, a real
worker with the scheduler, the reminder email in the real mail catcher."""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.checks.scaling import (
    check_schedule,
    ex_order,
    ex_schedule,
    ex_worker_class,
    run_scenario,
    schedule_reference,
)
from support.exercises import ____
from support.jobs import send_gif_email
from support.lessons import scaling
from support.rq_helpers import job_watch, queues, workers
from support.services import course, inbox

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."


@pytest.fixture
def services(shared_course):
    course.up("redis", "catcher", quiet=True)
    scaling.prepare(["default", "mailers"])
    return shared_course


# --- Exercise 1: schedule the reminder -----------------------------------------------------------------------------


def test_schedule_reference_is_correct(services):
    job = schedule_reference()
    result = ex_schedule.check(job)
    assert result.correct, result
    assert "ScheduledJobRegistry of mailers" in result.message
    assert job in queues.queue("mailers").scheduled_job_registry


def test_schedule_enqueued_at_once_is_incorrect(services):
    job = queues.queue("mailers").enqueue(send_gif_email, "you@example.com", "Time to stretch", 0)
    result = ex_schedule.check(job)
    assert result.kind == "incorrect"
    assert "went straight onto the mailers queue (status queued)" in result.message
    assert "enqueue_in(timedelta(seconds=2)" in result.message


def test_schedule_on_the_wrong_queue_is_incorrect(services):
    job = queues.queue("default").enqueue_in(
        timedelta(seconds=2), send_gif_email, "you@example.com", "Time to stretch", 0
    )
    result = ex_schedule.check(job)
    assert result.kind == "incorrect"
    assert "'default' queue" in result.message and "belongs on mailers" in result.message


def test_schedule_with_the_wrong_delay_is_incorrect(services):
    job = queues.queue("mailers").enqueue_in(
        timedelta(seconds=10), send_gif_email, "you@example.com", "Time to stretch", 0
    )
    result = ex_schedule.check(job)
    assert result.kind == "incorrect"
    assert "due about 10 s after you created it" in result.message


def test_schedule_of_the_wrong_function_or_value_is_incorrect(services):
    job = queues.queue("mailers").enqueue_in(timedelta(seconds=2), "support.demo_jobs.noop")
    assert "That job runs support.demo_jobs.noop" in ex_schedule.check(job).message
    assert "it should be the job that enqueue_in returns" in ex_schedule.check("reminder").message


def test_schedule_blank_is_not_attempted(services):
    assert str(ex_schedule.check(____)) == NOT_ATTEMPTED


def test_schedule_fallback_schedules_the_reference(services):
    job = ex_schedule.use(____, quiet=True)
    assert job.func_name == "support.jobs.send_gif_email" and job.origin == "mailers"
    assert job in queues.queue("mailers").scheduled_job_registry


@pytest.mark.slow
def test_schedule_already_moved_by_a_scheduler_is_still_correct(services):
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


# --- Exercise 2: predict who runs which job (two real burst workers on three queues) --------------------------------

REFERENCE_ORDER = {"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m1", "m2"]}


@pytest.mark.slow
def test_order_the_real_run_is_the_reference(services):
    assert run_scenario() == REFERENCE_ORDER


@pytest.mark.slow
def test_order_reference_is_correct(services):
    result = ex_order.check(REFERENCE_ORDER)
    assert result.correct, result
    assert "A ran u1, d1, u2, d2, d3; B ran m1, m2" in result.message


@pytest.mark.slow
@pytest.mark.parametrize(
    "prediction",
    [
        {"a": ("U1", "d1", "u2", "d2", "d3"), "b": ("m1", "m2")},  # tuples, other case
        dict(B=["m1", "m2"], A=[" u1", "d1", "u2", "d2", "d3"]),  # the other key order, a stray space
    ],
    ids=["tuples-lowercase-keys", "dict-call"],
)
def test_order_written_differently_passes(services, prediction):
    result = ex_order.check(prediction)
    assert result.correct, result


@pytest.mark.slow
@pytest.mark.parametrize(
    "prediction, message",
    [
        # requirement: one list for each worker, A and B
        ({"A": ["u1", "d1", "u2", "d2", "d3", "m1", "m2"]}, "give one list for each worker, A and B"),
        # requirement: every job that runs, once
        ({"A": ["u1", "d1", "d2", "d3"], "B": ["m1", "m2"]}, "You left out u2, which ran too (d1 queued u2"),
        ({"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m1", "m2", "d3"]}, "You listed d3 more than once"),
        ({"A": ["u1", "d1", "u2", "d2", "d3", "x9"], "B": ["m1", "m2"]}, "No job called x9 ran"),
        # requirement: each job under the worker that runs it
        ({"A": ["u1", "d1", "u2", "d2"], "B": ["m1", "m2", "d3"]}, "You put d3 under B, but worker A ran it"),
        # requirement: each worker's jobs in the order it starts them
        ({"A": ["d1", "d2", "d3", "u1", "u2"], "B": ["m1", "m2"]}, "Worker A ran u1, d1, u2, d2, d3, in that order"),
        ({"A": ["u1", "d1", "d2", "d3", "u2"], "B": ["m1", "m2"]}, "then goes before the default jobs still queued"),
        ({"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m2", "m1"]}, "Worker B ran m1, m2, in that order"),
    ],
    ids=["one-worker", "missing-follow-up", "twice", "unknown", "wrong-worker", "fifo", "follow-up-last", "b-order"],
)
def test_order_breaking_one_requirement_is_incorrect(services, prediction, message):
    result = ex_order.check(prediction)
    assert result.kind == "incorrect" and message in result.message, result


def test_order_not_a_dict_or_not_lists_is_incorrect(services):
    assert "make it a dict from worker to list" in ex_order.check(["u1", "d1"]).message
    assert "give a list of job names" in ex_order.check({"A": "u1 d1 u2 d2 d3", "B": "m1 m2"}).message


def test_order_blank_is_not_attempted(services):
    assert str(ex_order.check(____)) == NOT_ATTEMPTED
    assert ex_order.use(____, quiet=True) == REFERENCE_ORDER


# --- Exercise 3: choose the worker class ------------------------------------------------------------------------------


def test_worker_class_reference_is_correct():
    result = ex_worker_class.check("b")
    assert result.correct and "dies with the child" in result.message


def test_worker_class_simple_worker_is_incorrect():
    result = ex_worker_class.check("a")
    assert result.kind == "incorrect"
    assert "a segfault kills the worker" in result.message and "old code" in result.message
    assert "isolation is not" in ex_worker_class.check("c").message


def test_worker_class_blank_is_not_attempted():
    assert str(ex_worker_class.check(____)) == NOT_ATTEMPTED
    assert ex_worker_class.check("z").kind == "incorrect"


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("me@example.com", "Time to stretch", 0), {}, "Your reminder goes to 'me@example.com'"),
        (("you@example.com", "Stretch!", 0), {}, "Your reminder's thought is 'Stretch!'"),
        (("you@example.com", "Time to stretch"), {}, "passes no delay, so the mailer takes its slow default"),
        (("you@example.com", "Time to stretch", 5), {}, "passes a delay of 5; the exercise asks for a delay of 0"),
        (("you@example.com", "Time to stretch"), {"delay": 2}, "passes a delay of 2"),
    ],
    ids=["address", "thought", "no-delay", "delay-5", "delay-keyword-2"],
)
def test_schedule_with_other_arguments_is_incorrect(services, args, kwargs, message):
    job = queues.queue("mailers").enqueue_in(timedelta(seconds=2), send_gif_email, *args, **kwargs)
    result = ex_schedule.check(job)
    assert result.kind == "incorrect" and message in result.message, result


def test_schedule_written_differently_passes(services):
    mailers = queues.queue("mailers")
    by_keyword = mailers.enqueue_in(timedelta(seconds=2), send_gif_email, "you@example.com", "Time to stretch", delay=0)
    assert ex_schedule.check(by_keyword).correct
    in_seconds = mailers.enqueue_in(
        timedelta(milliseconds=2000), "support.jobs.send_gif_email", "you@example.com", "Time to stretch", 0.0
    )
    result = ex_schedule.check(in_seconds)
    assert result.correct, result


@pytest.mark.parametrize(
    "answer, kind",
    [
        ("b", "correct"),
        ("B", "correct"),
        (" b\n", "correct"),
        ("b)", "correct"),
        ("a", "incorrect"),
        ("d", "incorrect"),
        ("a b", "incorrect"),
        ("", "not_attempted"),
    ],
)
def test_worker_class_letters_are_read_one_way(answer, kind):
    assert ex_worker_class.check(answer).kind == kind
