"""The checks of notebook 09's operations sections: every requirement each exercise states, one wrong answer
per requirement with its own message, the reference right, a blank not attempted."""

from __future__ import annotations

import math
import statistics

import pytest

from support.checks.operations import DEPLOY_ORDER, ex_deploy_order, ex_percentile, ex_two_crons
from support.exercises import ____
from support.rq_helpers.metrics import percentile as reference_percentile

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


# --- Exercise 3: the percentile -------------------------------------------------------------------------------------


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def test_percentile_reference_and_shown_solution_are_correct() -> None:
    assert ex_percentile.check(percentile).correct
    result = ex_percentile.check(reference_percentile)
    assert result.correct and "None for no values" in result.message


def unsorted(values, p):  # requirement: values in any order
    if not values:
        return None
    return values[max(1, math.ceil(p / 100 * len(values))) - 1]


def sorts_in_place(values, p):  # requirement: leave the list as it was
    if not values:
        return None
    values.sort()
    return values[max(1, math.ceil(p / 100 * len(values))) - 1]


def raises_when_empty(values, p):  # requirement: None for an empty list
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def zero_when_empty(values, p):
    if not values:
        return 0
    return percentile(values, p)


def off_by_one(values, p):  # requirement: nearest rank (counted from 1)
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)))]


def interpolated(values, p):  # requirement: nearest rank, one of the values
    if not values:
        return None
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def always_the_largest(values, p):
    return max(values) if values else None


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (unsorted, "the values come in any order; sort them first"),
        (sorts_in_place, "changed the list it was given"),
        (raises_when_empty, "raised IndexError"),
        (zero_when_empty, "percentile([], 50) gave 0"),
        (off_by_one, "one place too far"),
        (interpolated, "which is not one of the values (an interpolation?)"),
        (always_the_largest, "the nearest-rank answer is 0.2"),
        (42, "percentile should be a function"),
    ],
)
def test_percentile_wrong_answers_are_incorrect(fn: object, message: str) -> None:
    result = ex_percentile.check(fn)
    assert result.kind == "incorrect" and message in result.message, result


def test_percentile_blank_is_not_attempted_and_use_gives_the_reference() -> None:
    def blank(values, p):
        ____

    assert str(ex_percentile.check(blank)) == NOT_ATTEMPTED
    assert ex_percentile.use(blank, quiet=True) is reference_percentile
