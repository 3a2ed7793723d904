"""How the checks of 02_redis (``support.checks.redis_basics``) look into the course's real Redis: a client that
answers with str like the notebook's ``r`` (``reach`` says so when Redis does not answer, before any of the learner's
code runs), scratch keys, a learner's take() run on a list under a deadline (and its check, ``check_take``), and
when a key was written and when it expired (the append-only file: a read such as GET leaves no trace there).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.utils import as_text

from ..exercises import Incorrect, call, call_with_deadline, describe, require_function
from ..lessons import redis_tour
from ..services import redis_server
from ._check_trouble import START_REDIS, CheckCouldNot, redis_needed

ITEMS = ["first", "second", "third"]  # what a producer sent, oldest first
TAKE_TIMEOUT = 10.0  # seconds a learner's take() may run in a check before it is stopped
LATE_AFTER = 0.3  # seconds after which the check pushes an item to a take() that should be waiting
TIMEOUT = 2.0  # seconds take() waits for each item (BRPOP's timeout, as the exercise asks)
# How long a take() that got one item of three may wait for the second before it stops early: one BRPOP timeout,
# and no more (a take that goes on after None waits a second timeout). A BRPOP answers when its timeout is up.
EARLY_WITHIN = (TIMEOUT - 0.3, TIMEOUT + 0.9)
EARLY_DEADLINE = EARLY_WITHIN[1] + 0.3  # a take still waiting then waits too long: it is cut off
LATER = "fourth"  # sent after ITEMS: take(r, key, 3) leaves it


def connection(retry: bool = True) -> redis.Redis:
    """A client of the course's Redis that answers with str, like the notebook's ``r``.

    ``retry=False``: a client that does not reconnect on its own, so that cutting its connection ends a call.
    """
    if retry:
        return redis.Redis.from_url(redis_server.url(), decode_responses=True)
    return redis.Redis.from_url(redis_server.url(), decode_responses=True, retry=Retry(NoBackoff(), 0))


def reach(retry: bool = True) -> redis.Redis:
    """A client of the course's Redis (see ``connection``) that has answered PING; when Redis does not answer, the
    check says so (before any of the learner's code runs), never that the learner's code failed."""
    r = connection(retry)
    try:
        r.ping()
    except redis.RedisError as exc:
        raise CheckCouldNot("talk to the course's Redis", f"{type(exc).__name__}: {exc}", START_REDIS) from None
    return r


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


@redis_needed
def check_take(take: Any) -> str:
    """02's Exercise 4: take(r, key, n) on real lists: oldest first, all popped, waiting for a late item, n at most,
    and, when nothing comes, one BRPOP timeout (2 s) and no more before it stops early."""
    require_function(take, "take", ("r", "key", "n"))
    r = reach(retry=False)
    # a producer sent 'first', then 'second', 'third' and 'fourth': three of them are taken, oldest first
    got, _, left = probe(take, r, [*ITEMS, LATER], 3, TAKE_TIMEOUT)
    if got is None:
        raise Incorrect("take returned None: collect the items and return them in a Python list.")
    if not isinstance(got, list):
        raise Incorrect(f"take returned {describe(got)}; it returns the items in a Python list.")
    if got and all(isinstance(g, (tuple, list)) and len(g) == 2 for g in got):
        raise Incorrect(
            "Each item you returned is a pair (list name, item): BRPOP answers a pair (list name, item). "
            "Keep only the item, the second one."
        )
    sent = "a list that a producer filled with 'first', 'second', 'third', 'fourth' (in that order)"
    if len(got) > 3:
        raise Incorrect(f"take(r, key, 3) returned {describe(got)} from {sent}: it takes n items, no more.")
    if got == [LATER, *ITEMS[::-1]][:3]:
        raise Incorrect(
            f"take(r, key, 3) returned {describe(got)} from {sent}: newest first. That is a stack, not a queue. "
            "LPUSH adds at the left, so take the items off the right end, oldest first: BRPOP, not BLPOP."
        )
    if got != ITEMS:
        raise Incorrect(
            f"take(r, key, 3) returned {describe(got)} from {sent}. It takes n items off the right end, oldest "
            "first, with BRPOP: ['first', 'second', 'third']."
        )
    if left > 1:
        raise Incorrect(
            f"After take(r, key, 3) the list still holds {left} items, not 1: take the items off the list (BRPOP "
            "pops them), do not just read them."
        )
    if left < 1:
        raise Incorrect("After take(r, key, 3) the list is empty, and 'fourth' gone: it takes n items, no more.")
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
            f"On an empty list, take(r, key, 1) returned {describe(got)} at once; the item came {LATE_AFTER} s "
            "later. A consumer must wait for work: r.brpop(key, timeout=2) blocks until an item comes (RPOP "
            "does not wait)."
        )
    try:
        early, waited, _ = probe(take, r, ["only"], 3, EARLY_DEADLINE)
    except Incorrect as exc:
        raise Incorrect(
            f"On a list holding one item: {exc} Wait up to {TIMEOUT:g} s for each item "
            f"(r.brpop(key, timeout={TIMEOUT:g}): seconds); when nothing comes within the timeout, BRPOP answers "
            "None: then stop early, and return what you took."
        ) from None
    if early != ["only"]:
        raise Incorrect(
            f"From a list holding one item, take(r, key, 3) returned {describe(early)}: when BRPOP answers None "
            "(nothing came within the timeout), stop early and return what you took."
        )
    low, high = EARLY_WITHIN
    if waited < low:
        raise Incorrect(
            f"take(r, key, 3) returned ['only'] after ⏱ {waited:.1f} s: wait up to {TIMEOUT:g} s for each item, "
            f"r.brpop(key, timeout={TIMEOUT:g}), before you stop early."
        )
    if waited > high:
        raise Incorrect(
            f"take(r, key, 3) got 'only' at once, then returned after ⏱ {waited:.1f} s. Wait up to {TIMEOUT:g} s "
            f"for each item (r.brpop(key, timeout={TIMEOUT:g}): seconds), and once BRPOP answers None, stop early: "
            f"{TIMEOUT:g} s after the last item, no more."
        )
    return (
        f"take returned ['first', 'second', 'third'] (oldest first), on an empty list it waited ⏱ {seconds:.2f} s "
        f"for the next item instead of giving up, and when nothing came it stopped after ⏱ {waited:.1f} s."
    )


# --- a key's life: when it was written, when it expired ---------------------------------------------------------

NOT_WRITES = {"SELECT", "MULTI", "EXEC"}  # lines of the append-only file around the writes


def aof_tail(limit: int = 1 << 20) -> tuple[list[list[str]], int] | None:
    """The write commands at the end of the course Redis's append-only file (its newest file, the last `limit`
    bytes), and when that file was last written (epoch ms): the moment of its last command, since Redis appends
    each write and fsyncs it before it answers (appendfsync always). None when there is no file to read (REDIS_URL
    points at another server) or it keeps changing while it is read."""
    files = redis_tour.aof_files()
    if not files:
        return None
    path = files[-1]
    for _ in range(3):
        try:
            before = path.stat()
            with path.open("rb") as file:
                file.seek(max(0, before.st_size - limit))
                data = file.read()
            after = path.stat()
        except OSError:
            return None
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns):
            commands = [c for c in redis_tour.parse_commands(data) if c and c[0].upper() not in NOT_WRITES]
            return commands, after.st_mtime_ns // 1_000_000
    return None


def expiry_in(command: list[str]) -> int | None:
    """The expiry (epoch ms) a command of the append-only file gives its key: ``SET ... PXAT`` (what SET with EX or
    PX, SETEX and PSETEX become there) or ``PEXPIREAT`` (what EXPIRE, PEXPIRE, EXPIREAT and GETEX become); else
    None."""
    verb = command[0].upper()
    words = [part.upper() for part in command]
    if verb == "PEXPIREAT" and len(command) >= 3:
        at = command[2]
    elif verb == "SET" and "PXAT" in words[3:-1]:
        at = command[words.index("PXAT", 3) + 1]
    else:
        return None
    return int(at) if at.isdigit() else None


def written_at(key: str, expire_at: int) -> int | None:
    """When (epoch ms) the write that gave `key` its expiry at `expire_at` was made, known when that write is the
    append-only file's last one: the file was last modified then. A read since (GET, TTL) leaves no trace in the
    file; another write since, to any key, leaves the moment unknown: None."""
    tail = aof_tail()
    if tail is None or not tail[0]:
        return None
    commands, modified = tail
    last = commands[-1]
    at = expiry_in(last) if len(last) >= 2 and last[1] == key else None
    return modified if at is not None and abs(at - expire_at) <= 20 else None


def last_set_of(value: str, besides: str) -> str | None:
    """The key that the append-only file's latest ``SET key value`` with this value wrote, unless it is `besides`."""
    tail = aof_tail()
    for command in reversed(tail[0] if tail else []):
        if command[0].upper() == "SET" and len(command) >= 3 and command[2] == value:
            return None if command[1] == besides else command[1]
    return None


