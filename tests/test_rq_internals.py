"""support.rq_helpers.rq_internals, the one module that reads RQ's Redis layout below its public API: each of its
uses checked against the installed RQ, with real workers on a real Redis; and no other module of support/ doing
the same."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Retry, Worker
from rq.job import Job
from rq.rate_limit import RateLimit, RateLimitRegistry

from support import demo_jobs
from support.lessons import queue_takers, stopping
from support.rq_helpers import job_watch, queues, recovery, rq_internals, workers
from support.services import processes

SUPPORT = Path(__file__).resolve().parent.parent / "support"

# What only rq_internals may touch: RQ's key layout, its private rules, its sorted sets' scores.
RQ_LAYOUT = {
    "redis_worker_namespace_prefix",
    "get_locking_key",
    "get_retry_interval",
    "composite_key",
    "rl_keys_key",
    "allowed_key",
    "rate_limited_key",
    "config_key",
    "zscore",
    "zadd",
    "hgetall",
}


def _layout_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in RQ_LAYOUT:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Name) and node.id == "SimpleNamespace":
            found.append(f"{path.name}:{node.lineno} SimpleNamespace")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "hget"
            and node.args
            and isinstance(node.args[0], ast.Attribute)
            and node.args[0].attr == "key"
        ):
            found.append(f"{path.name}:{node.lineno} hget of an RQ object's key")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (str, bytes))
            and id(node) not in docstrings
            and node.value[:3] in ("rq:", b"rq:")
        ):
            found.append(f"{path.name}:{node.lineno} {node.value!r}")
    return found


def test_only_rq_internals_reads_rqs_layout() -> None:
    found = [
        use for path in sorted(SUPPORT.rglob("*.py")) if path.name != "rq_internals.py" for use in _layout_uses(path)
    ]
    assert found == []
    assert _layout_uses(SUPPORT / "rq_helpers" / "rq_internals.py")  # the check sees them where they are
    assert "rq 3.0.0" in (rq_internals.__doc__ or "")


def test_retry_pause_is_rqs_own_rule(redis_up: Path) -> None:
    conn = queues.connection()
    for retry in (
        Retry(max=3, interval=[1, 2, 4]),
        Retry(max=5, interval=[1, 3]),
        Retry(max=2),
        Retry(max=1, interval=7),
    ):
        job = queues.queue("default", conn).create_job(demo_jobs.noop, retry=retry)
        job.save()
        stored = Job.fetch(job.id, connection=conn)
        for left in range(stored.retries_left, 0, -1):
            stored.retries_left = left
            assert rq_internals.retry_pause(left, stored.retry_intervals) == stored.get_retry_interval()
        job.delete()
    assert recovery.retry_intervals(Retry(max=4, interval=[1, 5])) == [1, 1, 1, 5]


def test_job_statuses_read_what_rq_reads(redis_up: Path) -> None:
    q = queues.queue("default")
    jobs = [q.enqueue(demo_jobs.noop), q.enqueue_in(timedelta(minutes=5), demo_jobs.noop)]
    gone = q.enqueue(demo_jobs.noop)
    gone.delete()
    assert rq_internals.job_statuses(q.connection, [*jobs, gone]) == [
        *(job.get_status(refresh=True).value for job in jobs),
        None,
    ]
    assert job_watch.statuses([*jobs, gone]) == ["queued", "scheduled", "deleted"]
    assert all(rq_internals.is_rq_key(key) for key in q.connection.scan_iter(count=1000))


def test_a_worker_is_registered_under_the_key_rq_finds_it_by(redis_up: Path) -> None:
    conn = queues.connection()
    service = workers.start_worker(["default"], simple=True, with_scheduler=False)
    assert rq_internals.worker_registered(conn, service.rq_name)
    found = Worker.find_by_key(rq_internals.worker_key(service.rq_name), connection=conn)
    assert found is not None and found.pid == service.pid and found.get_state() == "idle"
    assert workers.is_ready(service.rq_name, conn) and workers.wait_until_idle(service, timeout=1)
    workers.stop_worker(service)  # it unregisters (its hash stays a minute, marked dead)
    assert service.rq_name not in [w.name for w in Worker.all(connection=conn)]
    assert not rq_internals.worker_registered(conn, "never-started") and workers.record("never-started", conn) is None


def test_the_scheduler_lock_is_found_and_deleted_under_rqs_key(redis_up: Path) -> None:
    conn = queues.connection()
    service = workers.start_worker(["mailers"], simple=True, with_scheduler=True)
    assert processes.wait_until(lambda: rq_internals.scheduler_lock_owner(conn, "mailers") is not None, 15, 0.05)
    owner = rq_internals.scheduler_lock_owner(conn, "mailers")
    assert queue_takers.scheduler_lock_holders(["mailers", "default"]) == {"mailers": owner}
    assert queue_takers.delete_stale_scheduler_locks(["mailers"]) == []  # its owner lives: the lock stays
    rq_internals.delete_scheduler_lock(conn, "mailers")
    assert rq_internals.scheduler_lock_owner(conn, "mailers") is None
    workers.stop_worker(service)


def test_a_rate_limit_is_forgotten_with_all_its_keys(redis_up: Path) -> None:
    conn = queues.connection()
    key = f"test-{uuid.uuid4().hex[:8]}"
    queues.queue("default").enqueue(demo_jobs.noop, rate_limit=RateLimit(key, 1))
    assert key in {r.key for r in RateLimitRegistry.all(conn)}
    assert [k for k in conn.scan_iter(count=1000) if key.encode() in k]
    rq_internals.delete_rate_limit(conn, key)
    assert key not in {r.key for r in RateLimitRegistry.all(conn)}
    assert [k for k in conn.scan_iter(count=1000) if key.encode() in k] == []


# --- the started registry: abandon one job, and only that one ---------------------------------------------------


def test_abandon_now_touches_only_its_job(redis_up: Path) -> None:
    started = [workers.start_worker(["default"], simple=True, with_scheduler=False) for _ in range(2)]
    earlier = stopping.enqueue_hold()  # started first: its deadline (whole seconds) comes no later than the other's
    assert stopping.wait_in_slow_step(earlier)
    meant = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(meant)
    assert recovery.seconds_left(earlier) <= recovery.seconds_left(meant) + 0.01
    stopping.abandon_now(meant)
    assert job_watch.status(meant) == "failed" and "AbandonedJobError" in recovery.error_line(meant)
    assert job_watch.status(earlier) == "started" and recovery.seconds_left(earlier) is not None
    for job in (earlier, meant):
        stopping.release(job)
    assert job_watch.wait_for_status(earlier, "finished") == "finished"
    for service in started:
        workers.stop_worker(service)


# --- one rule for "is this worker alive" ------------------------------------------------------------------------


def test_a_killed_worker_not_yet_reaped_is_gone_for_every_rule(redis_up: Path) -> None:
    name = f"zombie-{uuid.uuid4().hex[:6]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "support", "worker", "default", "--no-scheduler", "--simple", "--name", name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = queues.connection()
    try:
        assert processes.wait_until(lambda: workers.is_ready(name, conn), 30, 0.05)
        assert [w.name for w in queue_takers.live_workers(["default"])] == [name]
        os.kill(worker.pid, signal.SIGKILL)  # and nobody waits for it yet: a zombie, its PID still taken
        assert processes.wait_until(lambda: recovery.is_gone(workers.record(name, conn)), 10, 0.05)
        assert queue_takers.live_workers(["default"]) == []
        assert [w.name for w in recovery.dead_workers(conn)] == [name]
    finally:
        worker.kill()
        worker.wait(10)
    recovery.recover_abandoned(conn)  # unregisters it
    assert name not in [w.name for w in Worker.all(connection=conn)]


@pytest.mark.parametrize("hostname", [None, "another-machine"])
def test_a_worker_of_another_machine_counts_as_alive(redis_up: Path, hostname: str | None) -> None:
    worker = Worker(
        ["default"], name=f"far-{uuid.uuid4().hex[:6]}", connection=queues.connection(), prepare_for_work=False
    )
    worker.hostname, worker.pid = hostname, 999_999_999
    assert not recovery.is_gone(worker)


def test_cron_last_enqueue_reads_what_rqs_cron_registry_records(redis_up: Path) -> None:
    from rq import cron_job_registry

    conn = queues.connection()
    name = "course-test-cron-last-enqueue"
    try:
        assert rq_internals.cron_last_enqueue(conn, name) is None
        cron_job_registry.add(name, conn, enqueue_timestamp=1_700_000_000.5)  # what rq cron's CronJob.enqueue calls
        assert name in cron_job_registry.get_names(conn, cleanup=False)
        assert rq_internals.cron_last_enqueue(conn, name) == 1_700_000_000.5
    finally:
        conn.zrem(cron_job_registry.get_registry_key(), name)
