"""The checks of 05_when_things_fail, against real effects: enqueue options as RQ stores them in Redis and run against
a real outage (the mail catcher stopped), and emails counted in the real mail catcher."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Retry

from support import jobs
from support.checks._failures_requeue import requeue_reference
from support.checks.failures import ex_options, ex_requeue, ex_send_once, stored_options
from support.exercises import ____
from support.rq_helpers import queues
from support.services import mailcatcher

# --- Exercise 2: the options of the welcome email (run against a real outage) --------------------------------------

WEEK = 7 * 24 * 60 * 60
LEFT_OUT = object()  # an option the answer does not give
REFERENCE = {"retry": Retry(max=3, interval=[1, 2, 4]), "job_timeout": 3, "result_ttl": 60, "failure_ttl": WEEK}


def _catcher_up() -> None:
    mailcatcher.start()


@pytest.mark.slow
def test_options_reference_is_correct_and_leaves_the_catcher_up(shared_course: Path) -> None:
    _catcher_up()
    result = ex_options.check(REFERENCE)
    assert result.correct, result
    assert "the email went out once" in result.message and "your 3 s timeout (JobTimeoutException)" in result.message
    assert "finished job 60 s at most and the failed one 7 days" in result.message
    assert mailcatcher.status() is not None
    assert not [k for k in queues.connection().scan_iter(match="rq:job:*")]  # the jobs were deleted again


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        # other numbers, a string timeout, result_ttl=0, and a dict built by keywords
        dict(retry=Retry(max=2, interval=[2, 4]), job_timeout="2s", result_ttl=0, failure_ttl=14 * 24 * 3600),
        {"failure_ttl": 30 * 24 * 60 * 60, "result_ttl": 30, "job_timeout": 5, "retry": Retry(max=4, interval=1)},
    ],
    ids=["keywords-string-timeout", "month-and-four-retries"],
)
def test_options_written_differently_pass(shared_course: Path, options: dict) -> None:
    _catcher_up()
    result = ex_options.check(options)
    assert result.correct, result


def test_stored_options_reads_back_what_rq_keeps(shared_course: Path) -> None:
    stored = stored_options(REFERENCE)
    assert (stored.timeout, stored.result_ttl, stored.failure_ttl) == (3, 60, WEEK)
    assert (stored.retries_left, stored.retry_intervals) == (3, [1, 2, 4])


@pytest.mark.parametrize(
    "changes, message",
    [
        # the email gets out after the outage
        ({"retry": None}, "a failed send is never tried again"),
        ({"retry": Retry(max=3)}, "tries again 0 s, 0 s, 0 s after the first failure"),
        ({"retry": Retry(max=2, interval=1)}, "the last try must be due 3 s or more after the first failure"),
        # ... and not much later than needed
        ({"retry": Retry(max=2, interval=[1, 30])}, "the reader waits 29 s longer than needed"),
        # a hung send is stopped within 5 s
        ({"job_timeout": None}, "The job's timeout is 180 s"),
        ({"job_timeout": 10}, "Give job_timeout 5 s or less"),
        ({"job_timeout": -1}, "-1, no timeout at all"),
        # ... and a normal send has room
        ({"job_timeout": 1}, "at least 2 s"),
        # a finished email: at most a minute
        ({"result_ttl": 500}, "stays in Redis for 500 s"),
        ({"result_ttl": -1}, "stays in Redis for -1, for ever"),
        # a failed email: a week, at most 30 days
        ({"failure_ttl": 3600}, "too short. Keep it at least a week"),
        ({"failure_ttl": LEFT_OUT}, "RQ's default, a year: Redis is not an archive"),
        ({"failure_ttl": 60 * 24 * 3600}, "60 days: Redis is not an archive"),
        ({"failure_ttl": -1}, "-1, for ever"),
        # only the four options
        ({"ttl": 60}, "options has 'ttl'"),
    ],
)
def test_options_breaking_one_requirement_are_incorrect(shared_course: Path, changes: dict, message: str) -> None:
    options = {k: v for k, v in {**REFERENCE, **changes}.items() if v is not LEFT_OUT}
    result = ex_options.check(options)
    assert result.kind == "incorrect" and message in result.message, result


def test_options_not_a_dict_is_incorrect(shared_course: Path) -> None:
    assert "make it a dict" in ex_options.check(Retry(max=3, interval=[1, 2, 4])).message


def test_options_blank_is_not_attempted_and_use_gives_the_reference(shared_course: Path) -> None:
    assert ex_options.check(____).kind == "not_attempted"
    assert ex_options.use(____, quiet=True) is ex_options.reference


# --- Exercise 1: requeue what the outage broke (real failures, a real rq worker --burst) ------------------------------


def requeue_by_job(queue):  # right, written differently: job.requeue(), the error read from exc_info
    count = 0
    for job in queue.failed_job_registry.get_job_ids():
        job = queue.fetch_job(job)
        if job.latest_result().exc_string.strip().splitlines()[-1].split(":")[0] == "ConnectionError":
            job.requeue()
            count += 1
    return count


def requeue_with_rq_jobs(queue):  # right, written differently: Job.fetch_many, a list comprehension
    from rq.job import Job

    registry = queue.failed_job_registry
    broken = [
        job
        for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection)
        if job and "ConnectionError:" in job.latest_result().exc_string.strip().splitlines()[-1]
    ]
    for job in broken:
        registry.requeue(job)
    return len(broken)


def requeue_everything(queue):  # wrong: the job with a bug of its own goes back too
    ids = queue.failed_job_registry.get_job_ids()
    for job_id in ids:
        queue.failed_job_registry.requeue(job_id)
    return len(ids)


def requeue_if_mentioned(queue):  # wrong: "ConnectionError" anywhere in the traceback, not its last line
    count = 0
    for job_id in queue.failed_job_registry.get_job_ids():
        if "ConnectionError" in queue.fetch_job(job_id).latest_result().exc_string:
            queue.failed_job_registry.requeue(job_id)
            count += 1
    return count


def requeue_and_delete_the_rest(queue):  # wrong: the other failed jobs are deleted, not left
    count = requeue_reference(queue)
    for job_id in queue.failed_job_registry.get_job_ids():
        queue.fetch_job(job_id).delete()
    return count


def requeue_nothing_returned(queue):  # wrong: the count is not returned
    requeue_reference(queue)


def requeue_from_mailers(queue):  # wrong: not the queue it was given
    return requeue_reference(queues.queue("mailers"))


def requeue_as_new_jobs(queue):  # wrong: new jobs, the failed ones stay failed
    count = 0
    for job_id in queue.failed_job_registry.get_job_ids():
        job = queue.fetch_job(job_id)
        if "ConnectionError" in job.latest_result().exc_string:
            queue.enqueue(job.func, *job.args)
            count += 1
    return count


@pytest.mark.slow
@pytest.mark.parametrize("fn", [requeue_reference, requeue_by_job, requeue_with_rq_jobs])
def test_requeue_right_answers_pass(shared_course: Path, fn) -> None:
    mailcatcher.start()
    result = ex_requeue.check(fn)
    assert result.correct, result
    assert mailcatcher.status() is not None


@pytest.mark.slow
@pytest.mark.parametrize(
    "fn, message",
    [
        (requeue_as_new_jobs, "still failed (failed) in the failed registry of the queue your function was given"),
        (requeue_from_mailers, "from the queue you are given"),
        (requeue_everything, "The job that failed with TypeError was requeued too: it would only fail again"),
        (requeue_if_mentioned, "RuntimeError was requeued too (its traceback mentions ConnectionError, but its error"),
        (requeue_and_delete_the_rest, "The job that failed with TypeError is gone: leave the other failed jobs"),
        (requeue_nothing_returned, "returned None: return how many it requeued (2 here)"),
    ],
    ids=["new-jobs", "other-queue", "everything", "anywhere-in-traceback", "deleted", "no-count"],
)
def test_requeue_breaking_one_requirement_is_incorrect(shared_course: Path, fn, message: str) -> None:
    mailcatcher.start()
    result = ex_requeue.check(fn)
    assert result.kind == "incorrect" and message in result.message, result


def test_requeue_blank_or_not_a_function(shared_course: Path) -> None:
    assert ex_requeue.check(____).kind == "not_attempted"
    assert "should be a function" in ex_requeue.check(3).message


# --- Exercise 3: send each email once ------------------------------------------------------------------------------


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
