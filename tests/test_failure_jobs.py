"""support.failure_jobs: jobs that fail on purpose, run by real workers against the real mail catcher and Redis."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from rq import Retry

from support import failure_jobs
from support.rq_helpers import job_watch, queues, workers
from support.services import inbox, mailcatcher, processes


def _run_burst_worker() -> None:
    """A real burst worker (no fork, no scheduler) that runs until the queues are empty, then exits."""
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert processes.wait_until(lambda: not service.alive(), 20, 0.05), "the burst worker did not finish"


def _mails(address: str) -> int:
    return len(inbox.to_address(address))


# --- tracked_send: each attempt noted in Redis ----------------------------------------------------------------------


def test_tracked_send_notes_every_attempt_of_a_real_job(shared_course: Path) -> None:
    mailcatcher.stop()
    job = queues.queue("mailers").enqueue(
        failure_jobs.tracked_send, "bob@example.com", "rain", delay=0, retry=Retry(max=1)
    )  # no interval: retried at once, no scheduler needed
    _run_burst_worker()  # the mail catcher is not running: both attempts fail
    assert job_watch.status(job) == "failed"
    tries = failure_jobs.attempts(job)
    assert [t.number for t in tries] == [1, 2]
    assert all(not t.ok and t.error.startswith("ConnectionError: ") for t in tries)
    assert all(t.started <= t.ended for t in tries) and tries[0].ended <= tries[1].started
    assert len(failure_jobs.pauses(job)) == 1 and failure_jobs.pauses(job)[0] >= 0
    assert queues.connection().ttl(failure_jobs.ATTEMPTS_PREFIX + job.id) > 0  # the notes expire

    mailcatcher.start()
    queues.queue("mailers").failed_job_registry.requeue(job.id)
    _run_burst_worker()
    assert job_watch.status(job) == "finished"
    assert [t.ok for t in failure_jobs.attempts(job)] == [False, False, True]
    assert failure_jobs.wait_for_attempts(job, 3, timeout=1)[-1].ok
    lines = failure_jobs.timeline(job, {"the mail catcher is back": failure_jobs.attempts(job)[2].started - 0.001})
    assert [re.sub(r"⏱ [\d.]+ s", "T", line) for line in lines] == [
        "attempt 1 at T: failed (ConnectionError)",
        "attempt 2 at T: failed (ConnectionError)",
        "          at T: the mail catcher is back",
        "attempt 3 at T: worked: the email is out",
    ]
    assert _mails("bob@example.com") == 1


def test_a_held_failed_try_reports_only_after_its_release(shared_course: Path) -> None:
    """Try 2 holds after failing: while it holds, RQ has not heard of the failure, so try 3 cannot begin; brought
    back meanwhile, the mail server gets try 3's email, however slowly the machine ran."""
    mailcatcher.stop()  # tries 1 and 2 fail
    job = queues.queue("mailers").enqueue(
        failure_jobs.tracked_send, "hugo@example.com", "rain", delay=0, hold_failed_try=2, retry=Retry(max=3)
    )  # no interval: retried at once
    worker = workers.start_worker(simple=True, with_scheduler=False)
    failure_jobs.wait_until_held(job)
    assert [t.ok for t in failure_jobs.attempts(job)] == [False]  # try 2 is noted only when it reports
    assert job_watch.status(job) == "started"
    mailcatcher.start()
    failure_jobs.release(job)
    assert job_watch.wait_for_status(job, ("finished", "failed")) == "finished"
    assert [t.ok for t in failure_jobs.attempts(job)] == [False, False, True]
    assert _mails("hugo@example.com") == 1
    workers.stop_worker(worker)


def test_send_when_released_holds_before_it_sends(shared_course: Path) -> None:
    mailcatcher.start()
    job = queues.queue("mailers").enqueue(failure_jobs.send_when_released, "iris@example.com", "wait", delay=0)
    worker = workers.start_worker(simple=True, with_scheduler=False)
    failure_jobs.wait_until_held(job)
    assert job_watch.status(job) == "started" and _mails("iris@example.com") == 0
    failure_jobs.release(job)
    assert job_watch.wait_for_status(job, ("finished", "failed")) == "finished"
    assert len(inbox.wait_for(1, match=lambda m: "iris@example.com" in m.to)) == 1
    queues.queue("mailers").enqueue_job(job)  # a released job is not held again: a rerun goes straight through
    assert job_watch.wait_for_status(job, "finished") == "finished"
    assert len(inbox.wait_for(2, match=lambda m: "iris@example.com" in m.to)) == 2
    workers.stop_worker(worker)
    assert failure_jobs.send_when_released("jon@example.com", "no worker").startswith("<")  # outside a job: sends


