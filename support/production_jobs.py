"""Jobs for ``09_reliability``. A worker imports them by this path, like every job.

- ``deliver_thought(thought_id)`` reads the thought from the app's SQLite database (``services.thoughts_db``) and
  delivers it; a thought that is not there (rolled back, or not committed yet) fails the job with LookupError.
  "Delivering" appends to a list in Redis, the stand-in for 05's email, so that deliveries can be counted.
- ``deliver_thought_once(thought_id)`` is the same, idempotent: it claims the key ``workit:sent:thought-...`` with
  ``SET NX`` first (05's idempotency key) and delivers only if the claim is new.
- ``deliver_snapshot(thought)`` delivers a copy of the thought passed as an object (a ``Thought``), the way a job
  does when the caller hands it an object instead of an id.
- ``rate_limited_call(run, n, seconds)`` stands in for a call to a provider that allows few connections at once:
  it notes its start and end in Redis and waits at a gate until the notebook opens it (a hold named by the run,
  ``support.rq_helpers.holds``), so that how many run at once can be proven before anything is timed.

Every key these jobs write lives in Redis under ``course:p09:`` or ``workit:sent:`` and expires on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from rq import get_current_job

from .rq_helpers import holds, queues
from .services import thoughts_db

PREFIX = "course:p09:"
DELIVERED = PREFIX + "delivered:"  # + database token + ":" + thought id: one entry per delivery
CALLS = PREFIX + "calls:"  # + run: "start|n|time" and "end|n|time" entries of rate_limited_call
RUNNING = PREFIX + "running:"  # + run: how many calls are past their start and before their end
SENT_PREFIX = "workit:sent:"  # 05's idempotency keys
NOTES_TTL = 60 * 60  # how long these notes are kept
SENT_TTL = 24 * 60 * 60  # how long an idempotency key is kept
GATE_LIMIT = 60.0  # seconds a call waits at its gate before it gives up


@dataclass
class Thought:
    """A thought as the app holds it in memory: what a careless caller passes to a job instead of its id."""

    id: int
    email: str
    text: str


def _connection() -> redis.Redis:
    """Redis as the running job sees it (the worker's connection), else the course's Redis."""
    job = get_current_job()
    return job.connection if job is not None else queues.connection()


def delivery_key(thought_id: int) -> str:
    """The Redis list that records each delivery of one thought (of this database file)."""
    return f"{DELIVERED}{thoughts_db.token()}:{thought_id}"


def deliveries(thought_id: int, connection: redis.Redis | None = None) -> int:
    """How often the thought `thought_id` has been delivered."""
    return int((connection or queues.connection()).llen(delivery_key(thought_id)))


def _deliver(conn: redis.Redis, thought_id: int, email: str, text: str) -> str:
    line = f"To {email}: {text}"
    key = delivery_key(thought_id)
    conn.rpush(key, line)
    conn.expire(key, NOTES_TTL)
    return line


def deliver_thought(thought_id: int) -> str:
    """Read thought `thought_id` from the database and deliver it; LookupError when the row is not there."""
    row = thoughts_db.get_thought(thought_id)
    if row is None:
        raise LookupError(f"thought {thought_id} is not in the database")
    return _deliver(_connection(), thought_id, row["email"], row["text"])


def deliver_thought_once(thought_id: int) -> str | None:
    """Like ``deliver_thought``, at most once per thought: None when an earlier run delivered it already."""
    conn = _connection()
    key = f"{SENT_PREFIX}thought-{thoughts_db.token()}-{thought_id}"
    if not conn.set(key, "sent", nx=True, ex=SENT_TTL):
        return None
    try:
        return deliver_thought(thought_id)
    except Exception:
        conn.delete(key)  # not delivered: let a retry try again
        raise


def deliver_snapshot(thought: Thought) -> str:
    """Deliver the copy of the thought that was stored with the job (whatever the database says now)."""
    return _deliver(_connection(), thought.id, thought.email, thought.text)


def rate_limited_call(run: str, n: int, seconds: float) -> int:
    """Note the start, wait for the gate of `run` (at most ``GATE_LIMIT`` s), take `seconds`, note the end."""
    conn = _connection()
    calls, running = CALLS + run, RUNNING + run
    conn.rpush(calls, f"start|{n}|{time.time()}")
    conn.incr(running)
    conn.expire(calls, NOTES_TTL)
    conn.expire(running, NOTES_TTL)
    try:
        if not holds.wait_for_go(conn, run, GATE_LIMIT):
            raise TimeoutError(f"the gate of run {run} stayed shut for {GATE_LIMIT:g} s")
        time.sleep(seconds)
    finally:
        conn.decr(running)
        conn.rpush(calls, f"end|{n}|{time.time()}")
    return n
