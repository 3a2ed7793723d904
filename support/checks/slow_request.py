"""Exercises of 01_slow_request: a stopwatch of your own, and sorting work into "background" or "request"."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..exercises import Exercise, Incorrect, NotAttempted, call, describe, is_placeholder, require_function

# --- Exercise 1: a stopwatch -----------------------------------------------------------------------------------

NAP = 0.3  # seconds the check's test function sleeps: long enough to measure, short enough to wait for
_NAP_RESULT = "done napping"


def reference_stopwatch(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Call fn(*args); return what it returned and how many seconds it took."""
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    return result, seconds


def _check_stopwatch(stopwatch: Any) -> str:
    require_function(stopwatch, "stopwatch", ("fn", "*args"))
    calls: list[float] = []

    def nap(seconds: float) -> str:
        calls.append(seconds)
        time.sleep(seconds)
        return _NAP_RESULT

    out = call(stopwatch, nap, NAP)
    if not calls:
        raise Incorrect("Your stopwatch never called fn: call fn(*args) between the two readings of the clock.")
    if len(calls) > 1:
        raise Incorrect(
            f"Your stopwatch called fn {len(calls)} times. Call it once: a slow call (like sending "
            "an email) must not run twice."
        )
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        raise Incorrect(
            f"Your stopwatch returned one number ({out:.3f}). Return a pair, (result, seconds), so "
            "whoever calls it still gets fn's answer."
        )
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise Incorrect(f"Your stopwatch returned {describe(out)}; return a pair: (what fn returned, seconds).")
    result, seconds = out
    if isinstance(result, (int, float)) and seconds == _NAP_RESULT:
        raise Incorrect(
            f"Your stopwatch returned ({result:.3f}, {seconds!r}): the seconds first. Return the pair "
            "the other way round: (what fn returned, seconds)."
        )
    if result != _NAP_RESULT:
        raise Incorrect(
            f"The first item of your pair is {describe(result)}, but fn returned "
            f"{_NAP_RESULT!r}: keep what fn(*args) returns and hand it back."
        )
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise Incorrect(
            f"The second item of your pair is {describe(seconds)}; it should be the seconds, a number such as 0.3."
        )
    if seconds > 1e6:
        raise Incorrect(
            f"Your stopwatch says {seconds:.0f} s: that looks like a clock reading, not a duration. "
            "Subtract the reading before the call from the reading after it."
        )
    if seconds < NAP * 0.95:
        raise Incorrect(
            f"Your stopwatch measured {seconds:.3f} s for a call that sleeps {NAP} s. Read the clock "
            "once before calling fn and once after it returns."
        )
    if NAP * 950 <= seconds <= (NAP + 5) * 1000:
        raise Incorrect(
            f"Your stopwatch says {seconds:.1f} for a call that sleeps {NAP} s: that looks like "
            "milliseconds. Return seconds, the plain difference of two time.perf_counter() readings."
        )
    if seconds > NAP + 5:
        raise Incorrect(
            f"Your stopwatch measured {seconds:.1f} s for a call that sleeps {NAP} s. Time only the "
            "call: read the clock right before and right after it."
        )
    pair = call(stopwatch, _pair_up, "first", "second")
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and pair[0] == ("first", "second")):
        got = pair[0] if isinstance(pair, (tuple, list)) and pair else pair
        raise Incorrect(
            f"stopwatch(fn, 'first', 'second') handed back {describe(got)} as fn's answer, for an fn "
            "that returns its arguments: pass every argument on, in order, with fn(*args)."
        )
    return f"stopwatch(nap, {NAP}) measured ⏱ {seconds:.2f} s and handed back nap's answer."


def _pair_up(*args: Any) -> tuple[Any, ...]:
    return args


ex_stopwatch = Exercise(
    "Exercise 1",
    _check_stopwatch,
    title="Your own stopwatch",
    hints=[
        "time.perf_counter() reads a clock in seconds; the difference of two readings is a duration.",
        "Read the clock, call result = fn(*args), read the clock again; return result and the difference.",
        "return result, time.perf_counter() - start",
    ],
    solution="""\
def stopwatch(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    return result, seconds""",
    reference=reference_stopwatch,
)


