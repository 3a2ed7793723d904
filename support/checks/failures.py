"""Exercises of ``05_when_things_fail``: a Retry that outlasts a 3-second outage; an idempotent send."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from rq import Retry
from rq.job import Job

from ..exercises import Exercise, Incorrect, call, describe, require_function
from ..failure_jobs import send_once
from ..rq_helpers import queues, recovery, rq_internals
from ..services import inbox
from ..workit import mailer

OUTAGE = 3  # seconds the mail server is down in Exercise 1
EARLY = 1  # RQ keeps a retry's due time to the whole second: a retry can start up to this much early
LATE = 10  # seconds after the outage by which the email should be out


# --- Exercise 1: a Retry for a 3-second outage -----------------------------------------------------------------


def stored_retry(retry: Retry) -> tuple[int, list[int]]:
    """Store a job with `retry` in Redis, as ``enqueue(..., retry=retry)`` would, and read back what RQ keeps:
    ``(retries_left, retry_intervals)``. The job is never queued and is deleted again."""
    conn = queues.connection()
    job = queues.queue("default", conn).create_job(
        "support.jobs.send_gif_email", args=("probe@example.com", "retry check"), retry=retry
    )
    job.save()
    try:
        stored = Job.fetch(job.id, connection=conn)
        return stored.retries_left or 0, list(stored.retry_intervals or [])
    finally:
        job.delete()


def _check_retry(retry: Any) -> str:
    if not isinstance(retry, Retry):
        raise Incorrect(f"You gave {describe(retry)}. Make an rq Retry: Retry(max=..., interval=...).")
    left, intervals = stored_retry(retry)
    times = recovery.retry_times((left, intervals))  # what RQ stored decides when the job is tried again
    shown = ", ".join(f"{t} s" for t in times)
    stored = f"In Redis the job has retries_left={left} and retry_intervals={intervals}"
    if times and max(times) == 0:
        raise Incorrect(
            f"{stored}: no pause between tries, so all {left} retries run at once, long before the mail "
            f"server is back {OUTAGE} s later. Give the retries an interval."
        )
    if not times or times[-1] < OUTAGE:
        raise Incorrect(
            f"{stored}: it is tried again {shown or 'never'} after the first failure. The last try "
            f"comes before the mail server is back at {OUTAGE} s, so the email ends up in the failed "
            "registry. Add retries or longer pauses."
        )
    if times[-1] < OUTAGE + EARLY:
        raise Incorrect(
            f"{stored}: it is tried again {shown} after the first failure. The last try is due just "
            f"as the mail server comes back, and RQ may start it up to {EARLY} s early (it keeps due "
            f"times to the whole second). Leave a margin: the last try {OUTAGE + EARLY} s or more "
            "after the first failure."
        )
    first_after = min(t for t in times if t >= OUTAGE + EARLY)
    if first_after > OUTAGE + LATE:
        raise Incorrect(
            f"{stored}: the first try safely after the outage comes {first_after} s after the first "
            f"failure, so the reader waits {first_after - OUTAGE} s longer than needed. Keep the first "
            "pauses short and let them grow."
        )
    return (
        f"{stored}: tried again {shown} after the first failure; the try at {first_after} s comes safely after "
        "the mail server is back."
    )


ex_retry = Exercise(
    "Exercise 1",
    _check_retry,
    title="A Retry that outlasts a 3 s outage",
    hints=[
        "Retry(max=N, interval=[a, b, c]) allows N more tries, with a pause of a, then b, then c seconds.",
        "Add up the pauses: the last retry should come 4 s or more after the first failure (3 s of outage, "
        "plus 1 s because RQ may start a retry up to a second early). Retry(max=2, interval=1) gives up after "
        "2 s.",
    ],
    solution="retry = Retry(max=3, interval=[1, 2, 4])",
    reference=Retry(max=3, interval=[1, 2, 4]),
)


# --- Exercise 2: an idempotent send ----------------------------------------------------------------------------


class _Mailer:
    """While the check runs (in its thread only: ``mailer.stand_in``): deliver records each send (email, thought,
    delay), sends it at once, or raises when `failing` (a mail server that is down)."""

    def __init__(self) -> None:
        self.sends: list[tuple[Any, Any, Any]] = []
        self.failing = False

    def deliver(self, email: str, thought: str, delay: float | None = None) -> str:
        self.sends.append((email, thought, delay))
        if self.failing:
            raise ConnectionError("the mail server did not answer (the check made it fail)")
        return mailer.deliver_now(email, thought)

    def __enter__(self) -> _Mailer:
        self._standing_in = mailer.stand_in(self.deliver)
        self._standing_in.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._standing_in.__exit__(*exc)


def _new_keys(conn: Any, before: set[bytes]) -> list[bytes]:
    """Keys that appeared since `before`, other than RQ's own."""
    return sorted(k for k in set(conn.scan_iter(count=1000)) - before if not rq_internals.is_rq_key(k))


