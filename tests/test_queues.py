"""Emptying the course's queues, with a real worker holding a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq.job import Job

from support.rq_helpers import job_watch, queues, workers


@pytest.mark.slow
def test_empty_all_drops_a_job_a_worker_is_running(shared_course: Path) -> None:
    q = queues.queue("default")
    worker = workers.start_worker(["default"])
    try:
        running = q.enqueue("time.sleep", 3)
        waiting = q.enqueue("time.sleep", 3)
        assert job_watch.wait_for_status(running, "started") == "started"
        assert queues.empty_all() == 1  # the waiting one; the running one goes from the started registry
        assert q.started_job_registry.count == 0 and q.count == 0
        assert not Job.exists(running.id, connection=q.connection)
        assert not Job.exists(waiting.id, connection=q.connection)
    finally:
        workers.stop_worker(worker)
