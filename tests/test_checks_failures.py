"""The checks of 05_when_things_fail, against real effects: Retry settings as RQ stores them in Redis, and emails
counted in the real mail catcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Retry

from support import jobs, mailcatcher, queues
from support.checks.failures import ex_retry, ex_send_once, stored_retry
from support.exercises import ____

# --- Exercise 1: a Retry that outlasts a 3 s outage ----------------------------------------------------------------


def test_retry_reference_is_correct_and_leaves_nothing_in_redis(course_home: Path) -> None:
    result = ex_retry.check(Retry(max=3, interval=[1, 2, 4]))
    assert result.correct, result
    assert "retries_left=3 and retry_intervals=[1, 2, 4]" in result.message
    assert "1 s, 3 s, 7 s" in result.message
    assert not list(queues.connection().scan_iter(match="rq:job:*"))  # the probe job was deleted again


def test_stored_retry_reads_back_what_rq_keeps(course_home: Path) -> None:
    assert stored_retry(Retry(max=2, interval=5)) == (2, [5])


@pytest.mark.parametrize(("retry", "message"), [
    (Retry(max=3), "no pause between tries, so all 3 retries run at once"),
    (Retry(max=2, interval=1), "tried again 1 s, 2 s after the first failure. The last try comes before the mail "
                               "server is back at 3 s"),
    (Retry(max=3, interval=1), "RQ may start it up to 1 s early"),
    (Retry(max=1, interval=60), "the reader waits 57 s longer than needed"),
])
def test_typical_wrong_retries_are_incorrect(course_home: Path, retry: Retry, message: str) -> None:
    result = ex_retry.check(retry)
    assert result.kind == "incorrect"
    assert message in result.message


def test_retry_that_is_not_a_retry_is_incorrect(course_home: Path) -> None:
    result = ex_retry.check(3)
    assert result.kind == "incorrect" and "Make an rq Retry" in result.message


def test_retry_blank_is_not_attempted_and_use_gives_the_reference(course_home: Path) -> None:
    assert ex_retry.check(____).kind == "not_attempted"
    assert repr(ex_retry.use(____, quiet=True)) == repr(Retry(max=3, interval=[1, 2, 4]))


# --- Exercise 2: send each email once ------------------------------------------------------------------------------


@pytest.fixture
def catcher(course_home: Path) -> None:
    mailcatcher.start()


def test_send_once_reference_is_correct(catcher: None) -> None:
    r = queues.connection()

    def send_once(email, thought, key):
        if not r.set(f"workit:sent:{key}", "sent", nx=True, ex=24 * 60 * 60):
            return None
        try:
            return jobs.send_gif_email(email, thought, delay=0)
        except Exception:
            r.delete(f"workit:sent:{key}")
            raise

    result = ex_send_once.check(send_once)
    assert result.correct, result
    assert "sent 1 email" in result.message and "expires in about 24 h" in result.message


def test_the_reference_of_send_once_is_correct(catcher: None) -> None:
    assert ex_send_once.check(ex_send_once.reference).correct


def test_a_send_without_a_key_is_incorrect(catcher: None) -> None:
    def send_once(email, thought, key):
        return jobs.send_gif_email(email, thought, delay=0)

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect"
    assert "your function sent 2 emails" in result.message


def test_a_claim_kept_in_python_only_is_incorrect(catcher: None) -> None:
    sent = set()

    def send_once(email, thought, key):
        if key in sent:
            return None
        sent.add(key)
        return jobs.send_gif_email(email, thought, delay=0)

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect" and "not in a Python variable" in result.message


def test_a_claim_that_never_expires_is_incorrect(catcher: None) -> None:
    r = queues.connection()

    def send_once(email, thought, key):
        if r.set(f"workit:sent:{key}", "sent", nx=True):
            return jobs.send_gif_email(email, thought, delay=0)
        return None

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect" and "never expires (TTL -1)" in result.message


def test_one_key_for_every_email_is_incorrect(catcher: None) -> None:
    r = queues.connection()

    def send_once(email, thought, key):
        if r.set("workit:sent", "sent", nx=True, ex=60):
            return jobs.send_gif_email(email, thought, delay=0)
        return None

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect" and "Called with a new key, your function sent nothing" in result.message


def test_a_function_that_sends_nothing_is_incorrect(catcher: None) -> None:
    def send_once(email, thought, key):
        return None

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect" and "sent no email at all" in result.message


def test_the_wrong_arguments_are_incorrect(catcher: None) -> None:
    def send_once(email, thought):
        return None

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect" and "(email, thought, key)" in result.message


def test_send_once_blank_is_not_attempted(catcher: None) -> None:
    def send_once(email, thought, key):
        ____

    assert ex_send_once.check(send_once).kind == "not_attempted"
    assert ex_send_once.check(____).kind == "not_attempted"
