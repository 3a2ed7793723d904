"""The checks of 01_slow_request, called as the notebook calls them: Exercise 1 on Work-It's real form (a shorter
mailer delay than the notebook's 5 s, to keep the tests quick), its emails counted in the real inbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.checks.slow_request import (
    REFERENCE_SORT,
    TASKS,
    TOO_SLOW,
    ex_sort,
    ex_time_form,
    q_line,
    reference_time_form,
)
from support.exercises import ____
from support.services import app, course

DELAY = 1.5  # seconds the test app's mailer waits: over TOO_SLOW, as the notebook's 5 s is


@pytest.fixture
def work_it(shared_course: Path) -> Iterator[Path]:
    """Work-It sending inline with a DELAY-second mailer, and the mail catcher, on the test worker's state folder."""
    course.up("app", delay=DELAY, quiet=True)
    yield shared_course


# --- Exercise 1: time the form yourself -------------------------------------------------------------------------
# Requirements, as the notebook states them: a dict with 'status', 'seconds', 'background'; the form submitted once
# with app.post_thought; 'status' the HTTP status Work-It answered; 'seconds' the wait by your own clock, around the
# request; 'background' True exactly when seconds > TOO_SLOW.


def test_time_form_reference_passes(work_it: Path) -> None:
    result = ex_time_form.check(reference_time_form)
    assert result.kind == "correct", result
    assert "A good address: HTTP 200 after" in result.message and "background True" in result.message
    assert "HTTP 400 after" in result.message and "background False" in result.message


def test_time_form_written_differently_passes(work_it: Path) -> None:
    def time_form(email, thought):  # another clock, dict(), the comparison written the other way round
        before = time.monotonic()
        answer = app.post_thought(email=email, thought=thought)
        waited = time.monotonic() - before
        return dict(background=not waited <= TOO_SLOW, seconds=waited, status=answer["status"])

    def time_form_with_the_replys_own_timing(email, thought):  # the seconds post_thought measured itself
        reply = app.post_thought(email, thought)
        return {"status": int(reply["status"]), "seconds": reply["seconds"], "background": reply["seconds"] > 1}

    assert ex_time_form.check(time_form).correct
    assert ex_time_form.check(time_form_with_the_replys_own_timing).correct


def test_time_form_blank_is_not_attempted_and_use_falls_back(work_it: Path) -> None:
    def time_form(email, thought):
        ____

    assert ex_time_form.check(time_form).kind == "not_attempted"
    assert ex_time_form.use(time_form, quiet=True) is reference_time_form


def test_time_form_that_returns_no_dict_or_misses_a_key_is_incorrect(work_it: Path) -> None:
    def pair(email, thought):
        reply = app.post_thought(email, thought)
        return reply["status"], reply["seconds"]

    def no_verdict(email, thought):
        reply = app.post_thought(email, thought)
        return {"status": reply["status"], "seconds": reply["seconds"]}

    assert "return a dict with the keys status, seconds, background" in ex_time_form.check(pair).message
    assert "has no 'background'" in ex_time_form.check(no_verdict).message


def test_time_form_that_never_submits_is_incorrect(work_it: Path) -> None:
    def made_up(email, thought):
        return {"status": 200, "seconds": 5.0, "background": True}

    result = ex_time_form.check(made_up)
    assert result.kind == "incorrect" and "No email reached the inbox" in result.message


def test_time_form_that_submits_twice_is_incorrect(work_it: Path) -> None:
    def twice(email, thought):
        app.post_thought(email, thought)
        return reference_time_form(email, thought)

    result = ex_time_form.check(twice)
    assert result.kind == "incorrect" and "submitted the form 2 times" in result.message


def test_time_form_with_a_fixed_status_is_incorrect(work_it: Path) -> None:
    def always_200(email, thought):
        return {**reference_time_form(email, thought), "status": 200}

    result = ex_time_form.check(always_200)
    assert result.kind == "incorrect"
    assert "Work-It answered HTTP 400 for the malformed address 'ada@', but 'status' says 200" in result.message


