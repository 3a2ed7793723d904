"""02_redis's Exercise 2, checked (``support.checks.redis_basics`` declares it): what the learner typed in a terminal
into iredis (``support.lessons.redis_tour.TERMINAL_STEPS``), read back from the course's Redis: a key of their own with
an expiry, a list they pushed with LPUSH (the append-only file tells LPUSH from RPUSH). Without a terminal, the
reference lines are typed into iredis for them (``type_the_reference_lines``).
"""

from __future__ import annotations

import time
from typing import Any

import redis
from rq.utils import as_text

from ..exercises import Exercise, Incorrect, NotAttempted, describe
from ..lessons import redis_tour
from ._check_trouble import redis_needed
from ._redis_basics_probes import aof_tail, connection, reach

NAME_KEY, TODO_KEY, NAME_SECONDS = redis_tour.NAME_KEY, redis_tour.TODO_KEY, redis_tour.NAME_SECONDS
MIN_ITEMS = 3
TYPED_WAIT = 2.0  # seconds the check waits for the keys: a line typed a moment ago may still be on its way


def _typed_keys(r: redis.Redis) -> tuple[str, str]:
    """The Redis types of NAME_KEY and TODO_KEY ('none' when missing), once either is there or TYPED_WAIT is up."""
    deadline = time.monotonic() + TYPED_WAIT
    while True:
        kinds = as_text(r.type(NAME_KEY)), as_text(r.type(TODO_KEY))
        if kinds != ("none", "none") or time.monotonic() >= deadline:
            return kinds
        time.sleep(0.1)


LEFT_PUSHES = {"LPUSH", "LPUSHX"}
LIST_WRITES = ("PUSH", "LINSERT", "LSET")  # what puts items on a list (besides LMOVE and RPOPLPUSH onto it)


def _other_pushes(key: str) -> list[str]:
    """The commands other than LPUSH that put items on the list `key` since it was last created, as Redis's
    append-only file recorded them (DEL, UNLINK or its expiry start it anew); empty when the file cannot be read."""
    tail = aof_tail()
    others: list[str] = []
    for command in tail[0] if tail else []:
        verb = command[0].upper()
        if verb in ("DEL", "UNLINK") and key in command[1:]:
            others = []
        elif verb in ("LMOVE", "RPOPLPUSH") and command[2:3] == [key]:
            others.append(verb)
        elif command[1:2] == [key] and any(word in verb for word in LIST_WRITES) and verb not in LEFT_PUSHES:
            others.append(verb)
    return others


@redis_needed
def check_terminal() -> str:
    r = reach()
    name_kind, todo_kind = _typed_keys(r)
    if (name_kind, todo_kind) == ("none", "none"):
        raise NotAttempted(
            f"Redis holds no {NAME_KEY!r} and no {TODO_KEY!r} yet. Open a terminal (File > New > Terminal, then "
            "cd notebooks), type the lines printed above, one by one, then run this cell again. No terminal? "
            f"Run each command in a cell of its own after !{{cli}}, e.g. !{{cli}} SET {NAME_KEY} Ada"
        )
    if name_kind == "none":
        raise Incorrect(
            f"There is no key {NAME_KEY!r} (never set, or its time ran out): type SET {NAME_KEY} and a value of "
            "your own (your name, say), then EXPIRE it."
        )
    if name_kind != "string":
        raise Incorrect(f"{NAME_KEY!r} is a Redis {name_kind}, not a string: DEL {NAME_KEY}, then SET it.")
    pipe = r.pipeline(transaction=True)
    pipe.get(NAME_KEY)
    pipe.pttl(NAME_KEY)
    value, pttl = pipe.execute()
    if not value or not str(value).strip():
        raise Incorrect(f"{NAME_KEY!r} holds an empty string: SET it to a value of your own, such as your name.")
    if pttl == -1:
        raise Incorrect(
            f"{NAME_KEY!r} has no expiry (TTL -1): Redis would keep it forever. Type EXPIRE {NAME_KEY} {NAME_SECONDS}."
        )
    if pttl > NAME_SECONDS * 1000:
        raise Incorrect(
            f"{NAME_KEY!r} expires in {pttl / 1000:.0f} s; give it {NAME_SECONDS} s at most: EXPIRE {NAME_KEY} "
            f"{NAME_SECONDS} (EXPIRE counts seconds, PEXPIRE milliseconds)."
        )
    if todo_kind == "none":
        raise Incorrect(
            f"There is no list {TODO_KEY!r}: type LPUSH {TODO_KEY} and at least {MIN_ITEMS} items, one word each."
        )
    if todo_kind != "list":
        raise Incorrect(f"{TODO_KEY!r} is a Redis {todo_kind}, not a list: DEL {TODO_KEY}, then LPUSH onto it.")
    items = r.lrange(TODO_KEY, 0, -1)
    if len(items) < MIN_ITEMS:
        raise Incorrect(
            f"{TODO_KEY!r} holds {len(items)} item(s), {describe(items)}: push at least three "
            f"(LPUSH {TODO_KEY} one two three)."
        )
    others = _other_pushes(TODO_KEY)
    if others:
        raise Incorrect(
            f"You put items on {TODO_KEY!r} with {others[0]} (Redis's append-only file says so): push them with "
            f"LPUSH, which adds at the left end, as the queue of this notebook does. DEL {TODO_KEY}, then "
            f"LPUSH {TODO_KEY} your items."
        )
    return (
        f"Redis holds {NAME_KEY!r} = {value!r}, which it deletes by itself within {NAME_SECONDS} s, and "
        f"{TODO_KEY!r} with {len(items)} items, the last one pushed at the left: {describe(items)}."
    )


def type_the_reference_lines() -> list[str]:
    """Type the lines of TERMINAL_STEPS into the command line for the learner (from nothing); the list it made."""
    r = connection()
    r.delete(NAME_KEY, TODO_KEY)
    redis_tour.type_into_cli(redis_tour.terminal_steps())
    return [as_text(item) for item in r.lrange(TODO_KEY, 0, -1)]


class TypedExercise(Exercise):
    """Checked from what Redis holds, not from a value: ``check()`` takes nothing; ``use(items)`` goes on with the
    items read from Python when the check passes, else types the reference lines and reads theirs."""

    def accept(self, value: Any) -> Any:
        last = self.last_result
        if (last is not None and last.correct) or self.check().correct:
            return value
        raise Incorrect("not done yet")


HINTS = [
    "Open a terminal (File > New > Terminal). If its prompt does not end in notebooks, type cd notebooks first "
    "(or right-click the notebooks folder, Open in Terminal); then paste the first line printed above: it opens "
    "iredis on the course's Redis.",
    f"At the iredis prompt: SET {NAME_KEY} <your name>, EXPIRE {NAME_KEY} {NAME_SECONDS}, "
    f"LPUSH {TODO_KEY} <three words>, LRANGE {TODO_KEY} 0 -1, exit.",
]
FALLBACK_NOTE = (
    "Using the reference lines for Exercise 2: the notebook typed them into iredis for you "
    f"({NAME_KEY} is 'Ada', {TODO_KEY} holds three items), so that the next cells have something to read."
)
