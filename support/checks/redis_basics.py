"""Exercises of 02_redis: a key that expires, commands typed by hand in a terminal, the two halves of a hand-made
queue, and what survives a crash.

The checks talk to the course's real Redis (started if needed) with ``decode_responses=True``, as the notebook does;
how they read it (the client, scratch keys, a take() checked under a deadline, a key's life) is in
``_redis_basics_probes``; what was typed in a terminal, in ``_redis_basics_terminal``.
"""

from __future__ import annotations

from typing import Any

import redis
from rq.utils import as_text

from ..exercises import Choice, Exercise, Incorrect, NotAttempted, describe, require_function
from ..lessons import redis_tour
from ._check_trouble import redis_needed
from ._redis_basics_probes import (
    ITEMS,
    SESSION_KEY,
    SESSION_SECONDS,
    SESSION_VALUE,
    SHORT_BY,
    _lifetime,
    _sent,
    check_take,
    expired_ago,
    last_set_of,
    reach,
)
from ._redis_basics_terminal import FALLBACK_NOTE, HINTS, TypedExercise, check_terminal, type_the_reference_lines

# --- Exercise 1: a session that expires by itself ---------------------------------------------------------------


@redis_needed
def _check_session() -> str:
    r = reach()
    pipe = r.pipeline(transaction=True)
    pipe.time()
    pipe.object("idletime", SESSION_KEY)  # before the GET below, which resets it
    pipe.pttl(SESSION_KEY)
    pipe.get(SESSION_KEY)
    (seconds, micros), idle, pttl, value = pipe.execute(raise_on_error=False)
    now_ms = seconds * 1000 + micros // 1000
    if value is None:
        ago = expired_ago(SESSION_KEY, now_ms)
        if ago is not None:
            raise Incorrect(
                f"{SESSION_KEY!r} has expired ({ago:.0f} s ago), so there is nothing left to check. If your cell "
                f"ran just now, it gave the key far less than {SESSION_SECONDS} seconds (ex counts seconds, px "
                "milliseconds); else run your cell again, then the check."
            )
        elsewhere = last_set_of(SESSION_VALUE, SESSION_KEY)
        if elsewhere is not None and r.exists(elsewhere):
            raise Incorrect(
                f"There is no key {SESSION_KEY!r}, but your cell stored {SESSION_VALUE!r} under the key "
                f"{elsewhere!r}: store it under the key {SESSION_KEY!r}, spelt exactly so."
            )
        raise NotAttempted(
            f"there is no key {SESSION_KEY!r} in Redis yet: write the command that sets it, run "
            "that cell, then run the check again."
        )
    if isinstance(value, Exception):
        raise Incorrect(
            f"{SESSION_KEY!r} is a Redis {as_text(r.type(SESSION_KEY))}, not a string: store the value "
            f"{SESSION_VALUE!r} with r.set(...)."
        )
    if value != SESSION_VALUE:
        raise Incorrect(f"{SESSION_KEY!r} holds {describe(value)}; store the value {SESSION_VALUE!r}.")
    if pttl == -1:
        raise Incorrect(
            f"{SESSION_KEY!r} has no expiry, so it would stay in Redis forever (TTL -1): Redis should delete it "
            f"after {SESSION_SECONDS} seconds. Pass ex={SESSION_SECONDS} to r.set(...), or call r.expire(...) "
            "after it."
        )
    if round(pttl / 1000) > SESSION_SECONDS:
        raise Incorrect(
            f"{SESSION_KEY!r} expires in {pttl / 1000:.0f} s: Redis should delete it after {SESSION_SECONDS} "
            f"seconds (ex={SESSION_SECONDS} counts seconds, px counts milliseconds)."
        )
    found = _lifetime(r, now_ms, pttl, idle if isinstance(idle, int) else 0)
    if found is None:
        raise NotAttempted(
            f"The check cannot tell when your cell set {SESSION_KEY!r}: Redis has been written to since, and the key "
            f"read since, and {pttl / 1000:.0f} s are left. Run your cell again, then this check right after it."
        )
    lifetime, how = found
    if lifetime < SESSION_SECONDS - SHORT_BY[how]:
        raise Incorrect(
            f"Your cell gave {SESSION_KEY!r} about {lifetime:.1f} s to live ({pttl / 1000:.0f} s are left now): "
            f"Redis should delete it after {SESSION_SECONDS} seconds."
        )
    if how != "at-least" and lifetime > SESSION_SECONDS + 0.5:
        raise Incorrect(
            f"Your cell gave {SESSION_KEY!r} about {lifetime:.1f} s to live: Redis should delete it after "
            f"{SESSION_SECONDS} seconds."
        )
    return f"{SESSION_KEY!r} holds {SESSION_VALUE!r}, and Redis will delete it by itself within {SESSION_SECONDS} s."


