"""The checks of 01_slow_request, called as the notebook calls them: Exercise 1 on Work-It's real form (a shorter
mailer delay than the notebook's 5 s, to keep the tests quick), its emails counted in the real inbox. Each exercise's
requirements, quoted from the notebook, with a wrong answer that breaks each one and right answers written
differently, are its Table (tests/exercise_table.py); the tests below it check what a table does not."""

from __future__ import annotations

import time
from pathlib import Path

from exercise_table import Requirement, Table, define, table_test

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
from support.exercises.results import Result
from support.services import app, course

DELAY = 1.5  # seconds the test app's mailer waits: over TOO_SLOW, as the notebook's 5 s is


def work_it() -> None:
    """Work-It sending inline with a DELAY-second mailer, and the mail catcher, in the test's state folder."""
    course.up("app", delay=DELAY, quiet=True)


# --- Exercise 1: time the form yourself -------------------------------------------------------------------------


def submit_time_form(source: str) -> Result:
    """The cell defines time_form after `import time`, `from support.services import app` and TOO_SLOW."""
    return ex_time_form.check(define(source, "time_form", {"time": time, "app": app, "TOO_SLOW": TOO_SLOW}))


def timing(
    body: str, result: str = '{"status": reply["status"], "seconds": seconds, "background": seconds > TOO_SLOW}'
):
    """A time_form whose request and clock are `body` (it sets reply and seconds), returning `result`."""
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return f"def time_form(email, thought):\n{lines}    return {result}\n"


STOPWATCH = """
start = time.perf_counter()
reply = app.post_thought(email, thought)
seconds = time.perf_counter() - start
"""

TIME_FORM = Table(
    exercise=ex_time_form,
    submit=submit_time_form,
    setup=work_it,
    equivalent={
        "L5 Compare Gt->GtE": "seconds >= TOO_SLOW differs from seconds > TOO_SLOW only when a wait measures exactly "
        "1.0 s; perf_counter differences are not whole numbers, and the text's 'more than' reads either way there",
    },
    requirements=[
        Requirement(
            "it submits Work-It's form **once**",
            timing("app.post_thought(email, thought)\n" + STOPWATCH),
            "submit it once",
        ),
        Requirement(  # a refused form sent again: no email to count, Work-It's log shows it
            "it submits Work-It's form **once**",
            timing(STOPWATCH + "if reply['status'] != 200:\n    reply = app.post_thought(email, thought)"),
            "submit it once",
        ),
        Requirement(
            "with app.post_thought(email, thought)",
            timing(STOPWATCH.replace("post_thought(email, thought)", 'post_thought(email, "A thought of mine")')),
            "app.post_thought(email, thought)",
        ),
        Requirement(
            "with app.post_thought(email, thought)",
            'def time_form(email, thought):\n    return {"status": 200, "seconds": 5.0, "background": True}\n',
            "app.post_thought(email, thought)",
        ),
        Requirement(
            "it reads the clock with time.perf_counter() just before the request and again once the answer is back",
            timing(
                "start = time.perf_counter()\nseconds = time.perf_counter() - start\n"
                "reply = app.post_thought(email, thought)"
            ),
            "just before the request and again once the answer is back",
        ),
        Requirement(
            "the difference is how many seconds the user waited",
            timing(
                STOPWATCH + "seconds = seconds * 1000",
                '{"status": reply["status"], "seconds": seconds, "background": seconds > TOO_SLOW * 1000}',
            ),
            "looks like milliseconds",
        ),
        Requirement(
            "it returns a dict with three keys",
            timing(STOPWATCH, '(reply["status"], seconds, seconds > TOO_SLOW)'),
            "return a dict with the keys status, seconds, background",
        ),
        Requirement(
            '"status", the HTTP status Work-It answered',
            timing(STOPWATCH, '{"status": 200, "seconds": seconds, "background": seconds > TOO_SLOW}'),
            "return the HTTP status Work-It answered",
        ),
        Requirement(
            '"seconds", the seconds the user waited for that answer',
            timing(STOPWATCH, '{"status": reply["status"], "seconds": 5.0, "background": True}'),
            "return the seconds the user waited",
        ),
        Requirement(
            '"background", True when the user waited more than TOO_SLOW (1 second), else False',
            timing(STOPWATCH, '{"status": reply["status"], "seconds": seconds, "background": reply["status"] == 200}'),
            "True when the user waited more than TOO_SLOW",
        ),
        Requirement(  # the mailer's delay for the budget: the notebook's is 5 s, this test's DELAY
            '"background", True when the user waited more than TOO_SLOW (1 second), else False',
            timing(STOPWATCH, f'{{"status": reply["status"], "seconds": seconds, "background": seconds >= {DELAY}}}'),
            "True when the user waited more than TOO_SLOW",
        ),
        Requirement(
            '"background", True when the user waited more than TOO_SLOW (1 second), else False',
            timing(STOPWATCH, '{"status": reply["status"], "seconds": seconds, "background": True}'),
            "True when the user waited more than TOO_SLOW",
        ),
    ],
    right=[
        # another clock, keyword arguments, dict(), the comparison written the other way round
        "def time_form(email, thought):\n"
        "    before = time.monotonic()\n"
        "    answer = app.post_thought(email=email, thought=thought)\n"
        "    waited = time.monotonic() - before\n"
        "    return dict(background=not waited <= TOO_SLOW, seconds=waited, status=answer['status'])\n",
        # the seconds post_thought measured around the request itself
        "def time_form(email, thought):\n"
        "    reply = app.post_thought(email, thought)\n"
        "    waited = reply['seconds']\n"
        "    return {'status': int(reply['status']), 'seconds': waited, 'background': waited > 1}\n",
    ],
)


