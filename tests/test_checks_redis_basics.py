"""The checks of 02_redis against the course's real Redis (a state folder of each test's own)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from support.checks import _redis_basics_probes
from support.checks._redis_basics_probes import connection
from support.checks.redis_basics import (
    SESSION_KEY,
    ex_send,
    ex_session,
    ex_take,
    ex_terminal,
    q_crash,
    reference_send,
    reference_take,
)
from support.exercises import ____
from support.lessons import redis_tour

# --- Exercise 1: a session that expires -----------------------------------------------------------------------


def test_session_reference_passes(shared_course: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60)
    result = ex_session.check()
    assert result.kind == "correct", result
    assert "within 60 s" in result.message


def test_session_without_expiry_is_incorrect(shared_course: Path) -> None:
    connection().set(SESSION_KEY, "logged-in")
    result = ex_session.check()
    assert result.kind == "incorrect"
    assert "has no expiry" in result.message and "ex=60" in result.message


def test_session_with_milliseconds_mistaken_for_seconds_or_a_wrong_value_is_incorrect(shared_course: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60_000)
    assert "px counts milliseconds" in ex_session.check().message
    r.set(SESSION_KEY, "yes", ex=60)
    assert "it should hold 'logged-in'" in ex_session.check().message


def test_session_blank_is_not_attempted(shared_course: Path) -> None:
    connection().delete(SESSION_KEY)
    result = ex_session.check()
    assert result.kind == "not_attempted"
    assert "there is no key 'session:ada'" in result.message


# --- Exercise 2: by hand, in a terminal ----------------------------------------------------------------------
# The lines go through the real iredis (its standard input a pipe, as the instructor edition runs them); each wrong
# answer breaks one stated requirement: a key of your own, its expiry (600 s at most), a list of 3 or more, LPUSH.

NAME, TODO = redis_tour.NAME_KEY, redis_tour.TODO_KEY


def _typed(*lines: str) -> str:
    """Type `lines` into iredis on the course's Redis, from nothing, as a learner does in a terminal."""
    connection().delete(NAME, TODO)
    return redis_tour.type_into_cli([redis_tour.terminal_steps()[0], *lines, "exit"])


def test_terminal_reference_lines_pass(shared_course: Path) -> None:
    answers = redis_tour.type_into_cli(redis_tour.terminal_steps())
    assert answers.splitlines()[:3] == ["OK", "1", "600"] and answers.endswith("Goodbye!")
    result = ex_terminal.check()
    assert result.kind == "correct", result
    assert "'tour:name' = 'Ada'" in result.message and "with 3 items" in result.message


def test_terminal_lines_written_differently_pass(shared_course: Path) -> None:
    # a quoted value, the expiry given with SET, items pushed one by one
    _typed(f'SET {NAME} "Grace Hopper" EX 300', f"LPUSH {TODO} one", f"LPUSH {TODO} two", f"LPUSH {TODO} three")
    assert ex_terminal.check().correct
    # lower case commands, EXPIRE before the push, a shorter lifetime, five items at once
    _typed(f"set {NAME} Linus", f"expire {NAME} 60", f"lpush {TODO} a b c d e")
    result = ex_terminal.check()
    assert result.correct and "with 5 items" in result.message, result


def test_terminal_nothing_typed_is_not_attempted_and_says_what_to_type(shared_course: Path) -> None:
    connection().delete(NAME, TODO)
    started = time.perf_counter()
    result = ex_terminal.check()
    assert result.kind == "not_attempted"
    assert "File > New > Terminal" in result.message and "!{cli} SET tour:name Ada" in result.message
    assert time.perf_counter() - started < 4  # it waits a moment for a line on its way, no more


def test_terminal_without_the_key_is_incorrect(shared_course: Path) -> None:
    _typed(f"LPUSH {TODO} a b c")
    result = ex_terminal.check()
    assert result.kind == "incorrect" and "There is no key 'tour:name'" in result.message


def test_terminal_key_of_another_type_or_empty_is_incorrect(shared_course: Path) -> None:
    _typed(f"LPUSH {NAME} Ada", f"LPUSH {TODO} a b c")
    assert "'tour:name' is a Redis list, not a string" in ex_terminal.check().message
    _typed(f'SET {NAME} ""', f"EXPIRE {NAME} 600", f"LPUSH {TODO} a b c")
    assert "holds an empty string" in ex_terminal.check().message