ex_session = Exercise(
    "Exercise 1",
    _check_session,
    title="A session that expires by itself",
    hints=[
        "r.set(key, value) stores a value; one more keyword argument gives it a lifetime in seconds.",
        f"r.set({SESSION_KEY!r}, {SESSION_VALUE!r}, ex=...)",
    ],
    solution=f"r.set({SESSION_KEY!r}, {SESSION_VALUE!r}, ex={SESSION_SECONDS})",
)


# --- Exercise 2: by hand, in a terminal (checked in _redis_basics_terminal) ---------------------------------------

ex_terminal = TypedExercise(
    "Exercise 2",
    check_terminal,
    title="By hand, in a terminal",
    hints=HINTS,
    solution="\n".join(redis_tour.TERMINAL_STEPS),
    fallback=type_the_reference_lines,
    fallback_note=FALLBACK_NOTE,
)


# --- Exercise 3: the producer's half, send() --------------------------------------------------------------------


def reference_send(r: redis.Redis, key: str, items: list[str]) -> None:
    """Put each item on the left end of the list `key`, oldest first."""
    for item in items:
        r.lpush(key, item)


WAITING = "waiting"  # an item already on the list when send() is called: work a producer sent earlier
MORE = ["fourth", "fifth"]  # what the second call sends, after WAITING


@redis_needed
def _check_send(send: Any) -> str:
    require_function(send, "send", ("r", "key", "items"))
    r = reach()
    first = _sent(send, r, [], ITEMS)  # onto an empty list
    if first["kind"] == "none":
        raise Incorrect(
            "After send(r, key, ['first', 'second', 'third']) there is nothing at key in Redis: put each item "
            "onto the Redis list key, the one named by the argument key, with r.lpush(key, item)."
        )
    if first["stored"] is None:
        raise Incorrect(
            f"send made key a Redis {first['kind']}, not a list: put each item onto it with r.lpush(key, item)."
        )
    second = _sent(send, r, [WAITING], MORE)  # onto a list where an item sent earlier waits
    stored, later = first["stored"], second["stored"]
    if later is not None and later[-1:] == [WAITING] and later[:-1] == MORE:
        raise Incorrect(
            f"The list holds {describe(stored)} after send(r, key, ['first', 'second', 'third']): you pushed the "
            "items at the left end in reverse. Push them in the order given, so the first item is the oldest, "
            "at the right end: ['third', 'second', 'first']."
        )
    if later is not None and WAITING in later and later[-1] != WAITING:
        raise Incorrect(
            f"On a list where {WAITING!r} was already waiting, send(r, key, {MORE}) made {describe(later)}: the new "
            "items went in at the right end, where BRPOP takes from, so they would be taken before the older "
            "one. Add them at the left end, with LPUSH."
        )
    if later is None or WAITING not in later:
        raise Incorrect(
            f"On a list where {WAITING!r} was already waiting, send(r, key, {MORE}) left {describe(later)}: the "
            f"older item is gone. Put each item onto the Redis list key (LPUSH adds to it), never replace it."
        )
    if stored == ITEMS[::-1] and later == [*MORE[::-1], WAITING]:
        if first["returned"] is not None or second["returned"] is not None:
            returned = first["returned"] if first["returned"] is not None else second["returned"]
            raise Incorrect(
                f"send returned {describe(returned)}: it returns nothing. A producer hands the work over and goes "
                "on; no answer comes back."
            )
        if first["changed"] or second["changed"]:
            raise Incorrect(
                "send emptied or changed the list items it was given: it does not change items (the caller may "
                "still need it). Read the items; do not pop or reverse them in place."
            )
        return (
            "The list holds ['third', 'second', 'first']: the oldest item waits at the right end, where BRPOP "
            f"takes from; and sent onto a list where {WAITING!r} waited, the new items went in behind it."
        )
    if len(stored) == 1:
        raise Incorrect(
            f"The list holds one item, {describe(stored[0])}: put each item of the list items onto it, one by one "
            "(a loop, or r.lpush(key, *items))."
        )
    if stored == ITEMS[::-1] or later[:-1] == ITEMS[::-1]:
        raise Incorrect(
            f"send(r, key, {MORE}) made the list {describe(later)}: it pushed ['first', 'second', 'third'] "
            "again, whatever it was given. Put each item of the list items, the argument, onto the list."
        )
    raise Incorrect(
        f"After send(r, key, ['first', 'second', 'third']) the list holds {describe(stored)}; it should hold each "
        "item of the list items once, newest at the left: ['third', 'second', 'first']."
    )


