"""Exercises of 02_redis: a key that expires, the two halves of a hand-made queue, and what survives a crash.

The checks talk to the course's real Redis (started if needed) with ``decode_responses=True``, as the notebook does.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..exercises import Choice, Exercise, Incorrect, NotAttempted, call, describe
from ..services import redis_server

ITEMS = ["first", "second", "third"]
TAKE_TIMEOUT = 10.0  # seconds a learner's take() may run in a check before it is stopped
LATE_AFTER = 0.3  # seconds after which the check pushes an item to a take() that should be waiting


def connection(retry: bool = True) -> redis.Redis:
    """A client of the course's Redis that answers with str, like the notebook's ``r``.

    ``retry=False``: a client that does not reconnect on its own, so that cutting its connection ends a call.
    """
    if retry:
        return redis.Redis.from_url(redis_server.url(), decode_responses=True)
    return redis.Redis.from_url(redis_server.url(), decode_responses=True, retry=Retry(NoBackoff(), 0))


def _scratch_key(what: str) -> str:
    return f"check:{what}:{uuid.uuid4().hex[:8]}"


# --- Exercise 1: a session that expires by itself ---------------------------------------------------------------

SESSION_KEY, SESSION_VALUE, SESSION_SECONDS = "session:ada", "logged-in", 60


def _check_session() -> str:
    r = connection()
    value, ttl = r.get(SESSION_KEY), r.ttl(SESSION_KEY)
    if value is None:
        raise NotAttempted(f"there is no key {SESSION_KEY!r} in Redis yet: write the command that sets it, run "
                           "that cell, then run the check again.")
    if value != SESSION_VALUE:
        raise Incorrect(f"{SESSION_KEY!r} holds {describe(value)}; it should hold {SESSION_VALUE!r}.")
    if ttl == -1:
        raise Incorrect(f"{SESSION_KEY!r} has no expiry, so it would stay in Redis forever (TTL -1). "
                        f"Pass ex={SESSION_SECONDS} to r.set(...), or call r.expire(...) after it.")
    if ttl > SESSION_SECONDS:
        raise Incorrect(f"{SESSION_KEY!r} expires in {ttl} s; make it {SESSION_SECONDS} s (ex={SESSION_SECONDS} "
                        "counts seconds, px counts milliseconds).")
    return f"{SESSION_KEY!r} holds {SESSION_VALUE!r}, and Redis will delete it by itself within {SESSION_SECONDS} s."


ex_session = Exercise(
    "Exercise 1", _check_session, title="A session that expires by itself",
    hints=["r.set(key, value) stores a value; one more keyword argument gives it a lifetime in seconds.",
           f"r.set({SESSION_KEY!r}, {SESSION_VALUE!r}, ex=...)"],
    solution=f"r.set({SESSION_KEY!r}, {SESSION_VALUE!r}, ex={SESSION_SECONDS})")


# --- Exercise 2: the producer's half, send() --------------------------------------------------------------------

def reference_send(r: redis.Redis, key: str, items: list[str]) -> None:
    """Put each item on the left end of the list `key`, oldest first."""
    for item in items:
        r.lpush(key, item)


def _check_send(send: Any) -> str:
    if not callable(send):
        raise Incorrect(f"send is {describe(send)}; it should be a function: def send(r, key, items): ...")
    r, key = connection(), _scratch_key("send")
    try:
        call(send, r, key, list(ITEMS))
        kind, stored = r.type(key), None
        if kind == "list":
            stored = r.lrange(key, 0, -1)
    finally:
        r.delete(key)
    if kind == "none":
        raise Incorrect("After send(r, key, ['first', 'second', 'third']) there is nothing at key in Redis. "
                        "Push onto the list named by the argument key, with r.lpush(key, item).")
    if stored is None:
        raise Incorrect(f"send made key a Redis {kind}, not a list: use r.lpush(key, item).")
    if stored == ITEMS:
        raise Incorrect("The list holds ['first', 'second', 'third'] from left to right: you added at the right "
                        "end (RPUSH). The consumer takes from the right with BRPOP, so it would take 'third' "
                        "first. Add at the left end with LPUSH.")
    if stored == ITEMS[::-1]:
        return ("The list holds ['third', 'second', 'first']: the oldest item waits at the right end, where "
                "BRPOP takes from.")
    if len(stored) == 1:
        raise Incorrect(f"The list holds one item, {describe(stored[0])}: push each item on its own "
                        "(a loop, or r.lpush(key, *items)).")
    raise Incorrect(f"The list holds {describe(stored)}; it should hold the three items, newest at the left: "
                    "['third', 'second', 'first'].")


ex_send = Exercise(
    "Exercise 2", _check_send, title="The producer: send()",
    hints=["r.lpush(key, item) adds one item at the left end of the list key.",
           "Loop over items and LPUSH each one; the function needs no return value."],
    solution="""\
