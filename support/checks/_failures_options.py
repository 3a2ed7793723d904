"""Exercise 2 of ``05_when_things_fail`` (``support.checks.failures.ex_options``): the enqueue options of the welcome
email, judged requirement by requirement from what RQ stores in Redis, then run for real: the mail catcher stopped
and brought back, a job that hangs, and the TTLs Redis then gives the finished and the failed job."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from rq import Queue, Retry
from rq.job import Job

from .. import failure_jobs
from ..exercises import Exercise, Incorrect, describe
from ..rq_helpers import job_watch, queues, recovery
from ..services import inbox, mailcatcher, redis_server, state
from ..services.processes import wait_until
from ._check_trouble import CheckCouldNot

OUTAGE = 2  # seconds the mail server is down in Exercise 1
EARLY = 1  # RQ keeps a retry's due time to the whole second: a retry can start up to this much early
LATE = 10  # seconds after the outage by which the email should be out
HUNG_AFTER = 5  # a send that hangs must be stopped within this many seconds
NORMAL_SEND = 1  # a normal send takes up to this long; the timeout must leave room for it: twice as much
RESULT_TTL_MAX = 60  # a finished email's job: kept at most a minute
DAY = 24 * 60 * 60
FAILURE_TTL_MIN, FAILURE_TTL_MAX = 7 * DAY, 30 * DAY  # a failed email: kept a week, at most a month
MAIL_QUEUE, HANG_QUEUE = "options-check-mail", "options-check-hang"  # the real run's queues, its own
OPTIONS = ("retry", "job_timeout", "result_ttl", "failure_ttl")
REFERENCE_OPTIONS = {
    "retry": Retry(max=3, interval=[1, 2, 4]),
    "job_timeout": 3,
    "result_ttl": 60,
    "failure_ttl": 7 * DAY,
}


# --- Exercise 2: the options of the welcome email ---------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What RQ keeps of a job's options in Redis."""

    timeout: int | None
    result_ttl: int | None
    failure_ttl: int | None
    retries_left: int
    retry_intervals: list[int]


def stored_options(options: dict[str, Any]) -> Stored:
    """Store a job with `options` in Redis, as ``enqueue(..., **options)`` would, and read back what RQ keeps. The
    job is never queued and is deleted again."""
    conn = queues.connection()
    given = dict(options)
    if "job_timeout" in given:  # enqueue's job_timeout is create_job's timeout
        given["timeout"] = given.pop("job_timeout")
    job = queues.queue("mailers", conn).create_job(
        "support.jobs.send_gif_email", args=("probe@example.com", "options check"), **given
    )
    job.save()
    try:
        back = Job.fetch(job.id, connection=conn)
        timeout = int(back.timeout) if back.timeout is not None else None
        return Stored(
            timeout, back.result_ttl, back.failure_ttl, back.retries_left or 0, list(back.retry_intervals or [])
        )
    finally:
        job.delete()


def _seconds(value: int | None) -> str:
    if value is None:
        return "RQ's default"
    if value >= DAY and value % DAY == 0:
        return f"{value // DAY} day{'s' if value > DAY else ''}"
    return f"{value} s"


