"""The checks of 02_redis against the course's real Redis (a state folder of each test's own)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from support.checks import redis_basics
from support.checks.redis_basics import (
    SESSION_KEY, connection, ex_send, ex_session, ex_take, q_crash, reference_send, reference_take,
)
from support.exercises import ____

# --- Exercise 1: a session that expires -----------------------------------------------------------------------


def test_session_reference_passes(course_home: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60)
    result = ex_session.check()
    assert result.kind == "correct", result
    assert "within 60 s" in result.message


def test_session_without_expiry_is_incorrect(course_home: Path) -> None:
    connection().set(SESSION_KEY, "logged-in")
    result = ex_session.check()
    assert result.kind == "incorrect"
    assert "has no expiry" in result.message and "ex=60" in result.message


def test_session_with_milliseconds_mistaken_for_seconds_or_a_wrong_value_is_incorrect(course_home: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60_000)
    assert "px counts milliseconds" in ex_session.check().message
    r.set(SESSION_KEY, "yes", ex=60)
    assert "it should hold 'logged-in'" in ex_session.check().message


def test_session_blank_is_not_attempted(course_home: Path) -> None:
    connection().delete(SESSION_KEY)
    result = ex_session.check()
    assert result.kind == "not_attempted"
    assert "there is no key 'session:ada'" in result.message


# --- Exercise 2: send -----------------------------------------------------------------------------------------


def test_send_reference_passes_and_leaves_nothing_behind(course_home: Path) -> None:
    r = connection()
    keys_before = set(r.keys("check:*"))
    result = ex_send.check(reference_send)
    assert result.kind == "correct", result
    assert set(r.keys("check:*")) == keys_before


def test_send_with_rpush_is_incorrect(course_home: Path) -> None:
    def send(r, key, items):
        for item in items:
            r.rpush(key, item)

    result = ex_send.check(send)
    assert result.kind == "incorrect"
    assert "you added at the right end (RPUSH)" in result.message


def test_send_to_the_wrong_key_or_in_one_piece_is_incorrect(course_home: Path) -> None:
    def fixed_key(r, key, items):
        for item in items:
            r.lpush("my-queue", item)

    def one_piece(r, key, items):
        r.lpush(key, " ".join(items))

    assert "there is nothing at key" in ex_send.check(fixed_key).message
    assert "push each item on its own" in ex_send.check(one_piece).message


def test_send_blank_is_not_attempted(course_home: Path) -> None:
    def send(r, key, items):
        ____

    assert ex_send.check(send).kind == "not_attempted"


# --- Exercise 3: take -----------------------------------------------------------------------------------------


def test_take_reference_passes(course_home: Path) -> None:
    result = ex_take.check(reference_take)
    assert result.kind == "correct", result
    assert "waited" in result.message


def test_take_with_blpop_is_a_stack_and_incorrect(course_home: Path) -> None:
    def take(r, key, n):
        return [r.blpop(key, timeout=2)[1] for _ in range(n)]

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "That is a stack, not a queue" in result.message


def test_take_that_does_not_wait_is_incorrect(course_home: Path) -> None:
    def take(r, key, n):
        return [r.rpop(key) for _ in range(n)]

    result = ex_take.check(take)
    assert result.kind == "incorrect"
    assert "A consumer must wait for work: use BRPOP" in result.message


def test_take_that_keeps_the_pairs_is_incorrect(course_home: Path) -> None:
    def take(r, key, n):
        return [r.brpop(key, timeout=2) for _ in range(n)]

    assert "Keep only the item, the second one" in ex_take.check(take).message


def test_take_that_never_returns_is_stopped(course_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_take_blank_is_not_attempted(course_home: Path) -> None:
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
    assert "appendfsync everysec, Redis's default" in result.message
    assert "runs with appendfsync always" in result.message


def test_crash_prediction_without_persistence_is_incorrect() -> None:
    result = q_crash.check("a")
    assert result.kind == "incorrect"
    assert "reads that file back" in result.message


def test_crash_prediction_blank_is_not_attempted() -> None:
    assert q_crash.check(____).kind == "not_attempted"