def test_time_form_with_ok_for_a_status_is_incorrect(work_it: Path) -> None:
    def ok(email, thought):
        start = time.perf_counter()
        reply = app.post_thought(email, thought)
        seconds = time.perf_counter() - start
        return {"status": reply["ok"], "seconds": seconds, "background": seconds > TOO_SLOW}

    result = ex_time_form.check(ok)
    assert result.kind == "incorrect" and "'status' is True for a good address" in result.message


def test_time_form_in_milliseconds_is_incorrect(work_it: Path) -> None:
    def milliseconds(email, thought):
        start = time.perf_counter()
        reply = app.post_thought(email, thought)
        ms = (time.perf_counter() - start) * 1000
        return {"status": reply["status"], "seconds": ms, "background": ms > TOO_SLOW * 1000}

    result = ex_time_form.check(milliseconds)
    assert result.kind == "incorrect" and "that looks like milliseconds" in result.message


def test_time_form_that_stops_the_clock_before_the_request_is_incorrect(work_it: Path) -> None:
    def too_early(email, thought):
        start = time.perf_counter()
        seconds = time.perf_counter() - start
        reply = app.post_thought(email, thought)
        return {"status": reply["status"], "seconds": seconds, "background": seconds > TOO_SLOW}

    result = ex_time_form.check(too_early)
    assert result.kind == "incorrect" and "read the clock just before you submit the form" in result.message


def test_time_form_with_a_fixed_time_is_incorrect(work_it: Path) -> None:
    def fixed(email, thought):
        reply = app.post_thought(email, thought)
        return {"status": reply["status"], "seconds": 5.0, "background": True}

    result = ex_time_form.check(fixed)
    assert result.kind == "incorrect" and "yet the whole call of time_form took" in result.message


def test_time_form_that_always_says_background_is_incorrect(work_it: Path) -> None:
    def always(email, thought):
        return {**reference_time_form(email, thought), "background": True}

    result = ex_time_form.check(always)
    assert result.kind == "incorrect"
    assert "The malformed address 'ada@' took" in result.message and "'background' says True" in result.message


def test_time_form_with_the_wrong_threshold_or_a_word_is_incorrect(work_it: Path) -> None:
    def ten_seconds(email, thought):
        out = reference_time_form(email, thought)
        return {**out, "background": out["seconds"] > 10}

    def a_word(email, thought):
        out = reference_time_form(email, thought)
        return {**out, "background": "yes" if out["background"] else "no"}

    result = ex_time_form.check(ten_seconds)
    assert result.kind == "incorrect" and "A good address took" in result.message
    assert "True exactly when the user waited more than 1 s" in result.message
    assert "'background' is 'yes' for a good address; make it True or False" in ex_time_form.check(a_word).message


# --- Exercise 2: three users in line ---------------------------------------------------------------------------


def test_line_right_answer_written_differently_passes() -> None:
    assert q_line.check("c").correct
    assert q_line.check(" C ").correct


def test_line_wrong_answers_are_explained() -> None:
    side_by_side = q_line.check("a")
    assert side_by_side.kind == "incorrect" and "takes the next request only once" in side_by_side.message
    one_before = q_line.check("b")
    assert one_before.kind == "incorrect" and "the first user's, the second user's" in one_before.message


def test_line_blank_is_not_attempted() -> None:
    assert q_line.check(____).kind == "not_attempted"


# --- Exercise 3: background or request ------------------------------------------------------------------------


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


# --- Exercise 3: every stated requirement ---------------------------------------------------------------------


def test_sort_with_a_task_left_out_is_incorrect() -> None:
    answers = dict(REFERENCE_SORT)
    del answers["check the password when someone logs in"]
    result = ex_sort.check(answers)
    assert result.kind == "incorrect"
    assert "The task 'check the password when someone logs in' is missing" in result.message
