"""The checks of notebook 10_operations: every requirement each exercise states, one wrong answer
per requirement with its own message, the reference right, a blank not attempted."""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rq import Worker, cron_job_registry

from support.checks.operations import DEPLOY_ORDER, alerts_reference, ex_alerts, ex_deploy_order, ex_two_crons
from support.exercises import ____
from support.rq_helpers import metrics, queues

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."

# --- Exercise 1: three servers, three cron processes -------------------------------------------------------------


def test_two_crons_reference_is_correct() -> None:
    result = ex_two_crons.check("b")
    assert result.correct and "rq cron takes no lock" in result.message


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("a", "That lock exists for RQ's scheduler of enqueue_in and retries"),
        ("c", "DuplicateSchedulerError is raised only when a name is registered twice"),
    ],
)
def test_two_crons_wrong_answers_are_incorrect_with_their_reason(answer: str, message: str) -> None:
    result = ex_two_crons.check(answer)
    assert result.kind == "incorrect" and message in result.message


def test_two_crons_blank_is_not_attempted() -> None:
    assert str(ex_two_crons.check(____)) == NOT_ATTEMPTED
    assert ex_two_crons.check("b c").kind == "incorrect"  # one answer only


# --- Exercise 2: the order of a deploy's stop ----------------------------------------------------------------------


@pytest.mark.parametrize("answer", [["a", "b", "c"], "a b c", "a, b, c", ("A", "b)", " c ")])
def test_deploy_order_reference_is_correct_however_written(answer: object) -> None:
    result = ex_deploy_order.check(answer)
    assert result.correct and "terminationGracePeriodSeconds" in result.message


def test_deploy_order_reference_value() -> None:
    assert ex_deploy_order.use(____, quiet=True) == DEPLOY_ORDER


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (["a", "b", "c", "d"], "Step d is a cold shutdown"),  # requirement: no second signal
        (["a", "d", "b", "c"], "Step d is a cold shutdown"),
        (["b", "c"], "Without SIGTERM (step a)"),  # requirement: signal first
        (["a", "c"], "Without waiting (step b)"),  # requirement: wait
        (["a", "b"], "Without step c nothing bounds the wait"),  # requirement: force what is left
        (["a", "c", "b"], "SIGKILL before the wait (c before b)"),  # requirement: wait before killing
        (["b", "a", "c"], "Waiting before SIGTERM (b before a)"),  # requirement: signal before waiting
        (["a", "a", "b", "c"], "You listed a step twice"),
        (["a", "b", "x"], "'x' is not a step"),
        (3, "give the letters in order"),
    ],
)
def test_deploy_order_wrong_answers_are_incorrect(answer: object, message: str) -> None:
    result = ex_deploy_order.check(answer)
    assert result.kind == "incorrect" and message in result.message, result


def test_deploy_order_blank_is_not_attempted() -> None:
    assert str(ex_deploy_order.check(____)) == NOT_ATTEMPTED


# --- Exercise 3: which alerts fire (each answer runs against real states of a scratch queue) --------------------


def alerts_with_metrics(queue, failed_before, max_wait, cron_job, cron_within):  # the shown solution
    firing = set()
    age = metrics.oldest_age(queue)
    if age is not None and age > max_wait:
        firing.add("old job")
    if queue.failed_job_registry.count > failed_before:
        firing.add("new failures")
    if not Worker.all(queue=queue):
        firing.add("no worker")
    last = metrics.last_cron_run(queue.connection, cron_job)
    if last is None or time.time() - last > cron_within:
        firing.add("cron late")
    return firing


def alerts_with_rq_only(queue, failed_before, max_wait, cron_job, cron_within):  # right, written differently
    now = datetime.now(timezone.utc)
    head = queue.get_jobs(0, 1)
    too_old = bool(head) and (now - head[0].enqueued_at.replace(tzinfo=timezone.utc)).total_seconds() > max_wait
    last = queue.connection.zscore(cron_job_registry.get_registry_key(), cron_job)
    checks = {
        "old job": too_old,
        "new failures": len(queue.failed_job_registry) > failed_before,
        "no worker": Worker.count(queue=queue) == 0,
        "cron late": last is None or now.timestamp() - last > cron_within,
    }
    return [name for name, fires in checks.items() if fires]


def alerts_in_one_expression(queue, failed_before, max_wait, cron_job, cron_within):  # right, as a tuple
    last = metrics.last_cron_run(queue.connection, cron_job) or float("-inf")
    return tuple(
        name
        for name, fires in (
            ("old job", (metrics.oldest_age(queue) or float("-inf")) > max_wait),
            ("new failures", queue.failed_job_registry.count - failed_before > 0),
            ("no worker", len(Worker.all(queue=queue)) < 1),
            ("cron late", time.time() - last > cron_within),
        )
        if fires
    )