ex_send = Exercise(
    "Exercise 3",
    _check_send,
    title="The producer: send()",
    hints=[
        "r.lpush(key, item) adds one item at the left end of the list key.",
        "Loop over items and LPUSH each one; the function needs no return value.",
    ],
    solution="""\
def send(r, key, items):
    for item in items:
        r.lpush(key, item)""",
    reference=reference_send,
)


# --- Exercise 4: the consumer's half, take() --------------------------------------------------------------------


def reference_take(r: redis.Redis, key: str, n: int) -> list[str]:
    """Take n items off the right end of the list `key`, waiting (up to 2 s each) for items that are not there yet."""
    taken = []
    for _ in range(n):
        popped = r.brpop(key, timeout=2)
        if popped is None:
            break
        taken.append(as_text(popped[1]))
    return taken


ex_take = Exercise(
    "Exercise 4",
    check_take,
    title="The consumer: take()",
    hints=[
        "r.brpop(key, timeout=2) waits up to 2 s for an item at the right end, and answers (key, item), "
        "or None when nothing came.",
        "Loop n times; append the second element of what BRPOP answers; return the list.",
    ],
    solution="""\
def take(r, key, n):
    taken = []
    for _ in range(n):
        popped = r.brpop(key, timeout=2)
        if popped is None:
            break
        taken.append(popped[1])
    return taken""",
    reference=reference_take,
)


# --- Exercise 5: predict what survives a crash ------------------------------------------------------------------

q_crash = Choice(
    "Exercise 5",
    "Three jobs are pushed onto a list in the course's Redis, and Redis answers each LPUSH. Right after the last "
    "answer, someone runs kill -9 on redis-server, and starts it again. How many jobs are waiting now?",
    {
        "a": "None: Redis keeps its data in memory, and memory is gone with the process",
        "b": "All three: Redis wrote each one to its append-only file before it answered, and reads the file back "
        "on start-up",
        "c": "Maybe not the last ones: the file is synced to the disk only once a second",
    },
    "b",
    title="Predict the crash",
    explanations={
        "a": "It would be so without an append-only file: a stock Redis has none (appendonly no) and keeps only "
        "snapshots, so a kill -9 loses every write since the last one (this notebook shows it further down). The "
        "course's Redis writes every change to its append-only file, and reads that file back when it starts.",
        "b": "The course's Redis runs with appendfsync always: it writes and fsyncs each change before it "
        "answers, so every answered write is in the file, and a restarted Redis replays it. Let's see it "
        "happen.",
        "c": "Syncing once a second (appendfsync everysec, the default once the append-only file is switched on) "
        "matters when the machine loses power: what the operating system had not yet put on the disk is gone. "
        "kill -9 ends only the server, and what it wrote to its file before answering stays with the operating "
        "system (under everysec too, unless a slow sync had made Redis hold writes back). And the course's Redis "
        "runs with appendfsync always: it writes and fsyncs each change before it answers.",
    },
    hints=[
        "Does the course's Redis answer a write before or after that write is in its append-only file? "
        "And what does Redis do with the file when it starts?"
    ],
)
