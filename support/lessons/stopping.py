"""Stopping a worker for ``10_operations``: a real worker, a job held in its
slow step (``support.ops_jobs.hold``), and the signals a deploy sends, timed.

RQ 3 (``rq/worker/base.py``): the first SIGTERM or SIGINT is a *warm* shutdown request: a busy worker finishes the
job in flight, then exits; an idle one exits at once (a busy one writes the moment it took the request into its hash
in Redis, ``shutdown_requested_date``). A second signal, more than 1 s after that moment (RQ ignores a repeat within
a second), is a *cold* shutdown: the worker kills its work horse with SIGKILL and exits. The job stays
STARTED in its queue's ``StartedJobRegistry`` until its deadline there passes; then RQ's clean-up calls it abandoned
(``support.rq_helpers.recovery`` explains the deadline).

What a process manager signals decides which of these happens (``stop_like_systemd``): systemd's default
``KillMode=control-group`` sends SIGTERM to every process of the unit at once, the work horse included, and RQ's
horse takes SIGTERM's default action (``setup_work_horse_signals``: it dies), so the job fails at once;
``KillMode=mixed`` sends SIGTERM to the main process only: the warm shutdown above (systemd.kill(5)).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import psutil
from rq import Queue, Worker
from rq.job import Job

from .. import ops_jobs
from ..rq_helpers import holds, queues, recovery, workers
from ..services import processes
from ..services.processes import Service

REPEAT_IGNORED = 1.0  # seconds: RQ ignores a second signal that comes sooner than this after the first


def start_worker() -> Service:
    """A forking worker on ``default`` without the scheduler (so it has one child only: the work horse)."""
    return workers.start_worker(["default"], with_scheduler=False)


def enqueue_hold(queue: Queue | None = None) -> Job:
    """Queue a job that holds in its slow step until ``let_job_finish(job)``; its own marker names its Redis keys."""
    marker = f"hold-{uuid.uuid4().hex[:8]}"
    return (queue or queues.queue("default")).enqueue(ops_jobs.hold, marker, job_timeout=120, result_ttl=600)


def _marker(job: Job) -> str:
    return str(job.args[0])


def wait_in_slow_step(job: Job, timeout: float = 30.0) -> bool:
    """Wait until `job` says (through Redis) that it is inside its slow step; True when it did."""
    return holds.wait_until_reached(job.connection, _marker(job), timeout)


def in_slow_step(job: Job, service: Service) -> bool:
    """The precondition of every signal below: the job has reached its slow step and is still STARTED (it waits for
    its go), and `service` is the worker running it, alive."""
    reached = holds.reached(job.connection, _marker(job))
    job.refresh()  # its status and the name of the worker running it, as Redis has them now
    return (
        reached
        and job.get_status(refresh=False).value == "started"
        and job.worker_name == service.rq_name
        and service.alive()
    )


def let_job_finish(job: Job) -> None:
    """Let `job` leave its slow step (it then works half a second more and finishes): what the notebook calls."""
    holds.go(job.connection, _marker(job))


def release(job: Job) -> None:
    """The same as ``let_job_finish``, by the name the hold tests use (``tests/test_holds.py``)."""
    let_job_finish(job)


def send(service: Service, sig: signal.Signals = signal.SIGTERM) -> float:
    """Send `sig` to the worker process (not to its work horse); returns the monotonic time it was sent."""
    os.kill(service.pid, sig)
    return time.monotonic()


def warm_request_taken_at(service: Service) -> datetime | None:
    """When the busy worker took its first SIGTERM or SIGINT, as RQ wrote it into the worker's hash in Redis
    (``worker.shutdown_requested_date``, UTC); None while it has not."""
    worker = workers.record(service.rq_name, queues.connection())
    return None if worker is None else worker.shutdown_requested_date


def warm_request_taken(service: Service, timeout: float = 30.0) -> bool:
    """Wait until the worker has taken the warm shutdown request (its signal handler has run: a signal is only
    *sent* when ``send`` returns); True when it has."""
    return processes.wait_until(lambda: warm_request_taken_at(service) is not None, timeout, 0.02)


def wait_past_repeat_window(service: Service, margin: float = 0.25) -> float:
    """Sleep until more than ``REPEAT_IGNORED`` s (plus `margin`) have passed since the worker *took* its first
    signal, so that RQ will not ignore a second; returns the seconds slept."""
    taken = warm_request_taken_at(service)
    if taken is None:
        raise RuntimeError("The worker has not taken a first signal yet: call warm_request_taken first")
    left = (taken + timedelta(seconds=REPEAT_IGNORED + margin) - datetime.now(timezone.utc)).total_seconds()
    if left > 0:
        time.sleep(left)
    return max(left, 0.0)


def wait_for_exit(service: Service, timeout: float = 60.0) -> float | None:
    """Wait until the worker process has exited; the monotonic time it was seen gone (None: still running)."""
    if processes.wait_until(lambda: not service.alive(), timeout, 0.01):
        return time.monotonic()
    return None


def forget(service: Service) -> None:
    """Remove an exited worker from the course's state file (stops it first if it still runs)."""
    workers.stop_worker(service)


