"""The checks of 01_slow_request, called as the notebook calls them: on real functions, timed for real."""

from __future__ import annotations

import time

from support.checks.slow_request import REFERENCE_SORT, TASKS, ex_sort, ex_stopwatch, reference_stopwatch
from support.exercises import ____

# --- Exercise 1: stopwatch ------------------------------------------------------------------------------------


def test_stopwatch_reference_passes() -> None:
    result = ex_stopwatch.check(reference_stopwatch)
    assert result.kind == "correct", result
    assert "handed back nap's answer" in result.message


def test_stopwatch_learner_version_in_the_notebook_passes() -> None:
    def stopwatch(fn, *args):
        start = time.time()
        result = fn(*args)
        return result, time.time() - start

    assert ex_stopwatch.check(stopwatch).correct


def test_stopwatch_that_returns_only_the_seconds_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        fn(*args)
        return time.perf_counter() - start

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect"
    assert "Your stopwatch returned one number" in result.message and "Return a pair" in result.message


def test_stopwatch_that_stops_the_clock_before_the_call_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        seconds = time.perf_counter() - start
        return fn(*args), seconds

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect"
    assert "for a call that sleeps 0.3 s" in result.message and "after it returns" in result.message


def test_stopwatch_that_calls_twice_or_never_is_incorrect() -> None:
    def twice(fn, *args):
        fn(*args)
        return reference_stopwatch(fn, *args)

    def never(fn, *args):
        return None, 0.3

    assert "called fn 2 times" in ex_stopwatch.check(twice).message
    assert "never called fn" in ex_stopwatch.check(never).message


def test_stopwatch_blank_is_not_attempted() -> None:
    def stopwatch(fn, *args):
        """Call fn(*args) once; return (what it returned, the seconds it took)."""
        ____

    assert ex_stopwatch.check(stopwatch).kind == "not_attempted"
    assert ex_stopwatch.check(____).kind == "not_attempted"


def test_stopwatch_use_falls_back_to_the_reference_for_a_blank() -> None:
    assert ex_stopwatch.use(____, quiet=True) is reference_stopwatch


# --- Exercise 2: background or request ------------------------------------------------------------------------


def test_sort_reference_passes() -> None:
    result = ex_sort.check(dict(REFERENCE_SORT))
    assert result.kind == "correct", result


def test_sort_accepts_other_spelling_of_the_same_words() -> None:
    answers = {task: column.upper() + " " for task, column in REFERENCE_SORT.items()}
    assert ex_sort.check(answers).correct


def test_sort_typical_mistake_points_at_the_task_without_giving_the_rest() -> None:
    answers = dict(REFERENCE_SORT, **{"charge the card and say whether it was declined": "background"})
    result = ex_sort.check(answers)
    assert result.kind == "incorrect"
    assert result.message.startswith("1 of 8 is in the wrong column. Look again at 'charge the card")
    assert "can the page say 'paid'" in result.message
    other_tasks = [t for t in TASKS if t != "charge the card and say whether it was declined"]
    assert not any(t in result.message for t in other_tasks)


def test_sort_counts_every_misplaced_task() -> None:
    flipped = {task: ("request" if column == "background" else "background") for task, column in REFERENCE_SORT.items()}
    assert ex_sort.check(flipped).message.startswith("8 of 8 are in the wrong column. Look again at 'email a")


def test_sort_rejects_other_words_and_changed_keys() -> None:
    later = dict(REFERENCE_SORT, **{"email a receipt after checkout": "later"})
    assert "write 'background' or 'request'" in ex_sort.check(later).message
    renamed = dict(REFERENCE_SORT)
    renamed["email receipts"] = renamed.pop("email a receipt after checkout")
    assert "is not one of the tasks" in ex_sort.check(renamed).message


def test_sort_blank_is_not_attempted() -> None:
    blank = {task: ____ for task in TASKS}
    assert ex_sort.check(blank).kind == "not_attempted"
    half = dict(REFERENCE_SORT, **{task: ____ for task in list(TASKS)[:3]})
    result = ex_sort.check(half)
    assert result.kind == "not_attempted" and "3 of 8 tasks still have ____" in result.message
    assert ex_sort.use(blank, quiet=True) == REFERENCE_SORT


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


def test_stopwatch_that_returns_the_pair_the_other_way_round_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - start, result

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect" and "the seconds first" in result.message


def test_stopwatch_that_loses_fns_answer_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        fn(*args)
        return None, time.perf_counter() - start

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect" and "The first item of your pair is None" in result.message


def test_stopwatch_in_milliseconds_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        result = fn(*args)
        return result, (time.perf_counter() - start) * 1000

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect" and "that looks like milliseconds" in result.message


def test_stopwatch_that_passes_only_the_first_argument_is_incorrect() -> None:
    def stopwatch(fn, *args):
        start = time.perf_counter()
        result = fn(args[0])
        return result, time.perf_counter() - start

    result = ex_stopwatch.check(stopwatch)
    assert result.kind == "incorrect"
    assert "handed back ('first',) as fn's answer" in result.message and "fn(*args)" in result.message


def test_stopwatch_written_differently_passes() -> None:
    def stopwatch(function, *arguments):  # other names, a list for the pair, another clock
        before = time.monotonic()
        answer = function(*arguments)
        return [answer, time.monotonic() - before]

    result = ex_stopwatch.check(stopwatch)
    assert result.correct, result


def test_sort_with_a_task_left_out_is_incorrect() -> None:
    answers = dict(REFERENCE_SORT)
    del answers["check the password when someone logs in"]
    result = ex_sort.check(answers)
    assert result.kind == "incorrect"
    assert "The task 'check the password when someone logs in' is missing" in result.message
