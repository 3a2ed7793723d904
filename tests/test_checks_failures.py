"""The checks of 05_when_things_fail, against real effects: Retry settings as RQ stores them in Redis, and emails
counted in the real mail catcher."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Retry

from support import jobs
from support.checks.failures import ex_retry, ex_send_once, stored_retry
from support.exercises import ____
from support.rq_helpers import queues
from support.services import mailcatcher

# --- Exercise 1: a Retry that outlasts a 3 s outage ----------------------------------------------------------------


def test_retry_reference_is_correct_and_leaves_nothing_in_redis(shared_course: Path) -> None:
    result = ex_retry.check(Retry(max=3, interval=[1, 2, 4]))
    assert result.correct, result
    assert "retries_left=3 and retry_intervals=[1, 2, 4]" in result.message
    assert "1 s, 3 s, 7 s" in result.message
    assert not list(queues.connection().scan_iter(match="rq:job:*"))  # the probe job was deleted again


def test_stored_retry_reads_back_what_rq_keeps(shared_course: Path) -> None:
    assert stored_retry(Retry(max=2, interval=5)) == (2, [5])


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        (Retry(max=3), "no pause between tries, so all 3 retries run at once"),
        (
            Retry(max=2, interval=1),
            "tried again 1 s, 2 s after the first failure. The last try comes before the mail server is back at 3 s",
        ),
        (Retry(max=3, interval=1), "RQ may start it up to 1 s early"),
        (Retry(max=1, interval=60), "the reader waits 57 s longer than needed"),
    ],
)
def test_typical_wrong_retries_are_incorrect(shared_course: Path, retry: Retry, message: str) -> None:
    result = ex_retry.check(retry)
    assert result.kind == "incorrect"
    assert message in result.message


def test_retry_that_is_not_a_retry_is_incorrect(shared_course: Path) -> None:
    result = ex_retry.check(3)
    assert result.kind == "incorrect" and "Make an rq Retry" in result.message


def test_retry_blank_is_not_attempted_and_use_gives_the_reference(shared_course: Path) -> None:
    assert ex_retry.check(____).kind == "not_attempted"
    assert repr(ex_retry.use(____, quiet=True)) == repr(Retry(max=3, interval=[1, 2, 4]))


# --- Exercise 2: send each email once ------------------------------------------------------------------------------


@pytest.fixture
def catcher(shared_course: Path) -> None:
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


@pytest.mark.slow
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


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


def _reference_with(claim=None, sent_return=None, skipped=None, delay=0, on_failure="delete"):
    """The reference send_once with one thing changed."""
    r = queues.connection()

    def send_once(email, thought, key):
        name = f"workit:sent:{key}"
        if not (claim or (lambda: r.set(name, "sent", nx=True, ex=86400)))():
            return skipped
        try:
            message_id = jobs.send_gif_email(email, thought, delay=delay)
        except Exception:
            if on_failure == "swallow":
                r.delete(name)
                return None
            if on_failure == "delete":
                r.delete(name)
            raise
        return message_id if sent_return is None else sent_return

    return send_once


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"sent_return": "sent!"}, "The call that sent the email returned 'sent!': return what send_gif_email returns"),
        ({"skipped": False}, "The second call with the same key sent nothing, right, but returned False: return None"),
        ({"delay": None}, "sent with ("),
        ({"on_failure": "keep"}, "the retry with the same key sent nothing: the key stayed claimed"),
        ({"on_failure": "swallow"}, "When the mail server was down, your function returned None: let the error out"),
    ],
    ids=["return-message-id", "return-none", "delay-0", "release-claim", "raise-on-failure"],
)
def test_send_once_breaking_one_stated_rule_is_incorrect(catcher: None, changes, message) -> None:
    result = ex_send_once.check(_reference_with(**changes))
    assert result.kind == "incorrect" and message in result.message, result


def test_send_once_with_a_separate_check_and_claim_is_incorrect(catcher: None) -> None:
    r = queues.connection()

    def send_once(email, thought, key):
        if r.exists(f"workit:sent:{key}"):  # look, then claim: another worker can get in between
            return None
        time.sleep(0.3)
        r.set(f"workit:sent:{key}", "sent", ex=86400)
        try:
            return jobs.send_gif_email(email, thought, delay=0)
        except Exception:
            r.delete(f"workit:sent:{key}")
            raise

    result = ex_send_once.check(send_once)
    assert result.kind == "incorrect"
    assert re.search(r"6 threads at once with one key, your function sent [2-6] emails", result.message), result


def test_send_once_written_differently_passes(catcher: None) -> None:
    r = queues.connection()

    def send_once(address, text, idempotency_key):  # other names, a hashed key, a timedelta, px
        claim = "workit:sent:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
        if r.set(claim, 1, nx=True, px=int(timedelta(days=1).total_seconds() * 1000)) is None:
            return None
        try:
            return jobs.send_gif_email(address, text, 0)
        except BaseException:
            r.delete(claim)
            raise

    result = ex_send_once.check(send_once)
    assert result.correct, result


def test_retry_written_differently_passes(shared_course: Path) -> None:
    for retry in (Retry(max=4, interval=1), Retry(max=2, interval=[2, 3]), Retry(max=5, interval=[1, 2, 4])):
        result = ex_retry.check(retry)
        assert result.correct, (retry, result)
