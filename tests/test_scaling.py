"""support.lessons.scaling and support.demo_jobs against real processes: Redis, workers, the scheduler, the mail
catcher."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from rq.scheduler import RQScheduler

from support import demo_jobs
from support.jobs import send_gif_email
from support.lessons import queue_takers, scaling
from support.rq_helpers import job_watch, queues, workers
from support.services import inbox


def test_demo_jobs_run_here():
    t0 = time.perf_counter()
    assert demo_jobs.one_second(7) == 7
    assert time.perf_counter() - t0 >= 1.0
    assert demo_jobs.noop() is None
    assert demo_jobs.sleep_for(0.01, 3) == 3
    assert demo_jobs.which_process() == os.getpid()


@pytest.mark.slow
def test_prepare_empties_the_queues_and_stops_leftover_workers(services):
    default = queues.queue("default")
    default.enqueue(demo_jobs.noop)
    queues.queue("mailers").enqueue_in(timedelta(minutes=5), demo_jobs.noop)
    leftover = workers.start_worker(["urgent"], with_scheduler=False)
    line = scaling.prepare(["default", "mailers"])
    assert line == "Emptied the queues default, mailers; no other worker is listening to them: True"
    assert default.count == 0 and queues.queue("mailers").scheduled_job_registry.count == 0
    assert not leftover.alive() and workers.running_workers() == []


def test_prepare_warns_about_a_worker_it_did_not_start(services):
    from support.services import processes

    # a worker started outside the course's records, as from a terminal or another notebook
    outsider = processes.spawn("outsider", processes.python_argv("support", "worker", "default", "--no-scheduler"))
    try:
        assert processes.wait_until(lambda: queue_takers.live_workers(["default"]), 15, 0.05)
        line = scaling.prepare(["default"])
        assert "no other worker is listening to them: False" in line
        assert "1 worker(s) that this notebook did not start" in line
    finally:
        outsider.terminate()
        outsider.wait(10)


@pytest.mark.slow
def test_a_killed_workers_stale_registration_and_scheduler_lock_are_ignored(services):
    conn = queues.connection()
    worker = workers.start_worker(["mailers"], with_scheduler=True)
    assert processes_wait(lambda: queue_takers.scheduler_lock_holders(["mailers"]))
    import psutil

    main = psutil.Process(worker.pid)
    family = [main, *main.children(recursive=True)]
    for proc in family:  # kill -9: no warm shutdown, no lock released, registration left behind
        proc.kill()
    psutil.wait_procs(family, timeout=5)
    assert conn.get(RQScheduler.get_locking_key("mailers")) is not None  # the lock outlives its owner
    assert queue_takers.live_workers(["mailers"]) == []
    assert queue_takers.scheduler_lock_holders(["mailers"]) == {}  # a query: the stale lock is left out, not deleted
    assert conn.get(RQScheduler.get_locking_key("mailers")) is not None
    assert queue_takers.delete_stale_scheduler_locks(["mailers", "default"]) == ["mailers"]
    assert conn.get(RQScheduler.get_locking_key("mailers")) is None  # deleted, so a new scheduler can start
    workers.stop_all_workers()


def processes_wait(check, timeout=15.0):
    from support.services import processes

    return processes.wait_until(check, timeout, 0.05)


@pytest.mark.slow
def test_scheduled_job_waits_without_scheduler_and_runs_with_one(services):
    scaling.prepare(["mailers"])
    mailers = queues.queue("mailers")
    job = mailers.enqueue_in(timedelta(seconds=1), send_gif_email, "ada@example.com", "Drink some water", 0)
    due = scaling.scheduled_time(job)
    assert due is not None and due.microsecond == 0  # RQ keeps due times in whole seconds
    while datetime.now(timezone.utc) < due:
        time.sleep(0.05)
    burst = workers.start_worker(["mailers"], burst=True, with_scheduler=False)
    assert scaling.wait_until_stopped(burst)
    assert job.get_status() == "scheduled"  # the trap: nobody moved it onto the queue
    keeper = workers.start_worker(["mailers"], with_scheduler=True)
    try:
        assert job_watch.wait_for_jobs([job], timeout=30) == {"finished": 1}
    finally:
        workers.stop_worker(keeper)
    assert scaling.scheduled_time(job) is None
    assert inbox.mail_for(job).to == ["ada@example.com"]


def test_wait_for_jobs_times_out_with_advice(services):
    scaling.prepare(["default"])
    job = queues.queue("default").enqueue(demo_jobs.noop)
    with pytest.raises(TimeoutError, match="is a worker listening"):
        job_watch.wait_for_jobs([job], timeout=0.2)


@pytest.mark.slow
def test_run_batch_shares_the_jobs_between_workers(services):
    scaling.prepare(["default"])
    batch = scaling.run_batch(2, jobs=4)
    assert batch.all_finished and batch.every_worker_helped and sum(batch.shares) == 4
    assert 2.0 <= batch.wall < 6.0  # two rounds of one second, plus overhead on a busy machine
    assert workers.running_workers() == []


def test_per_job_cost_of_both_worker_classes(services):
    scaling.prepare(["default"])
    fork = scaling.per_job_cost(simple=False, jobs=20)
    simple = scaling.per_job_cost(simple=True, jobs=20)
    assert (fork.worker_class, simple.worker_class) == ("Worker", "SimpleWorker")
    assert fork.jobs == simple.jobs == 20 and fork.seconds > 0 and simple.seconds > 0
    assert fork.ms_per_job == pytest.approx(1000 / fork.jobs_per_second)
    assert 0 < simple.cpu_seconds < fork.cpu_seconds  # a fork per job costs CPU that running in place does not
    assert fork.cpu_ms_per_job == pytest.approx(1000 * fork.cpu_seconds / 20)
    assert queues.queue("default").count == 0 and workers.running_workers() == []


def test_simple_worker_keeps_old_code_forking_worker_does_not(services):
    scaling.prepare(["default"])
    module = scaling.code_folder() / "edited_job.py"
    seen = {}
    for simple in (True, False):
        module.write_text('def version():\n    return "first"\n')
        worker = workers.start_worker(["default"], simple=simple, with_scheduler=False, path=module.parent)
        try:
            assert scaling.run_one("edited_job.version") == "first"
            module.write_text('def version():\n    return "second, edited"\n')
            seen[simple] = scaling.run_one("edited_job.version")
        finally:
            workers.stop_worker(worker)
    assert seen == {True: "first", False: "second, edited"}


def test_run_one_reports_a_failed_job(services):
    scaling.prepare(["default"])
    worker = workers.start_worker(["default"], simple=True, with_scheduler=False)
    try:
        assert scaling.run_one("no_such_module.func").startswith("(the job failed: ")
    finally:
        workers.stop_worker(worker)


def test_plot_and_helpers():
    import matplotlib

    matplotlib.use("Agg")
    batches = [
        scaling.Batch(n, 20, 20 / n + 0.2, {f"w{i}": 20 // n for i in range(n)}, ["finished"] * 20) for n in (1, 2, 4)
    ]
    fig = scaling.plot_batches(batches, predicted=[20, 10, 5])
    assert len(fig.axes[0].patches) == 3
    assert (
        scaling.seconds_between(datetime(2026, 1, 1, 0, 0, 0), datetime(2026, 1, 1, 0, 0, 2, tzinfo=timezone.utc)) == 2
    )
