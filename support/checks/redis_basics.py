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

from ..exercises import Choice, Exercise, Incorrect, NotAttempted, call, describe, require_function
from ..lessons import redis_tour
from ._redis_basics_probes import ITEMS, check_take, connection, expired_ago, scratch_key, written_for
from ._redis_basics_terminal import FALLBACK_NOTE, HINTS, TypedExercise, check_terminal, type_the_reference_lines

# --- Exercise 1: a session that expires by itself ---------------------------------------------------------------

SESSION_KEY, SESSION_VALUE, SESSION_SECONDS = "session:ada", "logged-in", 60
SEEN_KEY = "check:seen:session:ada"  # when a check first saw this very write of the key (its own GET resets idle)
SLACK = 1.5  # seconds: Redis counts a key's idle time in whole seconds


def _check_session() -> str:
    r = connection()
    pipe = r.pipeline(transaction=True)
    pipe.time()
    pipe.object("idletime", SESSION_KEY)
    pipe.pttl(SESSION_KEY)
    pipe.get(SESSION_KEY)
    (seconds, micros), idle, pttl, value = pipe.execute(raise_on_error=False)
    now_ms = seconds * 1000 + micros // 1000
    if value is None:
        ago = expired_ago(r, SESSION_KEY, now_ms)
        if ago is not None:
            raise Incorrect(
                f"{SESSION_KEY!r} has expired ({ago:.0f} s ago), so there is nothing left to check: "
                "run your cell again, then the check."
            )
        raise NotAttempted(
            f"there is no key {SESSION_KEY!r} in Redis yet: write the command that sets it, run "
            "that cell, then run the check again."
        )
    if isinstance(value, Exception):
        raise Incorrect(f"{SESSION_KEY!r} is a Redis {as_text(r.type(SESSION_KEY))}, not a string: use r.set(...).")
    if value != SESSION_VALUE:
        raise Incorrect(f"{SESSION_KEY!r} holds {describe(value)}; it should hold {SESSION_VALUE!r}.")
    if pttl == -1:
        raise Incorrect(
            f"{SESSION_KEY!r} has no expiry, so it would stay in Redis forever (TTL -1). "
            f"Pass ex={SESSION_SECONDS} to r.set(...), or call r.expire(...) after it."
        )
    ttl = round(pttl / 1000)
    if ttl > SESSION_SECONDS:
        raise Incorrect(
            f"{SESSION_KEY!r} expires in {ttl} s; make it {SESSION_SECONDS} s (ex={SESSION_SECONDS} "
            "counts seconds, px counts milliseconds)."
        )
    lifetime = written_for(r, SEEN_KEY, now_ms, pttl, idle if isinstance(idle, int) else 0)
    if lifetime < SESSION_SECONDS - SLACK:
        raise Incorrect(
            f"Your cell gave {SESSION_KEY!r} about {lifetime:.0f} s to live ({pttl / 1000:.0f} s are "
            f"left now): Redis should delete it {SESSION_SECONDS} s after you set it."
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


def _check_send(send: Any) -> str:
    require_function(send, "send", ("r", "key", "items"))
    r, key = connection(), scratch_key("send")
    try:
        returned = call(send, r, key, list(ITEMS))
        kind, stored = as_text(r.type(key)), None
        if kind == "list":
            stored = r.lrange(key, 0, -1)
    finally:
        r.delete(key)
    if kind == "none":
        raise Incorrect(
            "After send(r, key, ['first', 'second', 'third']) there is nothing at key in Redis. "
            "Push onto the list named by the argument key, with r.lpush(key, item)."
        )
    if stored is None:
        raise Incorrect(f"send made key a Redis {kind}, not a list: use r.lpush(key, item).")
    if stored == ITEMS:
        raise Incorrect(
            "The list holds ['first', 'second', 'third'] from left to right: you added at the right "
            "end (RPUSH). The consumer takes from the right with BRPOP, so it would take 'third' "
            "first. Add at the left end with LPUSH."
        )
    if stored == ITEMS[::-1] and returned is not None:
        raise Incorrect(
            f"send returned {describe(returned)}: it should return nothing. A producer hands the work "
            "over and goes on; no answer comes back."
        )
    if stored == ITEMS[::-1]:
        return (
            "The list holds ['third', 'second', 'first']: the oldest item waits at the right end, where "
            "BRPOP takes from."
        )
    if len(stored) == 1:
        raise Incorrect(
            f"The list holds one item, {describe(stored[0])}: push each item on its own "
            "(a loop, or r.lpush(key, *items))."
        )
    raise Incorrect(
        f"The list holds {describe(stored)}; it should hold the three items, newest at the left: "
        "['third', 'second', 'first']."
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
