"""A step a job waits at until the notebook says go: what makes a demonstration that races a job deterministic.

Inside the job, ``wait_for_go(conn, name, limit)`` says in Redis that the job has reached the step (the key
``course:hold:<name>:reached``) and waits there until the notebook sets ``course:hold:<name>:go`` (``go``), at most
`limit` seconds. The notebook waits for the first key (``wait_until_reached``), acts (kills the worker, restarts
the mail server, sends a signal), and only then says go: what it did happened at that step, however fast or slow
the machine is. A go stays (an hour, like every key here): a rerun of the step goes straight on, and every job that
waits on one name (a gate several jobs share) goes on at once.

The job modules build on it (``failure_jobs.hold``, ``ops_jobs.hold``, an export's ``hold_at`` step, the gate of
``production_jobs.rate_limited_call``); each names its hold (a job id, a marker, a run).
"""

from __future__ import annotations

import time

import redis

from ..services.processes import wait_until

PREFIX = "course:hold:"
TTL = 60 * 60  # seconds Redis keeps a hold's keys
POLL_SECONDS = 0.02


def reached_key(name: str) -> str:
    """The key that says a job has reached the hold `name` (its value: the Unix time it did)."""
    return f"{PREFIX}{name}:reached"


def go_key(name: str) -> str:
    """The key that lets the jobs held at `name` go on."""
    return f"{PREFIX}{name}:go"


def wait_for_go(conn: redis.Redis, name: str, limit: float) -> bool:
    """Inside a job: say that it has reached the hold `name`, and wait for its go, at most `limit` seconds. True when
    the go came (or had come before), False when the limit passed: the caller says what happens then."""
    conn.set(reached_key(name), time.time(), ex=TTL)
    return wait_until(lambda: bool(conn.exists(go_key(name))), limit, POLL_SECONDS)


def reached(conn: redis.Redis, name: str) -> bool:
    """Has a job reached the hold `name`?"""
    return bool(conn.exists(reached_key(name)))


def wait_until_reached(conn: redis.Redis, name: str, timeout: float = 30.0) -> bool:
    """Wait until a job has reached the hold `name`; True when one has."""
    return wait_until(lambda: reached(conn, name), timeout, POLL_SECONDS)


def go(conn: redis.Redis, name: str) -> None:
    """Let the jobs held at `name` go on (and every later run of that step pass it straight away)."""
    conn.set(go_key(name), 1, ex=TTL)
