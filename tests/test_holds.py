"""support.rq_helpers.holds, the one way a job waits at a step until the notebook says go: each job module that
holds (05's failure_jobs, 08's export, 09's ops_jobs and rate-limited calls) does it through it, run by a real
worker on the real Redis."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from support import export_jobs, failure_jobs, production_jobs
from support.lessons import results, stopping
from support.rq_helpers import holds, job_watch, queues, workers


def test_a_hold_waits_for_its_go_and_a_go_given_before_lets_it_pass(redis_up: Path) -> None:
    conn = queues.connection()
    name = f"test-{uuid.uuid4().hex[:8]}"
    start = time.monotonic()
    assert not holds.wait_for_go(conn, name, 0.2)  # nobody said go: False after the limit
    assert time.monotonic() - start >= 0.2 and holds.reached(conn, name)
    holds.go(conn, name)
    assert holds.wait_for_go(conn, name, 5)  # said before: straight through
    assert 0 < conn.ttl(holds.reached_key(name)) <= holds.TTL and 0 < conn.ttl(holds.go_key(name)) <= holds.TTL


def _held_then_done(job, name: str) -> None:
    conn = job.connection
    assert holds.wait_until_reached(conn, name, 30), f"{job.func_name} did not reach its hold"
    assert job_watch.status(job) == "started"
    holds.go(conn, name)
    assert job_watch.wait_for_status(job, ("finished", "failed")) == "finished"


def test_every_job_module_holds_through_the_one_mechanism(services: Path) -> None:
    worker = workers.start_worker(["default"], simple=True, with_scheduler=False)
    q = queues.queue("default")

    job = q.enqueue(failure_jobs.send_when_released, "hold@example.com", "wait for it", delay=0)  # 05
    _held_then_done(job, job.id)

    job = stopping.enqueue_hold(q)  # 09: a job held in its slow step
    assert stopping.wait_in_slow_step(job) and holds.reached(job.connection, str(job.args[0]))
    stopping.release(job)
    assert job_watch.wait_for_status(job, ("finished", "failed")) == "finished"

    job = q.enqueue(export_jobs.export_thoughts, ["one", "two"], steps=2, step_delay=0, hold_at=1)  # 08
    assert holds.wait_until_reached(job.connection, job.id, 30) and results.progress_of(job)["done"] == 1
    results.resume(job)
    assert job_watch.wait_for_status(job, ("finished", "failed")) == "finished"

    run = uuid.uuid4().hex[:12]
    job = q.enqueue(production_jobs.rate_limited_call, run, 0, 0.0)  # 09: a call at its gate
    _held_then_done(job, run)
    workers.stop_worker(worker)
