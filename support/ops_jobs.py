"""Jobs of ``10_operations``: the maintenance job
that ``rq cron`` runs, a job that holds in its slow step until the notebook lets it go on, and a job of a given
length that may fail (a batch to watch).

They live in a module so that any worker can import them as ``support.ops_jobs.<name>``. Each reaches Redis through
the connection of the job it runs (``rq.get_current_job()``), so it needs no settings of its own; ``hold`` waits at
a hold (``support.rq_helpers.holds``) named by its marker.
"""

from __future__ import annotations

import json
import time

import redis
from rq import get_current_job

from .rq_helpers import holds

SESSION_PREFIX = "ops:session:"  # the sessions the maintenance job expires: a hash each, with last_seen
RUNS_KEY = "ops:cron:runs"  # one JSON line per run of expire_sessions: who enqueued it, how many it deleted
HOLD_LIMIT = 300.0  # hold() never waits longer than this for its go


def _connection() -> redis.Redis:
    job = get_current_job()
    if job is None:
        raise RuntimeError("This function runs as an RQ job: enqueue it.")
    return job.connection


def expire_sessions(max_age: float, by: str = "rq cron") -> int:
    """Delete the sessions not seen for `max_age` seconds; record the run (`by`: who enqueued it) in Redis.

    Idempotent: a session is deleted once, however many runs overlap (DEL counts only the run that removed it).
    Returns how many sessions this run deleted."""
    conn = _connection()
    now = time.time()
    deleted = 0
    for key in conn.scan_iter(match=f"{SESSION_PREFIX}*", count=1000):
        seen = conn.hget(key, "last_seen")
        if seen is not None and now - float(seen) > max_age:
            deleted += conn.delete(key)
    conn.rpush(RUNS_KEY, json.dumps({"by": by, "deleted": deleted, "at": now}))
    return deleted


def hold(marker: str, after: float = 0.5) -> str:
    """A slow job that can be caught in its slow step: say so in Redis, wait there until the notebook says go (the
    hold `marker`; at most ``HOLD_LIMIT`` seconds), then work `after` seconds more."""
    holds.wait_for_go(_connection(), marker, HOLD_LIMIT)  # no go in time: it goes on all the same
    time.sleep(after)
    return f"{marker}: finished its slow step"


def work_for(seconds: float, fail: bool = False) -> float:
    """Work `seconds` (a sleep, like a call to a mail server), then fail when `fail`; returns `seconds`."""
    time.sleep(seconds)
    if fail:
        raise ConnectionError("the mail server did not answer (a failure on purpose)")
    return seconds