def _check_send_once(fn: Any) -> str:
    require_function(fn, "send_once", ("email", "thought", "key"))
    marker = uuid.uuid4().hex[:10]
    email, key, other_key = f"once-{marker}@example.com", f"check-{marker}", f"check-other-{marker}"
    conn = queues.connection()
    before = set(conn.scan_iter(count=1000))

    def sent(thought: str | None = None) -> int:
        return len([m for m in inbox.to_address(email) if thought is None or thought in m.text])

    with _Mailer() as recorder:
        first = call(fn, email, "Only once, please", key)
        second = call(fn, email, "Only once, please", key)
    twice = sent()  # one read of the inbox for both questions
    if twice == 0:
        raise Incorrect("Called twice with the same key, your function sent no email at all: the first call must send.")
    if twice > 1:
        raise Incorrect(
            f"Called twice with the same key, your function sent {twice} emails. Claim the key in Redis "
            "with SET ... NX first, and send only when the claim succeeds."
        )
    if recorder.sends and recorder.sends[0] != (email, "Only once, please", 0):
        shown = ", ".join(map(describe, recorder.sends[0]))
        raise Incorrect(
            f"send_once({email!r}, 'Only once, please', key) sent with ({shown}): send the email and "
            "thought it was given, with delay=0."
        )
    if not (isinstance(first, str) and first and first in inbox.to_address(email)[0].raw.decode(errors="replace")):
        raise Incorrect(
            f"The call that sent the email returned {describe(first)}: return what send_gif_email "
            "returns (the email's Message-ID)."
        )
    if second is not None:
        raise Incorrect(
            f"The second call with the same key sent nothing, right, but returned {describe(second)}: "
            "return None when the key was claimed already."
        )
    call(fn, email, "A different thought", other_key)
    if sent() != 2:
        raise Incorrect(
            "Called with a new key, your function sent nothing: each key must get its own email. Put "
            "the key into the name of the Redis key you claim."
        )
    found = _new_keys(conn, before)
    if not found:
        raise Incorrect(
            "No new Redis key appeared when your function claimed a key, so a worker in another process "
            "could not know the email was sent. Keep the claim in Redis, not in a Python variable."
        )
    ttl = min(conn.ttl(k) for k in found)
    if ttl is None or ttl < 0:
        raise Incorrect(
            f"The Redis key {found[0].decode()!r} never expires (TTL {ttl}). Pass ex=... to SET so Redis "
            "forgets old claims (a day is plenty)."
        )
    if recorder.sends:
        _check_failed_send(fn, email, f"check-down-{marker}", sent)
    _check_race(fn, email, f"check-race-{marker}", sent)
    return f"Two calls with one key sent 1 email, a new key sent its own, and the claim expires in {_about(ttl)}."


def _check_failed_send(fn: Any, email: str, key: str, sent: Any) -> None:
    """A send that fails must raise (so RQ retries it) and give the key back (so the retry can send)."""
    with _Mailer() as recorder:
        recorder.failing = True
        try:
            returned = fn(email, "The server was down", key)
        except Exception:  # noqa: BLE001 -- the failure, let out as it should be
            pass
        else:
            raise Incorrect(
                f"When the mail server was down, your function returned {describe(returned)}: let the "
                "error out (raise), so that RQ knows the job failed and retries it."
            )
    call(fn, email, "The server was down", key)  # the retry, with the server back
    if not sent("The server was down"):
        raise Incorrect(
            "After a send that failed, the retry with the same key sent nothing: the key stayed "
            "claimed. When the send raises, delete the key again, then raise."
        )


def _check_race(fn: Any, email: str, key: str, sent: Any, callers: int = 6) -> None:
    """Several workers at once with one key: one email. (A check, then a separate claim, lets several through.)"""
    start, errors = threading.Barrier(callers), []

    def one() -> None:
        start.wait()
        try:
            fn(email, "All at once", key)
        except Exception as exc:  # noqa: BLE001 -- reported below, never printed from the thread
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise Incorrect(
            f"Called by {callers} threads at once with one key, your function raised "
            f"{type(errors[0]).__name__}: {errors[0]}"
        )
    if sent("All at once") != 1:
        raise Incorrect(
            f"Called by {callers} threads at once with one key, your function sent "
            f"{sent('All at once')} emails: check and claim in one step, with SET ... NX."
        )


def _about(seconds: int) -> str:
    """A TTL in words, rounded so that a second ticking by does not change it ("about 24 h")."""
    if seconds >= 3600:
        return f"about {round(seconds / 3600)} h"
    if seconds >= 60:
        return f"about {round(seconds / 60)} min"
    return f"{seconds} s"


ex_send_once = Exercise(
    "Exercise 2",
    _check_send_once,
    title="Send each email once",
    hints=[
        "r.set(name, value, nx=True, ex=seconds) returns True only for the first caller; later calls get None.",
        "Claim f'workit:sent:{key}' first and send only if the claim returned True. If sending raises, delete the "
        "key again so a retry can send.",
    ],
    solution="""\
def send_once(email, thought, key):
    if not r.set(f"workit:sent:{key}", "sent", nx=True, ex=24 * 60 * 60):
        return None  # an earlier attempt sent it already
    try:
        return jobs.send_gif_email(email, thought, delay=0)
    except Exception:
        r.delete(f"workit:sent:{key}")  # it did not go out: let a retry send it
        raise""",
    reference=send_once,
)

__all__ = ["ex_retry", "ex_send_once", "stored_retry", "OUTAGE"]
