"""The checks of 04_dashboard, against real effects: jobs that really failed on a real worker, the real registries,
the real mail catcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rq.job import Job

from support import dashboard
from support.checks.dashboard import count_failed_reference, ex_count_failed, ex_requeue
from support.exercises import ____
from support.jobs import send_gif_email
from support.rq_helpers import job_watch, queues, workers
from support.services import inbox, mailcatcher, processes


def _fail_one_job_on(queue_name: str = "mailers") -> Job:
    """A job that really fails (its thought is missing), run by a real burst worker."""
    job = queues.queue(queue_name).enqueue(send_gif_email, "nobody@example.com")
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert processes.wait_until(lambda: not service.alive(), 15, 0.05)
    assert job_watch.status(job) == "failed"
    return job


# --- Exercise 1: count the failed jobs --------------------------------------------------------------------------


def test_count_failed_reference_is_correct(shared_course: Path) -> None:
    _fail_one_job_on("mailers")
    _fail_one_job_on("default")
    assert sum(q.failed_job_registry.get_job_count(cleanup=False) for q in queues.all_queues()) == 2
    result = ex_count_failed.check(count_failed_reference)
    assert result.correct, result
    assert "2 failed jobs right now" in result.message


def test_count_failed_of_one_queue_only_is_incorrect(shared_course: Path) -> None:
    _fail_one_job_on("mailers")  # on the real snapshot, counting mailers alone gives the right number...

    def only_mailers(snap):
        return snap["queues"]["mailers"]["failed"]

    result = ex_count_failed.check(only_mailers)  # ...the spread snapshot shows it is wrong
    assert result.kind == "incorrect"
    assert "2 failed jobs in urgent and 3 in default" in result.message and "returned 0, not 5" in result.message


def test_count_failed_that_counts_finished_jobs_is_incorrect(shared_course: Path) -> None:
    _fail_one_job_on("mailers")

    def finished(snap):
        return sum(row["finished"] for row in snap["queues"].values())

    result = ex_count_failed.check(finished)
    assert result.kind == "incorrect"
    assert "returned 0, but the failed-job registries in Redis hold 1 job" in result.message


def test_count_failed_blank_is_not_attempted(shared_course: Path) -> None:
    def count_failed(snap):
        return ____

    assert ex_count_failed.check(count_failed).kind == "not_attempted"
    assert ex_count_failed.check(____).kind == "not_attempted"


# --- Exercise 2: requeue the failed job ------------------------------------------------------------------------


@pytest.fixture
def down_job(shared_course: Path) -> Iterator[Job]:
    """A job that failed because the mail catcher was down; the catcher is up again and a worker is running."""
    mailcatcher.stop()
    job = queues.queue("mailers").enqueue(send_gif_email, "ada@example.com", "Is the mail server up?", delay=0)
    worker = workers.start_worker(simple=True, with_scheduler=False)
    assert job_watch.wait_for_status(job, "failed") == "failed"
    assert "ConnectionError" in dashboard.snapshot()["failed"][0]["error"]
    mailcatcher.start()
    yield job
    workers.stop_worker(worker)


def test_requeue_reference_is_correct(down_job: Job) -> None:
    requeued = dashboard.requeue_failed(down_job.id)
    result = ex_requeue.check(requeued)
    assert result.correct, result
    assert job_watch.status(down_job) == "finished"
    assert len(inbox.to_address("ada@example.com")) == 1


def test_requeue_through_the_registry_by_id_is_correct(down_job: Job) -> None:
    queues.queue("mailers").failed_job_registry.requeue(down_job.id)
    assert ex_requeue.check(down_job.id).correct


def test_enqueueing_a_new_copy_is_incorrect(down_job: Job) -> None:
    copy = queues.queue("mailers").enqueue(send_gif_email, "ada@example.com", "Is the mail server up?", delay=0)
    result = ex_requeue.check(copy)
    assert result.kind == "incorrect"
    assert "never failed: it looks like a new job you enqueued" in result.message


@pytest.mark.slow
def test_a_job_left_in_the_failed_registry_is_incorrect(down_job: Job) -> None:
    result = ex_requeue.check(down_job)
    assert result.kind == "incorrect" and "still in the failed-job registry" in result.message


def test_a_deleted_job_is_incorrect(down_job: Job) -> None:
    dashboard.delete_failed(down_job.id)
    result = ex_requeue.check(down_job.id)
    assert result.kind == "incorrect" and "it was deleted" in result.message


def test_requeue_blank_is_not_attempted_and_use_requeues_it(down_job: Job) -> None:
    assert ex_requeue.check(____).kind == "not_attempted"
    job = ex_requeue.use(____, down_job, quiet=True)
    assert job.id == down_job.id
    assert job_watch.wait_for_status(job, "finished") == "finished"
    assert len(inbox.wait_for(1, match=lambda m: "ada@example.com" in m.to)) == 1


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


def test_count_failed_of_a_fresh_snapshot_is_incorrect(shared_course: Path) -> None:
    _fail_one_job_on("mailers")

    def count_failed(snap):  # ignores the snapshot it is given
        return sum(row["failed"] for row in dashboard.snapshot()["queues"].values())

    result = ex_count_failed.check(count_failed)
    assert result.kind == "incorrect"
    assert "returned 1 for a made-up snapshot with 5 failed jobs, and again for one with 7" in result.message


def test_count_failed_that_is_not_a_whole_number_is_incorrect(shared_course: Path) -> None:
    result = ex_count_failed.check(lambda snap: float(count_failed_reference(snap)))
    assert result.kind == "incorrect" and "returned 0.0; it should return a whole number" in result.message


def test_count_failed_written_differently_passes(shared_course: Path) -> None:
    _fail_one_job_on("default")

    def count_failed(snapshot):
        total = 0
        for name in snapshot["queues"]:
            total += snapshot["queues"][name]["failed"]
        return total

    assert ex_count_failed.check(count_failed).correct


def test_a_requeued_job_that_fails_again_is_incorrect(down_job: Job) -> None:
    mailcatcher.stop()  # the mail server is down again
    requeued = dashboard.requeue_failed(down_job.id)
    result = ex_requeue.check(requeued)
    assert result.kind == "incorrect"
    assert "The job ran again and failed again" in result.message and "mailcatcher.start()" in result.message


def test_a_requeued_job_that_already_failed_again_when_checked_is_incorrect_for_that_reason(down_job: Job) -> None:
    # On a fast machine (or a slow check) the worker fails the requeued job again before the check looks: it is
    # back in the failed registry, but it was requeued: the message must say it failed again, not "not requeued".
    mailcatcher.stop()
    requeued = dashboard.requeue_failed(down_job.id)
    assert job_watch.wait_for_status(requeued, "failed") == "failed"
    assert queues.queue("mailers").failed_job_registry.get_job_ids() == [down_job.id]
    result = ex_requeue.check(requeued)
    assert result.kind == "incorrect"
    assert "The job ran again and failed again" in result.message and "mailcatcher.start()" in result.message


def test_requeue_through_the_registry_returning_the_job_is_correct(down_job: Job) -> None:
    requeued = queues.queue("mailers").failed_job_registry.requeue(down_job.id)
    assert ex_requeue.check(requeued).correct
