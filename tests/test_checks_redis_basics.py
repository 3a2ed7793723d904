"""The checks of 02_redis against the course's real Redis (a state folder of each test's own)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from support.checks import redis_basics
from support.checks._redis_basics_probes import connection
from support.checks.redis_basics import (
    SESSION_KEY,
    ex_send,
    ex_session,
    ex_take,
    q_crash,
    reference_send,
    reference_take,
)
from support.exercises import ____

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


# --- Exercise 2: send -----------------------------------------------------------------------------------------


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


# --- Exercise 3: take -----------------------------------------------------------------------------------------


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
    monkeypatch.setattr(redis_basics, "TAKE_TIMEOUT", 1.0)
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


# --- Exercise 4: predict the crash ----------------------------------------------------------------------------


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
