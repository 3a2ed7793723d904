"""support.rq_helpers.job_watch: waiting for real jobs run by a real worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.rq_helpers import job_watch, queues, workers
from support.services import processes


def test_counts_and_wait_for_jobs_follow_a_real_worker(shared_course: Path) -> None:
    q = queues.queue("default")
    jobs = [q.enqueue("time.sleep", 0) for _ in range(3)] + [q.enqueue("math.sqrt", -1)]
    assert job_watch.counts(jobs) == {"queued": 4}
    with pytest.raises(TimeoutError, match="some never finished"):
        job_watch.wait_for_jobs(jobs, timeout=0.1)
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert job_watch.wait_for_jobs(jobs, timeout=15) == {"failed": 1, "finished": 3}
    assert processes.wait_until(lambda: not service.alive(), 10)


def test_wait_for_status_names_the_status_it_found(shared_course: Path) -> None:
    job = queues.queue("default").enqueue("time.sleep", 0)
    assert job_watch.wait_for_status(job, "queued") == "queued"
    with pytest.raises(TimeoutError, match="still 'queued'.*finished"):
        job_watch.wait_for_status(job, "finished", timeout=0.1)


def test_a_deleted_job_reads_as_deleted(shared_course: Path) -> None:
    job = queues.queue("default").enqueue("time.sleep", 0)
    job.delete()
    assert job_watch.status(job) == "deleted"