def _judge_options(options: Any) -> Stored:
    """Each stated requirement, read from what RQ stored; Incorrect naming the first one broken."""
    if not isinstance(options, dict):
        raise Incorrect(f"options is {describe(options)}: make it a dict, {{'retry': Retry(...), 'job_timeout': ...}}.")
    unknown = sorted(set(map(str, options)) - set(OPTIONS))
    if unknown:
        raise Incorrect(f"options has {', '.join(map(repr, unknown))}: give only {', '.join(OPTIONS)}.")
    if not isinstance(options.get("retry"), Retry):
        raise Incorrect(
            f"options['retry'] is {describe(options.get('retry'))}: without an rq Retry a failed send is never tried "
            "again. Make one: Retry(max=..., interval=[...])."
        )
    try:
        stored = stored_options(options)
    except Exception as exc:  # noqa: BLE001 -- RQ refusing a value is the learner's to fix
        raise Incorrect(f"RQ refused these options: {type(exc).__name__}: {exc}") from None
    times = recovery.retry_times((stored.retries_left, stored.retry_intervals))
    shown = ", ".join(f"{t} s" for t in times)
    if times[-1] < OUTAGE + EARLY:
        raise Incorrect(
            f"Your retry tries again {shown} after the first failure. The mail server is back {OUTAGE} s after it, "
            f"and RQ may start a retry up to {EARLY} s early (it keeps due times to the whole second): the last "
            f"try must be due {OUTAGE + EARLY} s or more after the first failure, or the email ends up failed."
        )
    first_after = min(t for t in times if t >= OUTAGE + EARLY)
    if first_after > OUTAGE + LATE:
        raise Incorrect(
            f"Your retry tries again {shown} after the first failure: the first try safely after the outage is due "
            f"at {first_after} s, so the reader waits {first_after - OUTAGE} s longer than needed. Keep the first "
            f"pauses short and let them grow."
        )
    timeout = stored.timeout
    if timeout is None or timeout > HUNG_AFTER or timeout < 0:
        said = "none, so RQ's default of 180 s" if timeout is None else f"{timeout} s"
        said = "-1, no timeout at all" if timeout is not None and timeout < 0 else said
        raise Incorrect(
            f"The job's timeout is {said}: a send that hangs would hold the worker that long. Give job_timeout "
            f"{HUNG_AFTER} s or less."
        )
    if timeout < 2 * NORMAL_SEND:
        raise Incorrect(
            f"job_timeout={timeout} s: a normal send takes up to {NORMAL_SEND} s, and RQ would stop a slow but "
            f"working one. Leave room: at least {2 * NORMAL_SEND} s."
        )
    if stored.result_ttl is None or stored.result_ttl < 0 or stored.result_ttl > RESULT_TTL_MAX:
        said = {None: "RQ's default, 500 s", -1: "-1, for ever"}.get(stored.result_ttl, f"{stored.result_ttl} s")
        raise Incorrect(
            f"A finished email stays in Redis for {said}; nobody reads its result. Keep it {RESULT_TTL_MAX} s at "
            "most (result_ttl)."
        )
    failure_ttl = stored.failure_ttl
    if failure_ttl is None or failure_ttl < FAILURE_TTL_MIN or failure_ttl > FAILURE_TTL_MAX:
        said = "RQ's default, a year" if failure_ttl is None else _seconds(failure_ttl)
        said = "-1, for ever" if failure_ttl == -1 else said
        wanted = "a week, so that someone can read the error and requeue it" if (failure_ttl or 0) >= 0 else ""
        too_long = failure_ttl is None or failure_ttl > FAILURE_TTL_MAX
        raise Incorrect(
            f"A failed email stays in the failed registry for {said}: "
            + (
                "Redis is not an archive. Keep it at most 30 days (failure_ttl)."
                if too_long and failure_ttl != -1
                else "keep it for ever and the registry only grows. Keep it a week (failure_ttl)."
                if failure_ttl == -1
                else f"too short. Keep it at least {wanted} (failure_ttl)."
            )
        )
    return stored


def _check_options(options: Any) -> str:
    stored = _judge_options(options)
    run = outage_run(options)
    kept = "not at all" if stored.result_ttl == 0 else f"{_seconds(stored.result_ttl)} at most"
    return (
        f"Run for real: with the mail server down and back within {OUTAGE} s of the first failure, the email went "
        f"out once; the job that hung was stopped by your {stored.timeout} s timeout ({run.hung_error}); Redis "
        f"keeps the finished job {kept} and the failed one {_seconds(stored.failure_ttl)}."
    )


ex_options = Exercise(
    "Exercise 2",
    _check_options,
    title="Options that fit the welcome email",
    hints=[
        "Retry(max=N, interval=[a, b, c]) allows N more tries, with a pause of a, then b, then c seconds. Add up the "
        f"pauses: the last try should be due {OUTAGE + EARLY} s or more after the first failure.",
        f"job_timeout between {2 * NORMAL_SEND} and {HUNG_AFTER} s; result_ttl at most {RESULT_TTL_MAX}; failure_ttl "
        "in seconds: 7 * 24 * 60 * 60 is a week.",
    ],
    solution="""\
options = {
    "retry": Retry(max=3, interval=[1, 2, 4]),
    "job_timeout": 3,
    "result_ttl": 60,
    "failure_ttl": 7 * 24 * 60 * 60,
}""",
    reference=REFERENCE_OPTIONS,
)


@dataclass(frozen=True)
class OutageRun:
    """What the real run saw: how many tries the send made, and the error the hung job failed with."""

    tries: int
    hung_error: str