def _except(name: str, replacement):
    """The shown solution with one alert's rule replaced by `replacement` (True: fires)."""

    def answer(queue, failed_before, max_wait, cron_job, cron_within):
        firing = alerts_with_metrics(queue, failed_before, max_wait, cron_job, cron_within) - {name}
        if replacement(queue, failed_before, max_wait, cron_job, cron_within):
            firing.add(name)
        return firing

    return answer


def any_waiting_job(queue, failed_before, max_wait, cron_job, cron_within):  # requirement: older than max_wait
    return queue.count > 0


def age_or_zero(queue, failed_before, max_wait, cron_job, cron_within):  # requirement: an empty queue has no old job
    return (metrics.oldest_age(queue) or 0) >= max_wait


def any_failure(queue, failed_before, max_wait, cron_job, cron_within):  # requirement: growth since the last reading
    return queue.failed_job_registry.count > 0


def workers_anywhere(queue, failed_before, max_wait, cron_job, cron_within):  # requirement: on this queue
    return not Worker.all(connection=queue.connection)


def never_is_fine(queue, failed_before, max_wait, cron_job, cron_within):  # requirement: a cron job that never ran
    last = metrics.last_cron_run(queue.connection, cron_job)
    return last is not None and time.time() - last > cron_within


def test_alerts_reference_and_answers_written_differently_are_correct(redis_up: Path) -> None:
    result = ex_alerts.check(alerts_with_metrics)
    assert result.correct and "only then" in result.message, result
    for answer in (alerts_with_rq_only, alerts_in_one_expression, alerts_reference):
        assert ex_alerts.check(answer).correct, answer.__name__


@pytest.mark.parametrize(
    ("name", "replacement", "message"),
    [
        ("old job", any_waiting_job, 'your answer reported "old job", but the oldest job has waited only'),
        ("old job", age_or_zero, 'your answer reported "old job", but the queue is empty'),
        ("new failures", any_failure, "report only growth since the last reading"),
        ("no worker", workers_anywhere, 'did not report "no worker": count only the workers that listen on'),
        ("cron late", never_is_fine, 'has never run, and your answer did not report "cron late"'),
    ],
)
def test_alerts_wrong_rule_is_incorrect_naming_it(redis_up: Path, name: str, replacement, message: str) -> None:
    result = ex_alerts.check(_except(name, replacement))
    assert result.kind == "incorrect" and message in result.message, result


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda queue, failed_before, max_wait, cron_job, cron_within: "old job", "as a set (or a list) of strings"),
        (
            lambda queue, failed_before, max_wait, cron_job, cron_within: {"late"},
            "'late', which is not an alert's name",
        ),
        (42, "alerts should be a function"),
    ],
)
def test_alerts_wrong_shape_is_incorrect(redis_up: Path, answer: object, message: str) -> None:
    result = ex_alerts.check(answer)
    assert result.kind == "incorrect" and message in result.message, result


def test_alerts_check_leaves_nothing_behind(redis_up: Path) -> None:
    conn = queues.connection()
    ex_alerts.check(alerts_with_metrics)
    assert not [k for k in conn.scan_iter(match="*alerts-check*")]
    assert not [n for n in cron_job_registry.get_names(conn) if n.startswith("alerts-check")]


def test_alerts_blank_is_not_attempted_and_use_gives_the_reference() -> None:
    def blank(queue, failed_before, max_wait, cron_job, cron_within):
        ____

    assert str(ex_alerts.check(blank)) == NOT_ATTEMPTED
    assert ex_alerts.use(blank, quiet=True) is alerts_reference


def test_alerts_check_leaves_the_kernels_signals_and_logging_as_they_were(redis_up: Path) -> None:
    # the check runs a SimpleWorker in the notebook's process: its SIGINT/SIGTERM handlers and log handlers must go
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    logs = {name: list(logging.getLogger(name).handlers) for name in ("rq.worker", "rq.job", "rq.cron")}
    assert ex_alerts.check(alerts_with_metrics).correct
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert {name: list(logging.getLogger(name).handlers) for name in logs} == logs


def test_alerts_solution_shown_passes_its_check(redis_up: Path) -> None:
    namespace = {"metrics": metrics, "Worker": Worker, "time": time}  # what 10's set-up cell imported
    exec(ex_alerts.solution_code, namespace)
    assert ex_alerts.check(namespace["alerts"]).correct
