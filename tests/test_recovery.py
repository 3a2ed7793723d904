"""support.rq_helpers.recovery: retry schedules by RQ's rule, and workers really killed with SIGKILL mid-job."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest
from rq import Retry, Worker
from rq.job import Job

from support.rq_helpers import job_watch, queues, recovery, workers
from support.services import inbox, mailcatcher, processes

# --- retries ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "pauses", "times"),
    [
        (Retry(max=3, interval=[1, 2, 4]), [1, 2, 4], [1, 3, 7]),
        (Retry(max=2, interval=1), [1, 1], [1, 2]),
        (Retry(max=3), [0, 0, 0], [0, 0, 0]),
        (Retry(max=5, interval=[1, 2]), [1, 1, 1, 1, 2], [1, 2, 3, 4, 6]),  # more retries than intervals
    ],
)
def test_retry_schedule_follows_rq(retry: Retry, pauses: list[int], times: list[int]) -> None:
    assert recovery.retry_intervals(retry) == pauses
    assert recovery.retry_times(retry) == times
    assert recovery.retry_times((retry.max, list(retry.intervals))) == times


def test_retry_schedule_of_a_stored_job_matches_what_rq_does(shared_course: Path) -> None:
    job = queues.queue("default").enqueue("time.sleep", 0, retry=Retry(max=3, interval=[1, 2, 4]))
    stored = Job.fetch(job.id, connection=queues.connection())
    assert recovery.retry_intervals(stored) == [1, 2, 4]
    seen = []
    while stored.retries_left:
        seen.append(stored.get_retry_interval())  # what RQ itself picks before each retry
        stored.retries_left -= 1
    assert seen == [1, 2, 4]


def test_error_line_drops_the_time_of_an_abandoned_job(shared_course: Path) -> None:
    assert (
        recovery._AT_TIME.sub(
            "", "Moved to FailedJobRegistry, due to AbandonedJobError, at 2026-11-28 16:44:38.551538+00:00"
        )
        == "Moved to FailedJobRegistry, due to AbandonedJobError"
    )
    job = queues.queue("default").enqueue("math.sqrt", -1)
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert processes.wait_until(lambda: not service.alive(), 15, 0.05)
    assert recovery.error_line(job) == "ValueError: math domain error"


# --- workers killed mid-job -------------------------------------------------------------------------------------


def _started_on(service: processes.Service, delay: float = 2.0) -> Job:
    job = queues.queue("mailers").enqueue("support.jobs.send_gif_email", "k@example.com", "rain", delay)
    job_watch.wait_for_status(job, "started", timeout=60)  # a ceiling, not a figure: 15 s was too short under a CPU hog
    return job


def test_a_killed_work_horse_fails_its_job_at_once(shared_course: Path) -> None:
    service = workers.start_worker(with_scheduler=False)
    job = _started_on(service)
    horse = recovery.work_horse(service)
    assert horse is not None and horse.pid != service.pid and horse.ppid() == service.pid
    os.kill(horse.pid, signal.SIGKILL)
    assert job_watch.wait_for_status(job, "failed", timeout=5) == "failed"
    assert recovery.error_line(job).startswith("Work-horse terminated unexpectedly")
    assert service.alive()
    assert recovery.recover_abandoned() == []  # the worker handled it: nothing abandoned


@pytest.mark.slow
def test_the_work_horse_is_the_newest_child_with_the_scheduler_too(shared_course: Path) -> None:
    service = workers.start_worker(with_scheduler=True)
    assert processes.wait_until(lambda: len(psutil.Process(service.pid).children()) >= 1, 10)
    scheduler = recovery.work_horse(service)  # idle: the only child is the scheduler
    _started_on(service)
    horse = recovery.work_horse(service)
    assert horse is not None and scheduler is not None and horse.pid != scheduler.pid


@pytest.mark.slow
def test_a_killed_worker_leaves_an_abandoned_job_that_recover_hands_back(shared_course: Path) -> None:
    mailcatcher.start()
    victim = workers.start_worker(with_scheduler=False)
    job = _started_on(victim)
    horse = recovery.work_horse(victim)
    os.kill(victim.pid, signal.SIGKILL)
    os.kill(horse.pid, signal.SIGKILL)
    assert processes.wait_until(lambda: not victim.alive(), 5)

    assert job_watch.status(job) == "started"  # nobody is left to say otherwise
    assert [w.name for w in recovery.dead_workers()] == [victim.rq_name]
    left = recovery.seconds_left(job)
    assert left is not None and 60 < left <= 91  # RQ's deadline: about 90 s away

    survivor = workers.start_worker(with_scheduler=False)  # a live worker with a job of its own: left alone
    busy = _started_on(survivor, delay=1.0)
    recovered = recovery.recover_abandoned()
    assert [j.id for j in recovered] == [job.id], (
        f"recovered {[(j.id[:8], j.worker_name) for j in recovered]}; the killed job {job.id[:8]}, the live one "
        f"{busy.id[:8]} on {survivor.rq_name}; "
        f"registered: {[w.name for w in Worker.all(connection=queues.connection())]}"
    )
    assert job_watch.status(job) == "failed"
    assert recovery.error_line(job) == "Moved to FailedJobRegistry, due to AbandonedJobError"
    assert job_watch.status(busy) == "started"
    assert victim.rq_name not in {w.name for w in Worker.all(connection=queues.connection())}
    assert recovery.seconds_left(job) is None

    queues.queue("mailers").failed_job_registry.requeue(job.id)
    assert job_watch.wait_for_jobs([job, busy], timeout=15) == {"finished": 2}
    assert len(inbox.to_address("k@example.com")) == 2  # one each, none lost


def test_recover_retries_an_abandoned_job_that_has_retries_left(shared_course: Path) -> None:
    victim = workers.start_worker(with_scheduler=False)
    job = queues.queue("mailers").enqueue(
        "support.jobs.send_gif_email", "r@example.com", "rain", 2.0, retry=Retry(max=1)
    )
    job_watch.wait_for_status(job, "started")
    horse = recovery.work_horse(victim)
    os.kill(victim.pid, signal.SIGKILL)
    os.kill(horse.pid, signal.SIGKILL)
    assert processes.wait_until(lambda: not victim.alive(), 5)
    recovery.recover_abandoned()
    assert job_watch.status(job) == "queued"
    assert job.id in queues.queue("mailers").job_ids


@pytest.mark.slow
def test_nothing_to_recover_when_nothing_died(shared_course: Path) -> None:
    service = workers.start_worker(with_scheduler=False)
    job = _started_on(service, delay=0.5)
    assert recovery.dead_workers() == []
    assert recovery.recover_abandoned() == []
    assert job_watch.wait_for_status(job, ("finished", "failed")) in ("finished", "failed")  # ran to its end


@pytest.mark.slow
def test_a_live_worker_whose_registration_lapsed_keeps_its_job(shared_course: Path) -> None:
    # A worker's key in Redis expires when it misses heartbeats (a laptop lid closed, a process stopped with
    # SIGSTOP) while the worker itself lives on. Its job is not abandoned: only a dead worker's executions are.
    mailcatcher.start()
    service = workers.start_worker(with_scheduler=False)
    job = _started_on(service, delay=1.5)
    conn = queues.connection()
    registered = workers.record(service.rq_name, conn)
    assert registered is not None
    conn.delete(registered.key)  # as if its key had expired
    assert service.rq_name not in {w.name for w in Worker.all(connection=conn)}
    assert recovery.recover_abandoned() == []
    assert job_watch.status(job) == "started"
    assert job_watch.wait_for_status(job, ("finished", "failed"), timeout=15) == "finished"
    assert len(inbox.to_address("k@example.com")) == 1


def test_waiting_for_a_worker_to_register_never_takes_it_off_rq_s_list_of_workers(shared_course: Path) -> None:
    # start_worker polls record() while the worker registers. RQ's own lookup removes a name it finds no key for
    # from rq:workers, and a registration that lands between its check and its removal was lost for good: the
    # worker never showed in Worker.all(), so recover_abandoned() left its job "started" (seen under a CPU hog).
    # Here the registration has reached the set but not the key, the state that race leaves for a moment.
    conn = queues.connection()
    key = Worker.redis_worker_namespace_prefix + "course-registering"
    conn.sadd(Worker.redis_workers_keys, key)
    assert workers.record("course-registering", conn) is None
    assert conn.sismember(Worker.redis_workers_keys, key)  # still listed: the worker's key is on its way
    service = workers.start_worker(with_scheduler=False)
    assert service.rq_name in {w.name for w in Worker.all(connection=conn)}


def test_a_worker_is_ready_only_once_rq_has_its_signal_handlers(shared_course: Path) -> None:
    # RQ registers a worker ("started") before it installs its SIGTERM/SIGINT handlers; start_worker waits for the
    # state RQ sets after them, so that a worker stopped right away still stops warmly and unregisters.
    conn = queues.connection()
    key = Worker.redis_worker_namespace_prefix + "course-starting"
    assert not workers.is_ready("course-starting", conn)  # not registered
    conn.hset(key, "state", "started")
    assert not workers.is_ready("course-starting", conn)
    for state in ("idle", "busy", "suspended"):
        conn.hset(key, "state", state)
        assert workers.is_ready("course-starting", conn)
    conn.delete(key)
    service = workers.start_worker(with_scheduler=False)
    assert workers.is_ready(service.rq_name, conn)
    os.kill(service.pid, signal.SIGTERM)  # at once: a warm shutdown, which unregisters the worker
    assert processes.wait_until(lambda: not service.alive(), 15)
    assert service.rq_name not in {w.name for w in Worker.all(connection=conn)}