def send(r, key, items):
    for item in items:
        r.lpush(key, item)""",
    reference=reference_send)


# --- Exercise 3: the consumer's half, take() --------------------------------------------------------------------

def reference_take(r: redis.Redis, key: str, n: int) -> list[str]:
    """Take n items off the right end of the list `key`, waiting (up to 2 s each) for items that are not there yet."""
    taken = []
    for _ in range(n):
        popped = r.brpop(key, timeout=2)
        if popped is None:
            break
        taken.append(popped[1])
    return taken


def _run_with_deadline(fn: Callable[[], Any], r: redis.Redis, what: str) -> tuple[Any, float]:
    """Run fn() in a thread; if it does not return within TAKE_TIMEOUT, cut its Redis connections to end it."""
    box: dict[str, Any] = {}

    def run() -> None:
        start = time.perf_counter()
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 -- handed back to the checking thread
            box["error"] = exc
        box["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TAKE_TIMEOUT)
    if thread.is_alive():
        r.connection_pool.disconnect()  # the blocked BRPOP fails, and the thread ends
        thread.join(2)
        raise Incorrect(f"{what} did not return within {TAKE_TIMEOUT:g} s. Does it stop after n items? "
                        "(BRPOP with a timeout gives up when nothing comes.)")
    if "error" in box:
        raise box["error"]
    return box["value"], box["seconds"]


def _check_take(take: Any) -> str:
    if not callable(take):
        raise Incorrect(f"take is {describe(take)}; it should be a function: def take(r, key, n): ...")
    r, key = connection(retry=False), _scratch_key("take")
    try:
        r.lpush(key, *ITEMS)  # a producer sent 'first', then 'second', then 'third'
        got, _ = _run_with_deadline(lambda: call(take, r, key, 3), r, "take(r, key, 3)")
        left = r.llen(key)
    finally:
        r.delete(key)
    if got is None:
        raise Incorrect("take returned None: collect the items in a list and return the list.")
    if not isinstance(got, list):
        raise Incorrect(f"take returned {describe(got)}; return a list of the items.")
    if got and all(isinstance(g, (tuple, list)) and len(g) == 2 for g in got):
        raise Incorrect("Each item you returned is a pair (list name, item): BRPOP answers with both. "
                        "Keep only the item, the second one.")
    if got == ITEMS[::-1]:
        raise Incorrect("You took ['third', 'second', 'first']: newest first. That is a stack, not a queue. "
                        "LPUSH adds at the left, so take from the right end: BRPOP, not BLPOP.")
    if got != ITEMS:
        raise Incorrect(f"take(r, key, 3) returned {describe(got)} from a list that a producer filled with "
                        "'first', 'second', 'third' (in that order). Take n items, oldest first, with BRPOP.")
    if left:
        raise Incorrect(f"After take(r, key, 3) the list still holds {left} item(s): pop them, do not just read.")
    late_key = _scratch_key("late")
    pusher = threading.Timer(LATE_AFTER, lambda: connection().lpush(late_key, "late"))
    pusher.start()
    try:
        got, seconds = _run_with_deadline(lambda: call(take, r, late_key, 1), r, "take(r, key, 1)")
    finally:
        pusher.cancel()
        pusher.join()
        r.delete(late_key)
    if got != ["late"]:
        raise Incorrect(f"On an empty list, take(r, key, 1) returned {describe(got)} at once; the item came "
                        f"{LATE_AFTER} s later. A consumer must wait for work: use BRPOP (blocking) with a "
                        "timeout of a few seconds, not RPOP.")
    return (f"take returned ['first', 'second', 'third'] (oldest first), and on an empty list it waited "
            f"⏱ {seconds:.2f} s for the next item instead of giving up.")


ex_take = Exercise(
    "Exercise 3", _check_take, title="The consumer: take()",
    hints=["r.brpop(key, timeout=2) waits up to 2 s for an item at the right end, and answers (key, item), "
           "or None when nothing came.",
           "Loop n times; append the second element of what BRPOP answers; return the list."],
    solution="""\
def take(r, key, n):
    taken = []
    for _ in range(n):
        popped = r.brpop(key, timeout=2)
        if popped is None:
            break
        taken.append(popped[1])
    return taken""",
    reference=reference_take)


# --- Exercise 4: predict what survives a crash ------------------------------------------------------------------

q_crash = Choice(
    "Exercise 4",
    "Three jobs are pushed onto a list in the course's Redis, and Redis answers each LPUSH. Right after the last "
    "answer, someone runs kill -9 on redis-server, and starts it again. How many jobs are waiting now?",
    {"a": "None: Redis keeps its data in memory, and memory is gone with the process",
     "b": "All three: Redis wrote each one to its append-only file before it answered, and reads the file back "
          "on start-up",
     "c": "Maybe not the last ones: the file is synced to the disk only once a second"},
    "b", title="Predict the crash",
    explanations={
        "a": "It would be so without persistence. The course's Redis also writes every change to its "
             "append-only file, and reads that file back when it starts.",
        "b": "The course's Redis runs with appendfsync always: it writes and fsyncs each change before it "
             "answers, so every answered write is in the file, and a restarted Redis replays it. Let's see it "
             "happen.",
        "c": "That is appendfsync everysec, Redis's default: it answers before the change is on the disk and "
             "syncs the file once a second, so a crash can cost up to about two seconds of writes it had already "
             "answered. The course's Redis runs with appendfsync always: it writes and fsyncs each change before "
             "it answers.",
    },
    hints=["Does the course's Redis answer a write before or after that write is in its append-only file? "
           "And what does Redis do with the file when it starts?"])