def registered(service: Service) -> bool:
    """Is the worker still listed in Redis (``Worker.all``)? A worker that shut down, warm or cold, unregisters."""
    return any(w.name == service.rq_name for w in Worker.all(connection=queues.connection()))


def abandon_now(job: Job) -> Job:
    """What RQ's clean-up does once the job's deadline in the StartedJobRegistry has passed, done now, to this job
    only (``recovery.abandon``): every other job of the registry stays as it is. Returns the job, refreshed."""
    if not recovery.abandon(job):
        raise RuntimeError("The job is not in the StartedJobRegistry")
    job.refresh()
    return job


KILL_MODES = ("control-group", "mixed")  # the two systemd.kill(5) modes the notebook compares


@dataclass
class SystemdStop:
    """What happened when a worker busy with a held job was stopped as systemd's `kill_mode` stops a unit."""

    kill_mode: str
    horse_signalled: bool  # did SIGTERM go to the work horse too?
    worker_alive_after_1s: bool  # was the worker still running 1 s after the signal?
    horse_alive_after_1s: bool  # was its work horse?
    worker_exited: bool
    seconds: float  # from the SIGTERM to the worker's exit
    status: str  # the job's status after the worker exited
    error: str  # the last line of the job's failure ("" when it finished)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_like_systemd(kill_mode: str) -> SystemdStop:
    """Start a worker, give it a job held in its slow step, and send SIGTERM as systemd's `kill_mode` does on
    ``systemctl stop``: "control-group" to the worker *and* its work horse (every process of the unit), "mixed" to
    the worker (the unit's main process) only. After 1 s (or once the worker has exited) the job is let go (it then
    works 0.5 s more). Returns what became of the job and the worker; the worker is stopped in any case."""
    if kill_mode not in KILL_MODES:
        raise ValueError(f"kill_mode is one of {KILL_MODES}, not {kill_mode!r}")
    service = start_worker()
    job = enqueue_hold()
    try:
        if not (wait_in_slow_step(job) and in_slow_step(job, service)):
            raise RuntimeError("The job did not reach its slow step on the new worker")
        horse = recovery.work_horse(service)
        if horse is None:
            raise RuntimeError("The worker has no work horse")
        sent = send(service, signal.SIGTERM)  # the unit's main process: both modes
        if kill_mode == "control-group":
            horse.send_signal(signal.SIGTERM)  # every other process of the unit too (psutil: never a reused PID)
        gone = wait_for_exit(service, timeout=1.0)
        worker_alive = gone is None
        horse_alive = _alive(horse)
        release(job)
        if gone is None:
            gone = wait_for_exit(service, timeout=30.0)
        status = job.get_status(refresh=True).value
        return SystemdStop(
            kill_mode=kill_mode,
            horse_signalled=kill_mode == "control-group",
            worker_alive_after_1s=worker_alive,
            horse_alive_after_1s=horse_alive,
            worker_exited=gone is not None,
            seconds=(gone or time.monotonic()) - sent,
            status=status,
            error="" if status == "finished" else recovery.error_line(job),
        )
    finally:
        release(job)
        forget(service)