def test_terminal_key_without_expiry_is_incorrect(shared_course: Path) -> None:
    _typed(f"SET {NAME} Ada", f"LPUSH {TODO} a b c")
    result = ex_terminal.check()
    assert result.kind == "incorrect" and "has no expiry (TTL -1)" in result.message
    assert "EXPIRE tour:name 600" in result.message


def test_terminal_expiry_too_long_is_incorrect(shared_course: Path) -> None:
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600000", f"LPUSH {TODO} a b c")
    result = ex_terminal.check()
    assert result.kind == "incorrect" and "600 s at most" in result.message


def test_terminal_without_the_list_or_with_too_few_items_is_incorrect(shared_course: Path) -> None:
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600")
    assert "There is no list 'tour:todo'" in ex_terminal.check().message
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"LPUSH {TODO} a b")
    result = ex_terminal.check()
    assert result.kind == "incorrect" and "holds 2 item(s)" in result.message and "at least 3" in result.message
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"SET {TODO} a")
    assert "'tour:todo' is a Redis string, not a list" in ex_terminal.check().message


def test_terminal_list_pushed_with_rpush_is_incorrect(shared_course: Path) -> None:
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"RPUSH {TODO} a b c")
    result = ex_terminal.check()
    assert result.kind == "incorrect" and "Your last push onto 'tour:todo' was RPUSH" in result.message


def test_terminal_use_goes_on_with_what_was_typed_or_types_the_reference(shared_course: Path) -> None:
    _typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"LPUSH {TODO} x y z")
    typed = connection().lrange(TODO, 0, -1)
    assert ex_terminal.use(typed, quiet=True) == ["z", "y", "x"]
    connection().delete(NAME, TODO)
    ex_terminal.check()  # not attempted
    assert ex_terminal.use([], quiet=True) == ["watch-it-run", "start-a-worker", "write-a-job"]
    assert connection().get(NAME) == "Ada"


def test_terminal_steps_open_iredis_from_notebooks_and_leave_it() -> None:
    steps = redis_tour.TERMINAL_STEPS
    assert steps[0] == "../.venv/bin/iredis --iredisrc ../.course/iredisrc -d course" and steps[-1] == "exit"
    assert any(line.startswith(f"LPUSH {TODO} ") for line in steps) and f"EXPIRE {NAME} 600" in steps


# --- Exercise 3: send -----------------------------------------------------------------------------------------


def test_send_reference_passes_and_leaves_nothing_behind(shared_course: Path) -> None:
    r = connection()
    keys_before = set(r.keys("check:*"))
    result = ex_send.check(reference_send)
    assert result.kind == "correct", result
    assert set(r.keys("check:*")) == keys_before


def test_send_with_rpush_is_incorrect(shared_course: Path) -> None:
    def send(r, key, items):
        for item in items:
            r.rpush(key, item)

    result = ex_send.check(send)
    assert result.kind == "incorrect"
    assert "you added at the right end (RPUSH)" in result.message


def test_send_to_the_wrong_key_or_in_one_piece_is_incorrect(shared_course: Path) -> None:
    def fixed_key(r, key, items):
        for item in items:
            r.lpush("my-queue", item)

    def one_piece(r, key, items):
        r.lpush(key, " ".join(items))

    assert "there is nothing at key" in ex_send.check(fixed_key).message
    assert "push each item on its own" in ex_send.check(one_piece).message


def test_send_blank_is_not_attempted(shared_course: Path) -> None:
    def send(r, key, items):
        ____

    assert ex_send.check(send).kind == "not_attempted"


# --- Exercise 4: take -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_take_reference_passes(shared_course: Path) -> None:
    result = ex_take.check(reference_take)
    assert result.kind == "correct", result
    assert "waited" in result.message


def test_take_with_blpop_is_a_stack_and_incorrect(shared_course: Path) -> None:
    def take(r, key, n):
        return [r.blpop(key, timeout=2)[1] for _ in range(n)]

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "That is a stack, not a queue" in result.message