def expired_ago(key: str, now_ms: int) -> float | None:
    """Seconds since `key` expired, read from the append-only file (the only record of an expired key), or None
    when its last write there gave it no expiry, or the data was flushed since, or the file cannot be read. (A key
    that expires reaches the file as a DEL too, so a DEL does not end its record.)"""
    tail = aof_tail()
    expire_at = None
    for command in tail[0] if tail else []:
        verb = command[0].upper()
        if verb in ("FLUSHALL", "FLUSHDB"):
            expire_at = None
        elif command[1:2] == [key] and verb not in ("DEL", "UNLINK"):
            expire_at = expiry_in(command)
    if expire_at is None or expire_at > now_ms + 100:
        return None
    return (now_ms - expire_at) / 1000


# --- 02's Exercise 1: the session's lifetime; Exercise 3: what send() did ---------------------------------------

SESSION_KEY, SESSION_VALUE, SESSION_SECONDS = "session:ada", "logged-in", 60
SEEN_KEY = "check:seen:session:ada"  # how long this very write of the key gave it to live, as a check first found
# How many seconds short of SESSION_SECONDS a lifetime may fall, by how it was found: read from the append-only
# file ("exact"; "whole" when the expiry is a whole second, as EXAT gives it), or from the idle time ("at-least":
# Redis counts it in whole seconds).
SHORT_BY = {"exact": 0.9, "whole": 1.0, "at-least": 1.5}


