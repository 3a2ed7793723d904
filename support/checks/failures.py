"""Exercises of ``05_when_things_fail``: requeue what an outage broke (``_failures_requeue``); the options of the
welcome email, run against a real outage (``_failures_options``); an idempotent send."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from ..exercises import Exercise, Incorrect, call, describe, require_function
from ..failure_jobs import send_once
from ..rq_helpers import queues, rq_internals
from ..services import inbox
from ..workit import mailer
from ._failures_options import DAY, OUTAGE, ex_options, stored_options
from ._failures_requeue import ex_requeue

# --- Exercise 3: an idempotent send ----------------------------------------------------------------------------


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


THOUGHT = "Only once, please"
CLAIM_MIN, CLAIM_MAX = DAY - 60, DAY + 60  # "a day": within a minute of it (the TTL is read at once)


def _check_send_once(fn: Any) -> str:
    require_function(fn, "send_once", ("email", "thought", "key"))
    marker = uuid.uuid4().hex[:10]
    email, key, other_key = f"once-{marker}@example.com", f"check-{marker}", f"check-other-{marker}"
    conn = queues.connection()
    before = set(conn.scan_iter(count=1000))

    def sent(thought: str | None = None) -> int:
        return len([m for m in inbox.to_address(email) if thought is None or thought in m.text])

    with _Mailer() as recorder:
        first = call(fn, email, THOUGHT, key)
        claimed = {k: conn.ttl(k) for k in _new_keys(conn, before)}  # read at once: a claim may expire soon
        second = call(fn, email, THOUGHT, key)
    twice = sent()  # one read of the inbox for both questions
    if twice == 0:
        raise Incorrect("Called twice with the same key, your function sent no email at all: the first call must send.")
    if twice > 1:
        raise Incorrect(
            f"Called twice with the same key, your function sent {twice} emails. Claim the key in Redis "
            "with SET ... NX first, and send only when the claim succeeds."
        )
    if recorder.sends and recorder.sends[0] != (email, THOUGHT, 0):
        shown = ", ".join(map(describe, recorder.sends[0]))
        raise Incorrect(
            f"send_once({email!r}, {THOUGHT!r}, key) sent with ({shown}): send the email and "
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
    call(fn, email, THOUGHT, other_key)
    if sent() != 2:
        raise Incorrect(
            "Called with a new key (the same email, the same thought), your function sent nothing: each key must "
            "get its own email. Put the key, and only the key, into the name of the Redis key you claim."
        )
    if not claimed:
        raise Incorrect(
            "No new Redis key appeared when your function claimed a key, so a worker in another process "
            "could not know the email was sent. Keep the claim in Redis, not in a Python variable."
        )
    name, ttl = min(claimed.items(), key=lambda item: item[1])
    if ttl < 0:
        raise Incorrect(
            f"The Redis key {name.decode()!r} never expires (TTL {ttl}). Pass ex=... to SET so Redis "
            "forgets old claims: keep the claim a day."
        )
    if not CLAIM_MIN <= ttl <= CLAIM_MAX:
        raise Incorrect(
            f"The Redis key {name.decode()!r} expires in {_about(ttl)}: keep the claim a day (ex=24 * 60 * 60, in "
            "seconds), longer than any retry takes."
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


def _check_race(fn: Any, email: str, key: str, sent: Any, callers: int = 6, rounds: int = 3) -> None:
    """Several workers at once with one key: one email. (A check, then a separate claim, lets several through; a few
    rounds, each with a key and a thought of its own, so that such an answer cannot pass by luck.)"""
    for n in range(1, rounds + 1):
        thought, claim = f"All at once ({n})", f"{key}-{n}"
        start = threading.Barrier(callers)
        errors: list[Exception] = []

        def one(
            thought: str = thought,
            claim: str = claim,
            start: threading.Barrier = start,
            errors: list[Exception] = errors,
        ) -> None:
            start.wait()
            try:
                fn(email, thought, claim)
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
        if sent(thought) != 1:
            raise Incorrect(
                f"Called by {callers} threads at once with one key, your function sent "
                f"{sent(thought)} emails: check and claim in one step, with SET ... NX."
            )


def _about(seconds: int) -> str:
    """A TTL in words, rounded so that a second ticking by does not change it ("about 24 h")."""
    if seconds >= 3600:
        return f"about {round(seconds / 3600)} h"
    if seconds >= 60:
        return f"about {round(seconds / 60)} min"
    return f"{seconds} s"


ex_send_once = Exercise(
    "Exercise 3",
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

__all__ = ["OUTAGE", "ex_options", "ex_requeue", "ex_send_once", "stored_options"]
