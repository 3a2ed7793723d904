"""support.lessons.faults (05): faults landed at a chosen step of a real job, on real workers, the real mail catcher
and Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Retry

from support import failure_jobs
from support.lessons import faults
from support.rq_helpers import job_watch, queues, recovery, workers
from support.services import inbox, mailcatcher


@pytest.mark.slow
def test_send_during_outage_brings_the_catcher_back_between_two_tries(shared_course: Path) -> None:
    worker = workers.start_worker(["mailers"], simple=True, with_scheduler=True)
    try:
        mailcatcher.stop()
        job, back = faults.send_during_outage(
            queues.queue("mailers"), "olga@example.com", "rain", retry=Retry(max=2, interval=1), mail_back_after_try=1
        )
        assert job_watch.wait_for_status(job, ("finished", "failed"), timeout=20) == "finished"
    finally:
        workers.stop_worker(worker)
    tries = failure_jobs.attempts(job)
    assert [t.ok for t in tries] == [False, True]  # the first try failed, the catcher came back, the next one sent
    assert tries[0].ended >= back >= tries[0].started and tries[1].started > back
    assert len(inbox.to_address("olga@example.com")) == 1


@pytest.mark.slow
def test_kill_work_horse_mid_send_kills_before_the_email_leaves(shared_course: Path) -> None:
    mailcatcher.start()
    worker = workers.start_worker(["mailers"], with_scheduler=False)  # a forking worker: it has a work horse
    try:
        job, status, _ = faults.kill_work_horse_mid_send(worker, queues.queue("mailers"), "pia@example.com", "rain")
        assert status == "started"
        assert job_watch.wait_for_status(job, "failed") == "failed"
        assert "Work-horse terminated unexpectedly" in recovery.error_line(job)
        assert worker.alive()
    finally:
        workers.stop_worker(worker)
    assert inbox.to_address("pia@example.com") == []


@pytest.mark.slow
def test_send_batch_and_kill_worker_leaves_the_held_job_started(shared_course: Path) -> None:
    mailcatcher.start()
    worker = workers.start_worker(["mailers"], with_scheduler=False)
    emails = [f"quinn{n}@example.com" for n in range(1, 4)]
    batch = faults.send_batch_and_kill_worker(worker, queues.queue("mailers"), emails, "rain", kill_during=2)
    assert not worker.alive()
    assert job_watch.counts(batch) == {"finished": 1, "started": 1, "queued": 1}
    assert inbox.to_address("quinn2@example.com") == []