def test_take_that_does_not_wait_is_incorrect(shared_course: Path) -> None:
    def take(r, key, n):
        return [r.rpop(key) for _ in range(n)]

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "A consumer must wait for work: use BRPOP" in result.message


def test_take_that_keeps_the_pairs_is_incorrect(shared_course: Path) -> None:
    def take(r, key, n):
        return [r.brpop(key, timeout=2) for _ in range(n)]

    assert "Keep only the item, the second one" in ex_take.check(take).message


def test_take_that_never_returns_is_stopped(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redis_basics_probes, "TAKE_TIMEOUT", 1.0)
    finished = threading.Event()

    def take(r, key, n):
        try:
            while True:
                r.brpop(key, timeout=0)  # blocks for ever
        finally:
            finished.set()

    started = time.perf_counter()
    result = ex_take.check(take)
    assert result.kind == "incorrect" and "did not return within 1 s" in result.message
    assert time.perf_counter() - started < 5
    assert finished.wait(3), "the learner's take should have been cut off"


def test_take_blank_is_not_attempted(shared_course: Path) -> None:
    def take(r, key, n):
        ____

    assert ex_take.check(take).kind == "not_attempted"
    assert ex_take.use(take, quiet=True) is reference_take


# --- Exercise 5: predict the crash ----------------------------------------------------------------------------


def test_crash_prediction_right_answer() -> None:
    assert q_crash.check("b").correct
    assert q_crash.check("B").correct
    assert "fsyncs each change before it answers" in q_crash.check("b").message


def test_crash_prediction_everysec_misconception_is_explained() -> None:
    result = q_crash.check("c")
    assert result.kind == "incorrect"
    assert "appendfsync everysec, the default once the append-only file is switched on" in result.message
    assert "Redis's default" not in result.message  # a stock Redis has no append-only file: appendonly no
    assert "runs with appendfsync always" in result.message


def test_crash_prediction_without_persistence_is_incorrect() -> None:
    result = q_crash.check("a")
    assert result.kind == "incorrect"
    assert "reads that file back" in result.message


def test_crash_prediction_blank_is_not_attempted() -> None:
    assert q_crash.check(____).kind == "not_attempted"


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


def test_session_with_a_short_expiry_is_incorrect(shared_course: Path) -> None:
    connection().set(SESSION_KEY, "logged-in", ex=5)  # deleted after 5 s, not 60
    result = ex_session.check()
    assert result.kind == "incorrect"
    assert "about 5 s to live" in result.message and "60 s after you set it" in result.message


@pytest.mark.slow
def test_session_checked_again_later_still_passes(shared_course: Path) -> None:
    connection().set(SESSION_KEY, "logged-in", ex=60)
    assert ex_session.check().correct
    time.sleep(2.2)  # the first check read the key; Redis's idle time restarted then
    result = ex_session.check()
    assert result.correct, result


@pytest.mark.parametrize(
    "write",
    [
        lambda r: r.execute_command("SETEX", SESSION_KEY, 60, "logged-in"),
        lambda r: r.set(SESSION_KEY, "logged-in", px=60_000),
        lambda r: r.set(SESSION_KEY, "logged-in", ex=timedelta(seconds=60)),
        lambda r: (r.set(SESSION_KEY, "logged-in"), r.expire(SESSION_KEY, 60)),
    ],
    ids=["setex", "px", "timedelta", "expire-after"],
)
def test_session_written_differently_passes(shared_course: Path, write) -> None:
    write(connection())
    result = ex_session.check()
    assert result.correct, result


def test_session_that_expired_before_the_check_says_so(shared_course: Path) -> None:
    connection().set(SESSION_KEY, "logged-in", ex=1)  # stands for ex=60 and a check run a minute later
    time.sleep(1.3)
    result = ex_session.check()
    assert result.kind == "incorrect", result
    assert "'session:ada' has expired" in result.message and "run your cell again, then the check" in result.message


def test_session_of_another_type_is_incorrect(shared_course: Path) -> None:
    connection().rpush(SESSION_KEY, "logged-in")
    result = ex_session.check()
    assert result.kind == "incorrect" and "is a Redis list, not a string" in result.message