# --- Exercise 2: background or request? -------------------------------------------------------------------------

BACKGROUND, REQUEST = "background", "request"

# task -> (the right column, a pointer shown when it is in the wrong one: a question, never the answer)
TASKS: dict[str, tuple[str, str]] = {
    "email a receipt after checkout": (
        BACKGROUND,
        "Does the page have to wait until the receipt is in the mailbox? Think of Work-It.",
    ),
    "make three thumbnails of an uploaded photo": (
        BACKGROUND,
        "Resizing images is slow data processing. Does the upload page need the thumbnails to say 'uploaded'?",
    ),
    "tell the warehouse's API about a new order": (
        BACKGROUND,
        "A third-party API can be slow or down. Does the customer need its answer on this page?",
    ),
    "delete sessions older than 30 days, every night": (
        BACKGROUND,
        "Nobody clicked anything: this is maintenance. Which request would it even run in?",
    ),
    "check the password when someone logs in": (
        REQUEST,
        "The very next page depends on the answer: logged in or not. Can that wait for a worker?",
    ),
    "show the search results someone asked for": (
        REQUEST,
        "The results ARE the page. What would the user see if a worker made them later?",
    ),
    "refuse a malformed email address in the form": (
        REQUEST,
        "Remember the 400 above: it took milliseconds, and the user must fix the field now.",
    ),
    "charge the card and say whether it was declined": (
        REQUEST,
        "It calls a third party, yes, but can the page say 'paid' before it knows the card went "
        "through? The user is waiting for exactly this answer.",
    ),
}

REFERENCE_SORT = {task: column for task, (column, _pointer) in TASKS.items()}


def _check_sort(answers: Any) -> str:
    if not isinstance(answers, dict):
        raise Incorrect(f"answers should be a dict (task -> 'background' or 'request'), not {describe(answers)}.")
    if answers and all(is_placeholder(v) for v in answers.values()):
        raise NotAttempted()
    unknown = [task for task in answers if task not in TASKS]
    if unknown:
        raise Incorrect(
            f"{unknown[0]!r} is not one of the tasks: keep the keys as they were given and only fill in the values."
        )
    missing = [task for task in TASKS if task not in answers]
    if missing:
        raise Incorrect(f"The task {missing[0]!r} is missing from your dict: put it back with its answer.")
    blanks = [task for task, value in answers.items() if is_placeholder(value)]
    if blanks:
        raise NotAttempted(
            f"{len(blanks)} of {len(TASKS)} tasks still have ____: fill in every one (the first is {blanks[0]!r})."
        )
    columns = {}
    for task, value in answers.items():
        word = value.strip().lower() if isinstance(value, str) else value
        if word not in (BACKGROUND, REQUEST):
            raise Incorrect(f"{task!r} is {describe(value)}; write 'background' or 'request'.")
        columns[task] = word
    wrong = [task for task in TASKS if columns[task] != TASKS[task][0]]
    if wrong:
        first = wrong[0]
        verb = "is" if len(wrong) == 1 else "are"
        raise Incorrect(
            f"{len(wrong)} of {len(TASKS)} {verb} in the wrong column. Look again at {first!r}: {TASKS[first][1]}"
        )
    return (
        "All 8 sorted. Background work is slow, and nobody is waiting on this page for its result; "
        "request work decides what this page says."
    )


ex_sort = Exercise(
    "Exercise 2",
    _check_sort,
    title="Background or request?",
    hints=[
        "Ask of each task: is the user looking at a page that needs its result to be written?",
        "The four kinds of background work from the top of the notebook: data processing, third-party APIs, "
        "maintenance, email. But a third-party call whose answer the page needs stays in the request.",
    ],
    solution="answers = {\n" + "".join(f"    {task!r}: {column!r},\n" for task, column in REFERENCE_SORT.items()) + "}",
    reference=REFERENCE_SORT,
)