def test_time_form_blank_is_not_attempted_and_use_falls_back(shared_course: Path) -> None:
    work_it()
    result = submit_time_form("def time_form(email, thought):\n    ____\n")
    assert result.kind == "not_attempted"
    blank = define("def time_form(email, thought):\n    ____\n", "time_form")
    assert ex_time_form.use(blank, quiet=True) is reference_time_form


def test_time_form_without_work_it_says_so_before_running_the_learners_code(shared_course: Path) -> None:
    calls = []

    def time_form(email, thought):
        calls.append(email)
        return {}

    app.stop()
    result = ex_time_form.check(time_form)
    assert result.kind == "incorrect" and result.message.startswith("The check could not submit Work-It's form")
    assert 'course.up("app")' in result.message and calls == []


# --- Exercise 2: three users in line (a Choice: its table is the generic one of tests/test_checks_choices.py) ----


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


def submit_sort(source: str) -> Result:
    return ex_sort.check(define(source, "answers", {"____": ____}))


def sort_answer(**changes: str) -> str:
    """The reference answers with some tasks' values changed (task names given with _ for spaces)."""
    answers = dict(REFERENCE_SORT)
    for task, column in changes.items():
        answers[task.replace("_", " ")] = column
    return "answers = {\n" + "".join(f"    {task!r}: {column!r},\n" for task, column in answers.items()) + "}\n"


SORT = Table(
    exercise=ex_sort,
    submit=submit_sort,
    requirements=[
        Requirement(
            'write "background" or "request" in place of ____',
            sort_answer(email_a_receipt_after_checkout="later"),
            "write 'background' or 'request'",
        ),
        Requirement(
            "does it belong in a background job, or does it stay in the request because the page needs its result?",
            sort_answer(charge_the_card_and_say_whether_it_was_declined="background"),
            "the page needs its result",
        ),
        Requirement(
            "does it belong in a background job, or does it stay in the request because the page needs its result?",
            sort_answer(make_three_thumbnails_of_an_uploaded_photo="request"),
            "the page needs its result",
        ),
        Requirement(
            "Keep the task names as they are.",
            sort_answer().replace("'email a receipt after checkout'", "'email receipts'"),
            "keep the task names as they are",
        ),
        Requirement(
            "For each task",
            sort_answer().replace("    'check the password when someone logs in': 'request',\n", ""),
            "for each task",
        ),
    ],
    right=[
        "answers = {\n" + "".join(f"    {t!r}: {c.upper()!r},\n" for t, c in reversed(REFERENCE_SORT.items())) + "}\n",
        "background = [\n"
        + "".join(f"    {t!r},\n" for t, c in REFERENCE_SORT.items() if c == "background")
        + "]\nanswers = {}\nfor task in background:\n    answers[task] = 'background '\n"
        + "".join(f"answers[{t!r}] = 'request'\n" for t, c in REFERENCE_SORT.items() if c == "request"),
    ],
)


def test_sort_typical_mistake_points_at_the_task_without_giving_the_rest() -> None:
    answers = dict(REFERENCE_SORT, **{"charge the card and say whether it was declined": "background"})
    result = ex_sort.check(answers)
    assert result.kind == "incorrect"
    assert result.message.startswith("1 of 8 is in the wrong column")
    assert "Look again at 'charge the card" in result.message and "can the page say 'paid'" in result.message
    other_tasks = [t for t in TASKS if t != "charge the card and say whether it was declined"]
    assert not any(t in result.message for t in other_tasks)


def test_sort_counts_every_misplaced_task() -> None:
    flipped = {task: ("request" if column == "background" else "background") for task, column in REFERENCE_SORT.items()}
    result = ex_sort.check(flipped)
    assert result.message.startswith("8 of 8 are in the wrong column") and "Look again at 'email a" in result.message


def test_sort_blank_is_not_attempted() -> None:
    blank = {task: ____ for task in TASKS}
    assert ex_sort.check(blank).kind == "not_attempted"
    half = dict(REFERENCE_SORT, **{task: ____ for task in list(TASKS)[:3]})
    result = ex_sort.check(half)
    assert result.kind == "not_attempted" and "3 of 8 tasks still have ____" in result.message
    assert ex_sort.use(blank, quiet=True) == REFERENCE_SORT


TABLES = [TIME_FORM, SORT]
test_requirements_table = table_test(TABLES)