def test_a_hold_nobody_releases_gives_up_with_a_clear_error(
    shared_course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failure_jobs, "HOLD_LIMIT", 0.2)
    mailcatcher.start()
    job = queues.queue("default").enqueue(failure_jobs.send_when_released, "kim@example.com", "never", delay=0)
    with pytest.raises(TimeoutError, match="did not reach its hold.*queued"):
        failure_jobs.wait_until_held(job, timeout=0.1)
    from rq import SimpleWorker  # a worker in this process, so that it sees the short limit

    SimpleWorker([queues.queue("default")], connection=queues.connection()).work(burst=True)
    assert job_watch.status(job) == "failed"
    assert "nobody released it" in job.latest_result().exc_string
    assert _mails("kim@example.com") == 0


def test_tracked_send_outside_a_worker_only_sends(shared_course: Path) -> None:
    mailcatcher.start()
    assert failure_jobs.tracked_send("ann@example.com", "coffee").startswith("<")
    assert _mails("ann@example.com") == 1


def test_wait_for_attempts_says_what_it_waited_for(shared_course: Path) -> None:
    job = queues.queue("mailers").enqueue(failure_jobs.tracked_send, "x@example.com", "rain")
    with pytest.raises(TimeoutError, match="made 0 attempt"):
        failure_jobs.wait_for_attempts(job, 1, timeout=0.1)


def test_slow_job_sleeps_and_says_so() -> None:
    assert failure_jobs.slow_job(0.01) == "slept 0.01 s"


def test_a_timeout_stops_the_slow_job(shared_course: Path) -> None:
    job = queues.queue("default").enqueue(failure_jobs.slow_job, 3, job_timeout=1)
    _run_burst_worker()
    assert job_watch.status(job) == "failed"
    assert "JobTimeoutException" in job.latest_result().exc_string


# --- at-least-once, and the idempotency key ---------------------------------------------------------------------


def test_send_then_fail_retried_sends_twice(shared_course: Path) -> None:
    mailcatcher.start()
    job = queues.queue("mailers").enqueue(
        failure_jobs.send_then_fail, "cleo@example.com", "hi", "cleo-1", retry=Retry(max=1)
    )
    _run_burst_worker()
    assert job_watch.status(job) == "finished"
    assert _mails("cleo@example.com") == 2


def test_send_then_fail_without_retry_fails_after_sending(shared_course: Path) -> None:
    mailcatcher.start()
    job = queues.queue("mailers").enqueue(failure_jobs.send_then_fail, "carl@example.com", "hi", "carl-1")
    _run_burst_worker()
    assert job_watch.status(job) == "failed"
    assert "LaterStepFailed" in job.latest_result().exc_string
    assert _mails("carl@example.com") == 1  # the email went out before the failure


def test_send_once_then_fail_retried_sends_once(shared_course: Path) -> None:
    mailcatcher.start()
    job = queues.queue("mailers").enqueue(
        failure_jobs.send_once_then_fail, "eve@example.com", "hi", "eve-1", retry=Retry(max=2), fail_times=2
    )
    _run_burst_worker()
    assert job_watch.status(job) == "finished"
    assert _mails("eve@example.com") == 1
    ttl = queues.connection().ttl(failure_jobs.sent_key("eve-1"))
    assert failure_jobs.SENT_TTL - 60 < ttl <= failure_jobs.SENT_TTL


def test_send_once_sends_once_per_key(shared_course: Path) -> None:
    mailcatcher.start()
    assert failure_jobs.send_once("dan@example.com", "hi", "dan-1") is not None
    assert failure_jobs.send_once("dan@example.com", "hi", "dan-1") is None
    assert failure_jobs.send_once("dan@example.com", "hi again", "dan-2") is not None
    assert _mails("dan@example.com") == 2


def test_send_once_from_two_threads_at_once_sends_once(shared_course: Path) -> None:
    mailcatcher.start()
    barrier = threading.Barrier(4)

    def click() -> None:
        barrier.wait()
        failure_jobs.send_once("dora@example.com", "click", "dora-1")

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _mails("dora@example.com") == 1


def test_send_once_gives_the_key_back_when_the_send_fails(shared_course: Path) -> None:
    mailcatcher.stop()  # Redis up, the mail catcher down
    with pytest.raises(ConnectionError):
        failure_jobs.send_once("fay@example.com", "hi", "fay-1")
    assert not queues.connection().exists(failure_jobs.sent_key("fay-1"))
    mailcatcher.start()
    assert failure_jobs.send_once("fay@example.com", "hi", "fay-1") is not None  # the retry can send
    assert _mails("fay@example.com") == 1
