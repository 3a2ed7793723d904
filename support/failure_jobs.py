"""Jobs that go wrong on purpose, for ``05_when_things_fail``. A worker imports them by path, like every job.

- ``tracked_send`` sends the Work-It email like ``support.jobs.send_gif_email``, and writes down each attempt (when
  it began and ended, and the error it met) in Redis, so a notebook can draw the timeline of a job's retries. Asked
  to, it holds a failed try (see below) until the notebook has acted, before it reports the failure.
- ``send_when_released`` holds before it sends: a notebook can kill the worker while the job is provably mid-job
  and its email provably not sent yet.
- ``slow_job`` sleeps longer than its timeout allows.
- ``send_then_fail`` sends the email, then fails in a later step on its first attempt(s): retried, it sends twice.
- ``send_once`` sends at most one email per idempotency key (``SET key NX EX``); ``send_once_then_fail`` is
  ``send_then_fail`` built on it: retried, it still sends once.

A *hold* (``support.rq_helpers.holds``, named by the job's id) makes a demonstration that races a job
deterministic: the job says in Redis that it reached a step and waits there until the notebook releases it. The
notebook waits for that (``wait_until_held``), acts (kills the worker, restarts the mail server), and only then lets
go (``release``); so what it did happened at that step, however fast or slow the machine is. A job that nobody
releases gives up after ``HOLD_LIMIT`` seconds with an error that says so.

Every key these jobs write lives in Redis under ``course:`` or ``workit:sent:`` and expires on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from rq import get_current_job
from rq.job import Job
from rq.utils import as_text

from . import jobs
from .rq_helpers import holds, queues
from .services.processes import wait_until

ATTEMPTS_PREFIX = "course:attempts:"  # + job id: one list entry per attempt of a tracked job
STEP_PREFIX = "course:later-step:"  # + key: how often a job's later step has run
SENT_PREFIX = "workit:sent:"  # + key: the idempotency key of one email
SENT_TTL = 24 * 60 * 60  # how long an idempotency key is kept (a day: longer than any retry takes)
NOTES_TTL = 60 * 60  # how long the course keeps its notes about attempts
HOLD_LIMIT = 120.0  # seconds a held job waits for its release before it gives up


def _connection() -> redis.Redis:
    """Redis as the running job sees it (the worker's connection), else the course's Redis."""
    job = get_current_job()
    return job.connection if job is not None else queues.connection()


# --- holding a job at a step until the notebook has acted ---------------------------------------------------------


def hold(job: Job) -> None:
    """Inside a running job: say in Redis that the job reached this step, and wait until ``release(job)``.

    Raises TimeoutError when nobody releases it within ``HOLD_LIMIT`` seconds. A job released once (the key stays
    an hour) is not held again: a requeued or retried run goes straight on.
    """
    if not holds.wait_for_go(job.connection, job.id, HOLD_LIMIT):
        raise TimeoutError(f"held for {HOLD_LIMIT:g} s and nobody released it (failure_jobs.release(job))")


def wait_until_held(job: Job, timeout: float = 30.0) -> None:
    """Wait until `job` has reached its hold (it is running, and waiting for ``release``). TimeoutError after
    `timeout` seconds, naming the job's status then."""
    if not holds.wait_until_reached(job.connection, job.id, timeout):
        raise TimeoutError(
            f"job {job.id[:8]} did not reach its hold in {timeout:g} s (status: "
            f"{job.get_status().value}). Is a worker running?"
        )


def release(job: Job) -> None:
    """Let a held job go on (and every later run of it pass its hold straight away)."""
    holds.go(job.connection, job.id)


def send_when_released(email: str, thought: str, delay: float = 0.0) -> str:
    """Hold (see ``hold``) right before sending, then send the Work-It email. Outside a worker it only sends."""
    job = get_current_job()
    if job is not None:
        hold(job)
    return jobs.send_gif_email(email, thought, delay)


# --- a send that notes its attempts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One run of a job: when it began and ended (Unix seconds) and the error it ended with ("" when it worked)."""

    number: int
    started: float
    ended: float
    error: str

    @property
    def ok(self) -> bool:
        return not self.error


def tracked_send(email: str, thought: str, delay: float = 0.0, hold_failed_try: int = 0) -> str:
    """Send the Work-It email (``support.jobs.send_gif_email``) and note this attempt in Redis.

    Each attempt appends ``started|ended|error`` to the list ``course:attempts:<job id>``; read it back with
    ``attempts(job)``. When try number `hold_failed_try` fails, the job holds (``hold``) before it reports the
    failure: the notebook knows that this try is over and the next one has not begun. Outside a worker (no
    current job) it only sends.
    """
    job = get_current_job()
    started = time.time()
    error = ""
    try:
        return jobs.send_gif_email(email, thought, delay)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if job is not None and hold_failed_try and len(attempts(job)) + 1 == hold_failed_try:
            hold(job)
        raise
    finally:
        if job is not None:
            key = ATTEMPTS_PREFIX + job.id
            with job.connection.pipeline() as pipe:
                pipe.rpush(key, f"{started}|{time.time()}|{error}")
                pipe.expire(key, NOTES_TTL)
                pipe.execute()


def attempts(job: Job | str, connection: redis.Redis | None = None) -> list[Attempt]:
    """The attempts a ``tracked_send`` job has made so far, first one first."""
    job_id = job if isinstance(job, str) else job.id
    conn = connection or (job.connection if isinstance(job, Job) else queues.connection())
    found = []
    for number, raw in enumerate(conn.lrange(ATTEMPTS_PREFIX + job_id, 0, -1), start=1):
        started, ended, error = as_text(raw).split("|", 2)
        found.append(Attempt(number, float(started), float(ended), error))
    return found


def wait_for_attempts(job: Job, count: int, timeout: float = 15.0) -> list[Attempt]:
    """Poll until `job` has made at least `count` attempts; returns them. TimeoutError after `timeout` seconds."""
    found: list[Attempt] = []

    def made() -> bool:
        found[:] = attempts(job)
        return len(found) >= count

    if not wait_until(made, timeout, 0.02):
        raise TimeoutError(
            f"job {job.id[:8]} made {len(found)} attempt(s) in {timeout:g} s, not {count}. "
            "Is a worker with the scheduler running?"
        )
    return found


def pauses(job: Job) -> list[float]:
    """Seconds between the end of each attempt and the start of the next one."""
    found = attempts(job)
    return [later.started - earlier.ended for earlier, later in zip(found, found[1:])]


def timeline(job: Job, events: dict[str, float] | None = None) -> list[str]:
    """The attempts of a ``tracked_send`` job, and any other `events` (label -> Unix time), as lines in time order,
    each at its number of seconds since the job was enqueued (after a stopwatch sign, so notebooks may print it)."""
    start = job.created_at.timestamp() if job.created_at else 0.0
    rows = []
    for a in attempts(job):
        outcome = "worked: the email is out" if a.ok else f"failed ({a.error.split(':', 1)[0]})"
        rows.append((a.started, f"attempt {a.number}", outcome))
    rows += [(when, "", label) for label, when in (events or {}).items()]
    rows.sort(key=lambda row: row[0])
    return [f"{what:<9} at ⏱ {max(0.0, when - start):.1f} s: {outcome}" for when, what, outcome in rows]


# --- a job that runs too long ---------------------------------------------------------------------------------


def slow_job(seconds: float = 3.0) -> str:
    """Sleep `seconds` (a stand-in for a call that hangs), then say so."""
    time.sleep(seconds)
    return f"slept {seconds:g} s"


# --- at-least-once delivery and the idempotency key -----------------------------------------------------------


class LaterStepFailed(RuntimeError):
    """The step after sending failed: the email is out, but the job as a whole did not succeed."""


def _later_step(key: str, fail_times: int) -> int:
    """The step that comes after sending (say, writing "sent" into the app's database); it fails on its first
    `fail_times` runs for this `key`. Returns how many times it has run."""
    conn = _connection()
    runs = conn.incr(STEP_PREFIX + key)
    conn.expire(STEP_PREFIX + key, NOTES_TTL)
    if runs <= fail_times:
        raise LaterStepFailed(f"the email went out, then saving 'sent' in the database failed (run {runs})")
    return int(runs)


def send_then_fail(email: str, thought: str, key: str, fail_times: int = 1, delay: float = 0.0) -> str:
    """Send the email, then run a later step that fails on its first `fail_times` runs for `key`.

    With a Retry, every attempt sends again: the inbox gets one copy per attempt.
    """
    message_id = jobs.send_gif_email(email, thought, delay)
    _later_step(key, fail_times)
    return message_id


def sent_key(key: str) -> str:
    """The Redis key that says the email for `key` was sent (or is being sent)."""
    return SENT_PREFIX + key


def send_once(
    email: str, thought: str, key: str, delay: float = 0.0, connection: redis.Redis | None = None
) -> str | None:
    """Send the email for `key` unless it was sent already; returns its Message-ID, or None when skipped.

    ``SET workit:sent:<key> NX EX 86400`` claims the key in one atomic step: of two attempts (a retry, a second
    worker, a double-click), only the first gets True and sends. If sending fails, the key is deleted again so a
    retry can send; the expiry bounds how long a claim can outlive a worker that died in between.
    """
    conn = connection or _connection()
    if not conn.set(sent_key(key), "sent", nx=True, ex=SENT_TTL):
        return None  # already sent (or being sent) by an earlier attempt
    try:
        return jobs.send_gif_email(email, thought, delay)
    except BaseException:
        conn.delete(sent_key(key))  # it did not go out: let the next attempt send it
        raise


def send_once_then_fail(email: str, thought: str, key: str, fail_times: int = 1, delay: float = 0.0) -> str | None:
    """``send_then_fail`` with an idempotency key: however often it is retried, `key` gets one email."""
    message_id = send_once(email, thought, key, delay)
    _later_step(key, fail_times)
    return message_id


# --- a job that gives up on purpose --------------------------------------------------------------------------------


def send_login_code(email: str, code: str) -> str:
    """Send a one-time login code. A code is worth nothing a minute later, so when the mail server does not answer
    the job gives up for good: RuntimeError, raised from the ConnectionError (its traceback shows both; its last line
    is the RuntimeError), and nobody should requeue it."""
    try:
        return jobs.send_gif_email(email, f"Your login code: {code}", 0)
    except ConnectionError as exc:
        raise RuntimeError("gave up: a login code is useless once it is late") from exc
