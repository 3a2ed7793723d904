"""The support code of 10_operations, on real parts: real ``rq cron`` processes, real
workers stopped with real signals, and the numbers of a real queue."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from support import ops_jobs
from support.lessons import recurring, stopping, watching
from support.rq_helpers import metrics, queues, recovery, workers
from support.widgets.metrics_view import MetricsView, render

# --- metrics ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "want"),
    [
        ([0.3, 0.1, 0.2, 0.4], 50, 0.2),
        ([0.3, 0.1, 0.2, 0.4], 100, 0.4),
        ([0.3, 0.1, 0.2, 0.4], 1, 0.1),
        ([5.0], 95, 5.0),
        ([], 50, None),
    ],
)
def test_percentile_is_the_nearest_rank_and_leaves_its_input(values: list[float], p: float, want: object) -> None:
    given = list(values)
    assert metrics.percentile(given, p) == want
    assert given == values


def test_oldest_age_is_the_wait_of_the_head_of_the_queue(redis_up: Path) -> None:
    q = queues.queue("default")
    queues.empty(q)
    assert metrics.oldest_age(q) is None
    q.enqueue(ops_jobs.work_for, 0)
    time.sleep(0.3)
    q.enqueue(ops_jobs.work_for, 0)
    age = metrics.oldest_age(q)
    assert age is not None and 0.3 <= age < 30  # the first job's age, not the second's
    assert metrics.oldest_age(q, now=time.time() + 10) >= 10.3


@pytest.mark.slow
def test_read_counts_a_real_batch(redis_up: Path) -> None:
    q = queues.queue("default")
    queues.empty(q)
    before = metrics.read(q)
    assert (before.queued, before.finished, before.failed, before.failure_rate, before.p50) == (0, 0, 0, None, None)
    batch = watching.enqueue_batch(q, jobs=10)  # lengths 0.1, 0.2, 0.3, 0.6 in turn; jobs 5 and 10 fail
    assert metrics.read(q).queued == 10
    worker = workers.start_worker(["default"], with_scheduler=False)
    try:
        assert watching.wait(batch) == {"finished": 8, "failed": 2}
    finally:
        workers.stop_worker(worker)
    after = metrics.read(q)
    assert (after.queued, after.oldest_age, after.finished, after.failed) == (0, None, 8, 2)
    assert after.failure_rate == pytest.approx(0.2)
    took = metrics.durations(q)
    assert len(took) == 8 and min(took) >= 0.1
    assert after.p50 == metrics.percentile(took, 50) >= 0.2 and after.p95 >= 0.6


def test_the_live_view_reads_the_queue_and_stops(redis_up: Path) -> None:
    q = queues.queue("default")
    queues.empty(q)
    view = MetricsView(q, interval=0.05)
    q.enqueue(ops_jobs.work_for, 0)
    time.sleep(0.4)
    history = view.stop()
    assert repr(view) == "MetricsView(live numbers of the queue 'default')"
    assert len(history) >= 3 and history[-1].queued == 1 and view.error is None
    assert not view._poller.thread.is_alive()
    assert "Jobs waiting" in view.body.value and "<svg" in view.body.value
    count = len(view.history)
    time.sleep(0.2)
    assert len(view.history) == count  # nothing reads any more
    assert "—" in render(metrics.Metrics(0, 0, None, 0, 0, 0, None, None), [], "x")


def test_the_jobs_say_they_must_run_as_jobs() -> None:
    with pytest.raises(RuntimeError, match="enqueue it"):
        ops_jobs.hold("x")


# --- rq cron -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cron_runs_the_clean_up_and_two_cron_processes_both_enqueue(redis_up: Path) -> None:
    recurring.reset()
    old = recurring.add_sessions(3, age=600)
    recurring.add_sessions(2, age=5)
    worker = workers.start_worker(["default"], with_scheduler=False)
    try:
        time.sleep(1.5)
        assert recurring.runs() == [] and recurring.registered_crons() == 0  # no cron process: nothing runs
        one = recurring.start_cron()
        first = recurring.wait_for_runs(2, timeout=60)
        assert [r.by for r in first] == [one.name, one.name] and first[0].deleted == 3
        assert first[1].at - first[0].at >= 0.5
        assert recurring.sessions(older_than=300) == 0 and recurring.sessions() == 2
        assert not any(queues.connection().exists(k) for k in old)
        since = len(recurring.runs())
        recurring.add_sessions(4, age=600)
        two = recurring.start_cron()
        assert recurring.registered_crons() == 2
        by_two = recurring.wait_for_runs(2, by=two.name, since=since, timeout=60)
        by_one = recurring.wait_for_runs(2, by=one.name, since=since, timeout=60)
        assert by_one and by_two
        assert sum(r.deleted for r in recurring.runs()[since:]) == 4  # idempotent: each session deleted once
        assert recurring.stop_all() == 2
        assert recurring.registered_crons() == 0 and recurring.running_crons() == []
    finally:
        recurring.stop_all()
        workers.stop_worker(worker)


def test_reset_stops_cron_processes_and_forgets_sessions_and_runs(redis_up: Path) -> None:
    recurring.add_sessions(2, age=600)
    recurring.start_cron()
    recurring.reset()
    assert recurring.running_crons() == [] and recurring.sessions() == 0 and recurring.runs() == []


# --- stopping a worker ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_once_lets_the_job_in_flight_finish(redis_up: Path) -> None:
    queues.empty(queues.queue("default"))
    worker = stopping.start_worker()
    job = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(job) and stopping.in_slow_step(job, worker)
    assert stopping.warm_request_taken_at(worker) is None
    sent = stopping.send(worker, signal.SIGTERM)
    assert stopping.warm_request_taken(worker, timeout=30)  # handled, not only sent: releasing now cannot beat it
    time.sleep(1)
    assert worker.alive() and job.get_status(refresh=True).value == "started"
    stopping.release(job)
    gone = stopping.wait_for_exit(worker)
    assert gone is not None and gone - sent >= 1.5  # the 1 s above and the job's last half second
    assert job.get_status(refresh=True).value == "finished"
    assert job.return_value().endswith("finished its slow step")
    assert not stopping.registered(worker)
    stopping.forget(worker)


def test_sigterm_twice_kills_the_horse_and_leaves_the_job_started(redis_up: Path) -> None:
    queues.empty(queues.queue("default"))
    worker = stopping.start_worker()
    job = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(job) and stopping.in_slow_step(job, worker)
    horse = recovery.work_horse(worker)
    with pytest.raises(RuntimeError, match="not taken a first signal"):
        stopping.wait_past_repeat_window(worker)
    stopping.send(worker, signal.SIGTERM)
    assert stopping.warm_request_taken(worker, timeout=30)
    stopping.wait_past_repeat_window(worker)
    taken = stopping.warm_request_taken_at(worker)
    assert (datetime.now(timezone.utc) - taken).total_seconds() > stopping.REPEAT_IGNORED
    assert worker.alive()
    stopping.send(worker, signal.SIGTERM)
    assert stopping.wait_for_exit(worker, timeout=30) is not None
    assert horse is not None and not horse.is_running()
    assert job.get_status(refresh=True).value == "started"
    assert job.id in job.started_job_registry.get_job_ids(cleanup=False)
    assert not stopping.registered(worker)
    left = recovery.seconds_left(job)
    assert left is not None and 0 < left < 120
    stopping.abandon_now(job)
    assert job.get_status().value == "failed" and "AbandonedJobError" in recovery.error_line(job)
    stopping.forget(worker)


def test_the_precondition_names_the_worker_that_runs_the_job(redis_up: Path) -> None:
    queues.empty(queues.queue("default"))
    busy = stopping.start_worker()
    job = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(job)
    idle = stopping.start_worker()
    try:
        assert stopping.in_slow_step(job, busy) and not stopping.in_slow_step(job, idle)
    finally:
        stopping.release(job)
        workers.stop_worker(busy)
        workers.stop_worker(idle)


@pytest.mark.slow
def test_a_second_sigterm_within_a_second_of_the_first_is_ignored(redis_up: Path) -> None:
    """What makes the cold shutdown wait: RQ drops a repeat that comes within 1 s of the worker taking the first."""
    queues.empty(queues.queue("default"))
    worker = stopping.start_worker()
    job = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(job) and stopping.in_slow_step(job, worker)
    stopping.send(worker, signal.SIGTERM)
    assert stopping.warm_request_taken(worker, timeout=30)
    stopping.send(worker, signal.SIGTERM)
    sent_after = (datetime.now(timezone.utc) - stopping.warm_request_taken_at(worker)).total_seconds()
    if sent_after >= stopping.REPEAT_IGNORED:  # this machine was too slow to send it within the second
        stopping.release(job)
        stopping.wait_for_exit(worker)
        stopping.forget(worker)
        pytest.fail(f"the second SIGTERM went {sent_after:.2f} s after the first was taken; the test needs < 1 s")
    time.sleep(stopping.REPEAT_IGNORED + 0.25)  # had it counted, the worker would be gone by now
    assert worker.alive() and job.get_status(refresh=True).value == "started"
    stopping.release(job)
    assert stopping.wait_for_exit(worker, timeout=30) is not None
    assert job.get_status(refresh=True).value == "finished"  # a warm shutdown after all
    stopping.forget(worker)


def test_wait_until_idle_waits_for_the_worker_itself_not_only_its_job(redis_up: Path) -> None:
    queues.empty(queues.queue("default"))
    worker = stopping.start_worker()
    job = stopping.enqueue_hold()
    assert stopping.wait_in_slow_step(job)
    assert not workers.wait_until_idle(worker, timeout=0.5)  # busy: its job holds
    stopping.release(job)
    assert workers.wait_until_idle(worker, timeout=30)
    assert job.get_status(refresh=True).value == "finished"
    stopping.forget(worker)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_mode, status, horse_alive",
    [("control-group", "failed", False), ("mixed", "finished", True)],
)
def test_systemd_kill_modes_decide_the_job_in_flight(
    redis_up: Path, kill_mode: str, status: str, horse_alive: bool
) -> None:
    """control-group signals the work horse too (rq 3.0.0 setup_work_horse_signals: SIGTERM's default action), so the
    job dies; mixed signals the worker only: a warm shutdown, the job finishes."""
    stopped = stopping.stop_like_systemd(kill_mode)
    assert stopped.worker_exited
    assert stopped.status == status
    assert stopped.horse_alive_after_1s is horse_alive
    if kill_mode == "control-group":
        assert stopped.error.startswith("Work-horse terminated unexpectedly; waitpid returned 15 (signal 15)")
    else:
        assert stopped.worker_alive_after_1s and stopped.error == ""
    assert workers.running_workers() == []


def test_stop_like_systemd_knows_two_kill_modes() -> None:
    with pytest.raises(ValueError, match="kill_mode is one of"):
        stopping.stop_like_systemd("process")