def test_send_that_returns_something_is_incorrect(shared_course: Path) -> None:
    def send(r, key, items):
        return r.lpush(key, *items)  # right list, but the exercise says it returns nothing

    result = ex_send.check(send)
    assert result.kind == "incorrect"
    assert "send returned 3: it should return nothing" in result.message


def test_send_that_makes_another_type_is_incorrect(shared_course: Path) -> None:
    def send(r, key, items):
        r.set(key, ",".join(items))

    assert "send made key a Redis string, not a list" in ex_send.check(send).message


@pytest.mark.parametrize(
    "code",
    [
        "def send(conn, name, things):\n    conn.lpush(name, *things)\n",
        "def send(r, key, items):\n    pipe = r.pipeline()\n    for item in items:\n        pipe.lpush(key, item)\n"
        "    pipe.execute()\n",
    ],
    ids=["one-call-other-names", "pipeline"],
)
def test_send_written_differently_passes(shared_course: Path, code: str) -> None:
    namespace: dict = {}
    exec(code, namespace)
    result = ex_send.check(namespace["send"])
    assert result.correct, result


def test_take_that_reads_without_popping_is_incorrect(shared_course: Path) -> None:
    def take(r, key, n):
        return r.lrange(key, -n, -1)[::-1]

    result = ex_take.check(take)
    assert result.kind == "incorrect" and "still holds 3 item(s): pop them" in result.message


@pytest.mark.slow
def test_take_that_takes_more_than_n_is_incorrect(shared_course: Path) -> None:
    def take(r, key, n):  # ignores n: takes until nothing comes
        taken = []
        while (popped := r.brpop(key, timeout=2)) is not None:
            taken.append(popped[1])
        return taken

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "take(r, key, 1) returned ['one', 'two'] and left 0 item(s): take n items, no more" in result.message


@pytest.mark.slow
def test_take_that_does_not_stop_when_nothing_comes_is_incorrect(shared_course: Path) -> None:
    def crashes(r, key, n):
        return [r.brpop(key, timeout=2)[1] for _ in range(n)]

    def keeps_none(r, key, n):
        return [popped[1] if popped else None for popped in (r.brpop(key, timeout=2) for _ in range(n))]

    result = ex_take.check(crashes)
    assert result.kind == "incorrect"
    assert result.message.startswith(
        "When nothing comes within the timeout, BRPOP answers None, and then: Your function raised TypeError"
    )
    result = ex_take.check(keeps_none)
    assert result.kind == "incorrect"
    assert "take(r, key, 2) returned ['only', None]" in result.message and "stop early" in result.message


def test_take_with_another_timeout_is_incorrect(shared_course: Path) -> None:
    def take(r, key, n):
        taken = []
        for _ in range(n):
            popped = r.brpop(key, timeout=1)
            if popped is None:
                break
            taken.append(popped[1])
        return taken

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "wait up to 2 s for each item: r.brpop(key, timeout=2)" in result.message


@pytest.mark.slow
def test_take_written_differently_passes(shared_course: Path) -> None:
    def take(conn, name, count):
        items = []
        while len(items) < count and (popped := conn.brpop([name], 2)):
            _, item = popped
            items.append(item)
        return items

    result = ex_take.check(take)
    assert result.correct, result


@pytest.mark.parametrize("answer", ["b", "B", " b ", "b)", "(b)", ["b"], "b, b"])
def test_crash_prediction_letter_read_leniently(answer) -> None:
    assert q_crash.check(answer).correct


@pytest.mark.parametrize(
    "answer, message",
    [
        ("z", "You chose 'z'; pick from a, b, c."),
        ("bb", "You chose 'bb'; pick from a, b, c."),
        (2, "You chose 2; pick from a, b, c."),
        ("a b", "You chose a, b: this question has one right answer. Pick one letter."),
    ],
)
def test_crash_prediction_unknown_or_several_letters_are_incorrect(answer, message) -> None:
    result = q_crash.check(answer)
    assert result.kind == "incorrect" and result.message == message


@pytest.mark.parametrize("answer", ["", "   ", []])
def test_crash_prediction_empty_answer_is_not_attempted(answer) -> None:
    result = q_crash.check(answer)
    assert result.kind == "not_attempted" and "your answer is empty" in result.message