def _rq_worker(queue_name: str, with_scheduler: bool) -> subprocess.Popen:
    """RQ's own worker (``rq worker``, a SimpleWorker) on a queue of the check's own, the Redis URL in its environment
    (never on its command line)."""
    env = {**os.environ, "RQ_REDIS_URL": redis_server.client_url(redis_server.start())}
    argv = [sys.executable, "-m", "rq.cli", "worker", "-w", "rq.worker.SimpleWorker", queue_name]
    argv += ["--with-scheduler"] if with_scheduler else []
    return subprocess.Popen(argv, cwd=state.REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stopped(worker: subprocess.Popen) -> None:
    worker.terminate()  # SIGTERM: RQ's warm shutdown
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def outage_run(options: dict[str, Any]) -> OutageRun:
    """Run the welcome email with `options` for real, and a job that hangs with the same timeout and TTLs.

    Two queues of its own (``MAIL_QUEUE``, ``HANG_QUEUE``: no worker of the learner's takes their jobs, and the
    check's workers take none of the learner's), each with RQ's own SimpleWorker (the mail queue's with the
    scheduler); the mail catcher stopped, the email enqueued (``failure_jobs.tracked_send``, which notes its tries),
    the catcher started again within ``OUTAGE`` s of the first failure; ``failure_jobs.slow_job(30)`` on the other
    queue. Incorrect when the email is not out once, the hung job is not stopped by its timeout, or Redis keeps either
    job longer (or shorter) than the options say. Everything it started is stopped, its queues emptied, and the
    catcher left running, however it ends."""
    conn = queues.connection()
    email = f"welcome-{uuid.uuid4().hex[:10]}@example.com"
    stored = stored_options(options)
    times = recovery.retry_times((stored.retries_left, stored.retry_intervals))
    mail_queue, hang_queue = Queue(MAIL_QUEUE, connection=conn), Queue(HANG_QUEUE, connection=conn)
    for q in (mail_queue, hang_queue):
        queues.empty(q)
    started = [_rq_worker(MAIL_QUEUE, with_scheduler=True), _rq_worker(HANG_QUEUE, with_scheduler=False)]
    try:
        mailcatcher.stop()
        without_retry = {key: value for key, value in options.items() if key != "retry"}
        hang = hang_queue.enqueue(failure_jobs.slow_job, 30, **without_retry)
        send = mail_queue.enqueue(failure_jobs.tracked_send, email, "Welcome!", **options)
        first = failure_jobs.wait_for_attempts(send, 1, timeout=30)[0]  # a worker starting on a busy machine
        # Back within OUTAGE s of the first failure, whatever the machine: a try due at OUTAGE + EARLY can start at
        # OUTAGE, and the catcher's own start (a process, its imports, its first greeting) takes time.
        back_at = first.ended + OUTAGE - 1.0
        wait_until(lambda: time.time() >= back_at, OUTAGE + 1, 0.02)
        mailcatcher.start()
        late = time.time() - (first.ended + OUTAGE)
        if not wait_until(lambda: bool(inbox.to_address(email)), max(times) + 5, 0.1):
            if late > 0:
                raise CheckCouldNot(
                    "end its mail outage in time",
                    f"the mail catcher took until {late:.1f} s after the outage's end to start again, so a try "
                    "due then found it still down",
                    "run the check again; on a busy machine, close what else is running first",
                )
            raise Incorrect(
                f"Run for real, the email did not go out within {max(times) + 5} s of the first failure: "
                f"{len(failure_jobs.attempts(send))} tries, the last one {recovery.error_line(send)}."
            )
        wait_until(lambda: job_watch.status(send) in ("finished", "deleted"), 15, 0.02)  # ends at once, normally
        sent = len(inbox.to_address(email))
        if sent != 1:
            raise Incorrect(f"Run for real, the email went out {sent} times: once is what the reader wants.")
        _check_kept(conn.ttl(send.key), stored.result_ttl, "finished", "result_ttl")
        job_watch.wait_for_status(hang, "failed", timeout=(stored.timeout or 0) + 10)
        hung_error = recovery.error_line(hang)
        if "JobTimeoutException" not in hung_error:
            raise Incorrect(f"The job that hung failed, but not by its timeout: {hung_error}")
        _check_kept(conn.ttl(hang.key), stored.failure_ttl, "failed", "failure_ttl")
        return OutageRun(len(failure_jobs.attempts(send)), hung_error.split(":", 1)[0].rsplit(".", 1)[-1])
    finally:
        for worker in started:
            _stopped(worker)
        if mailcatcher.status() is None:
            mailcatcher.start()
        for q in (mail_queue, hang_queue):
            queues.empty(q)
            q.delete(delete_jobs=True)


def _check_kept(ttl: int, wanted: int | None, what: str, option: str) -> None:
    """Redis's TTL of a job's hash (-2: gone) against the option that set it."""
    if wanted == 0 and ttl == -2:
        return
    if wanted is not None and 0 < ttl <= wanted and ttl >= wanted - 60:
        return
    raise Incorrect(f"Run for real, Redis keeps the {what} job {ttl} s, not the {wanted} s of {option}.")
