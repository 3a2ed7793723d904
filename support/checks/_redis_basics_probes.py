"""How the checks of 02_redis (``support.checks.redis_basics``) look into the course's real Redis: a client that
answers with str like the notebook's ``r``, scratch keys, a learner's take() run on a list under a deadline, and when
a key was written and when it expired (its idle time, the append-only file).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.utils import as_text

from ..exercises import Incorrect, call, call_with_deadline
from ..services import redis_server


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