def _lifetime(r: redis.Redis, now_ms: int, pttl: int, idle: int) -> tuple[float, str] | None:
    """(seconds between the write of SESSION_KEY and its expiry, how it was found: a key of SHORT_BY), or None when
    the check cannot tell. Exact: the write is the append-only file's last, so the file's modification time is its
    moment (a GET since leaves no trace there). Else a lower bound: the TTL left plus the idle time (a GET resets
    it). A first finding is kept at SEEN_KEY for this very write (its expiry), so a check run again finds it."""
    expire_at = now_ms + pttl
    seen = as_text(r.get(SEEN_KEY) or "").split()
    if len(seen) == 3 and seen[2] in SHORT_BY and abs(int(seen[0]) - expire_at) <= 20:  # judged by an earlier check
        return int(seen[1]) / 1000, seen[2]
    written = written_at(SESSION_KEY, expire_at)
    if written is not None:
        found = (expire_at - written, "whole" if expire_at % 1000 == 0 else "exact")
    elif pttl + idle * 1000 >= (SESSION_SECONDS - SHORT_BY["at-least"]) * 1000:
        found = (pttl + idle * 1000, "at-least")
    else:
        return None
    r.set(SEEN_KEY, f"{expire_at} {found[0]} {found[1]}", px=pttl + 3_600_000)
    return found[0] / 1000, found[1]


def _sent(send: Any, r: redis.Redis, before: list[str], items: list[str]) -> dict[str, Any]:
    """send(r, key, items) on a scratch list holding `before`: what it returned, what key became (its Redis type,
    its items from left to right), and whether the list it was given is as it was."""
    key, given = scratch_key("send"), list(items)
    try:
        if before:
            r.lpush(key, *before)
        returned = call(send, r, key, given)
        kind = as_text(r.type(key))
        stored = r.lrange(key, 0, -1) if kind == "list" else None
    finally:
        r.delete(key)
    return {"returned": returned, "kind": kind, "stored": stored, "changed": given != items}
