"""How the checks of 02_redis (``support.checks.redis_basics``) look into the course's real Redis: a client that
answers with str like the notebook's ``r``, scratch keys, a learner's take() run on a list under a deadline (and its
check, ``check_take``), and when a key was written and when it expired (its idle time, the append-only file).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.utils import as_text

from ..exercises import Incorrect, call, call_with_deadline, describe, require_function
from ..services import redis_server

ITEMS = ["first", "second", "third"]  # what a producer sent, oldest first
TAKE_TIMEOUT = 10.0  # seconds a learner's take() may run in a check before it is stopped
LATE_AFTER = 0.3  # seconds after which the check pushes an item to a take() that should be waiting
TIMEOUT = 2.0  # seconds take() waits for each item (BRPOP's timeout, as the exercise asks)


def connection(retry: bool = True) -> redis.Redis:
    """A client of the course's Redis that answers with str, like the notebook's ``r``.

    ``retry=False``: a client that does not reconnect on its own, so that cutting its connection ends a call.
    """
    if retry:
        return redis.Redis.from_url(redis_server.url(), decode_responses=True)
    return redis.Redis.from_url(redis_server.url(), decode_responses=True, retry=Retry(NoBackoff(), 0))


def scratch_key(what: str) -> str:
    return f"check:{what}:{uuid.uuid4().hex[:8]}"


# --- a learner's take(), under a deadline -----------------------------------------------------------------------


def run_with_deadline(fn: Callable[[], Any], r: redis.Redis, what: str, timeout: float) -> tuple[Any, float]:
    """Run fn(); if it does not return within `timeout` seconds, cut its Redis connections to end it."""
    try:
        return call_with_deadline(fn, timeout, stop=r.connection_pool.disconnect)  # a blocked BRPOP fails
    except TimeoutError:
        raise Incorrect(
            f"{what} did not return within {timeout:g} s. Does it stop after n items? "
            "(BRPOP with a timeout gives up when nothing comes.)"
        ) from None


def probe(take: Any, r: redis.Redis, items: list[str], n: int, timeout: float) -> tuple[Any, float, int]:
    """take(r, key, n) on a list a producer filled with `items`: what it returned, how long it took, what is left."""
    key = scratch_key("take")
    try:
        if items:
            r.lpush(key, *items)
        got, seconds = run_with_deadline(lambda: call(take, r, key, n), r, f"take(r, key, {n})", timeout)
        return got, seconds, r.llen(key)
    finally:
        r.delete(key)


def check_take(take: Any) -> str:
    """02's Exercise 4: take(r, key, n) on real lists: oldest first, all popped, waiting for a late item, n at most,
    stopping early when BRPOP times out."""
    require_function(take, "take", ("r", "key", "n"))
    r = connection(retry=False)
    got, _, left = probe(take, r, ITEMS, 3, TAKE_TIMEOUT)  # a producer sent 'first', then 'second', then 'third'
    if got is None:
        raise Incorrect("take returned None: collect the items in a list and return the list.")
    if not isinstance(got, list):
        raise Incorrect(f"take returned {describe(got)}; return a list of the items.")
    if got and all(isinstance(g, (tuple, list)) and len(g) == 2 for g in got):
        raise Incorrect(
            "Each item you returned is a pair (list name, item): BRPOP answers with both. "
            "Keep only the item, the second one."
        )
    if got == ITEMS[::-1]:
        raise Incorrect(
            "You took ['third', 'second', 'first']: newest first. That is a stack, not a queue. "
            "LPUSH adds at the left, so take from the right end: BRPOP, not BLPOP."
        )
    if got != ITEMS:
        raise Incorrect(
            f"take(r, key, 3) returned {describe(got)} from a list that a producer filled with "
            "'first', 'second', 'third' (in that order). Take n items, oldest first, with BRPOP."
        )
    if left:
        raise Incorrect(f"After take(r, key, 3) the list still holds {left} item(s): pop them, do not just read.")
    late_key = scratch_key("late")
    pusher = threading.Timer(LATE_AFTER, lambda: connection().lpush(late_key, "late"))
    pusher.start()
    try:
        got, seconds = run_with_deadline(lambda: call(take, r, late_key, 1), r, "take(r, key, 1)", TAKE_TIMEOUT)
    finally:
        pusher.cancel()
        pusher.join()
        r.delete(late_key)
    if got != ["late"]:
        raise Incorrect(
            f"On an empty list, take(r, key, 1) returned {describe(got)} at once; the item came "
            f"{LATE_AFTER} s later. A consumer must wait for work: use BRPOP (blocking) with a "
            "timeout of a few seconds, not RPOP."
        )
    more, _, left = probe(take, r, ["one", "two"], 1, TAKE_TIMEOUT)
    if more != ["one"] or left != 1:
        raise Incorrect(
            f"From a list holding 'one', then 'two', take(r, key, 1) returned {describe(more)} and left "
            f"{left} item(s): take n items, no more."
        )
    try:
        early, waited, _ = probe(take, r, ["only"], 2, TAKE_TIMEOUT)
    except Incorrect as exc:
        raise Incorrect(
            f"When nothing comes within the timeout, BRPOP answers None, and then: {exc}. Stop early "
            "there and return what you took."
        ) from None
    if early != ["only"]:
        raise Incorrect(
            f"From a list holding one item, take(r, key, 2) returned {describe(early)}: when BRPOP "
            "answers None (nothing came within the timeout), stop early and return what you took."
        )
    if not TIMEOUT - 0.5 <= waited <= TIMEOUT + 3:
        raise Incorrect(
            f"take(r, key, 2) waited ⏱ {waited:.1f} s for a second item that never came; wait up to "
            f"{TIMEOUT:g} s for each item: r.brpop(key, timeout={TIMEOUT:g})."
        )
    return (
        f"take returned ['first', 'second', 'third'] (oldest first), and on an empty list it waited "
        f"⏱ {seconds:.2f} s for the next item instead of giving up."
    )


# --- a key's life: when it was written, when it expired ---------------------------------------------------------


def written_for(r: redis.Redis, seen_key: str, now_ms: int, pttl: int, idle: int) -> float:
    """Seconds between the write of the key and its expiry: TTL left plus idle time, as a check first saw it (the
    check records that at `seen_key`)."""
    expire_at, written = now_ms + pttl, now_ms - idle * 1000
    seen = (r.get(seen_key) or "").split()
    if len(seen) == 2 and abs(int(seen[0]) - expire_at) <= 50:  # the same write, seen by an earlier check
        written = int(seen[1])
    else:
        r.set(seen_key, f"{expire_at} {written}", px=pttl + 3_600_000)
    return (expire_at - written) / 1000


def expired_ago(r: redis.Redis, key_name: str, now_ms: int) -> float | None:
    """Seconds since the key `key_name` expired, read from the append-only file (the only record of an expired
    key), or None when its last write there had no expiry, or was deleted, or the file cannot be read."""
    try:
        folder = Path(as_text(r.config_get("dir")["dir"] or ""))  # Redis always reports its dir
        data = b"".join(f.read_bytes() for f in sorted(folder.glob("**/*.aof")))
    except (OSError, KeyError, redis.RedisError):
        return None
    key = re.escape(key_name.encode())  # SET ... EX, SETEX and EXPIRE reach the file as SET ... PXAT, PEXPIREAT
    expire_at = None
    for m in re.finditer(
        rb"\*\d+\r\n\$\d+\r\n(SET|PEXPIREAT|PERSIST)\r\n\$\d+\r\n" + key + rb"\r\n"
        rb"(?:\$\d+\r\n([^\r]*)\r\n)?(?:\$4\r\nPXAT\r\n\$\d+\r\n(\d+)\r\n)?",
        data,
        re.IGNORECASE,
    ):
        command, arg, pxat = m.group(1).upper(), m.group(2), m.group(3)
        expire_at = int(pxat if command == b"SET" else arg) if (pxat or command == b"PEXPIREAT") else None
    if expire_at is None or expire_at > now_ms + 100:
        return None
    return (now_ms - expire_at) / 1000
