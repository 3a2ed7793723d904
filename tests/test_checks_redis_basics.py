"""The checks of 02_redis against the course's real Redis. Each exercise's requirements, quoted from the notebook,
with a wrong answer that breaks each one and right answers written differently, are its Table
(tests/exercise_table.py); the tests below the tables check what a table does not."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from exercise_table import Requirement, Table, define, table_test
from redis.backoff import NoBackoff
from redis.retry import Retry

from support.checks import _redis_basics_probes
from support.checks._redis_basics_probes import connection
from support.checks.redis_basics import (
    SESSION_KEY,
    ex_send,
    ex_session,
    ex_take,
    ex_terminal,
    q_crash,
    reference_send,
    reference_take,
)
from support.exercises import ____
from support.exercises.results import Result
from support.lessons import redis_tour
from support.services import course, redis_server
from support.services.ports import free_port


def redis_up() -> None:
    course.up("redis", quiet=True)


# --- Exercise 1: a session that expires -----------------------------------------------------------------------


def submit_session(source: str) -> Result:
    """The cell: `r.delete("session:ada")` (given, to start from nothing), then the learner's line; then the check."""
    r = connection()
    r.delete(SESSION_KEY)
    exec(compile(source, "<answer session>", "exec"), {"r": r, "time": time, "____": ____})
    return ex_session.check()


SESSION = Table(
    exercise=ex_session,
    submit=submit_session,
    setup=redis_up,
    equivalent={
        "L1 Twice call": "setting the key twice in a row leaves what setting it once does: 'logged-in', deleted 60 s "
        "after the (second) write, a few microseconds later",
    },
    requirements=[
        Requirement('Store the value "logged-in"', "r.set('session:ada', 'logged in', ex=60)\n", "'logged-in'"),
        Requirement('under the key "session:ada"', "r.set('session:Ada', 'logged-in', ex=60)\n", "'session:ada'"),
        Requirement(
            'under the key "session:ada"', "r.rpush('session:ada', 'logged-in')\n", "store the value 'logged-in'"
        ),
        Requirement(
            "so that Redis deletes it after **60 seconds**", "r.set('session:ada', 'logged-in')\n", "60 seconds"
        ),
        Requirement(
            "so that Redis deletes it after **60 seconds**", "r.set('session:ada', 'logged-in', ex=6)\n", "60 seconds"
        ),
        Requirement(
            "so that Redis deletes it after **60 seconds**", "r.set('session:ada', 'logged-in', ex=600)\n", "60 seconds"
        ),
        Requirement(  # milliseconds for seconds: gone before the check looks
            "so that Redis deletes it after **60 seconds**", "r.set('session:ada', 'logged-in', px=60)\n", "60 seconds"
        ),
    ],
    right=[
        "r.setex('session:ada', 60, 'logged-in')\n",
        "r.set('session:ada', 'logged-in', px=60_000)\n",
        "from datetime import timedelta\nr.set('session:ada', 'logged-in', ex=timedelta(minutes=1))\n",
        "r.set('session:ada', 'logged-in')\nr.expire('session:ada', 60)\n",
        # a look at the key before the check: GET resets its idle time, and the check must not mind
        "r.set('session:ada', 'logged-in', ex=60)\ntime.sleep(2.2)\nprint(r.get('session:ada'))\n",
    ],
)


def test_session_blank_is_not_attempted(shared_course: Path) -> None:
    result = submit_session("____\n")
    assert result.kind == "not_attempted"
    assert "there is no key 'session:ada'" in result.message


@pytest.mark.slow
def test_session_checked_again_later_still_passes(shared_course: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60)
    assert ex_session.check().correct
    r.set("demo:greeting", "hello")  # another write: the session's is no longer the file's last
    time.sleep(2.2)
    r.get(SESSION_KEY)
    result = ex_session.check()
    assert result.correct, result


def test_session_that_cannot_be_timed_says_so(shared_course: Path) -> None:
    r = connection()
    r.set(SESSION_KEY, "logged-in", ex=60)
    r.set("demo:greeting", "hello")  # written after it: the file does not tell when the session was
    result = ex_session.check()  # idle time 0 and 60 s left: still a lifetime of 60 s at least, so it passes
    assert result.correct, result
    r.set(SESSION_KEY, "logged-in", ex=30)
    r.set("demo:greeting", "hello")
    result = ex_session.check()
    assert result.kind == "not_attempted" and "The check cannot tell when your cell set 'session:ada'" in result.message


def test_session_that_expired_before_the_check_says_so(shared_course: Path) -> None:
    connection().set(SESSION_KEY, "logged-in", ex=1)  # stands for ex=60 and a check run a minute later
    time.sleep(1.3)
    result = ex_session.check()
    assert result.kind == "incorrect", result
    assert "'session:ada' has expired" in result.message and "run your cell again, then the check" in result.message


# --- Exercise 2: by hand, in a terminal ----------------------------------------------------------------------
# The lines go through the real iredis (its standard input a pipe, as the instructor edition runs them).

NAME, TODO = redis_tour.NAME_KEY, redis_tour.TODO_KEY


def submit_terminal(source: str) -> Result:
    """Type the answer's lines as a learner does in a terminal in notebooks/, from nothing (the cell before deletes
    both keys): the first line opens iredis (its paths as the notebook prints them, turned into this state folder's:
    the same words, each mapped), the others go into it. A first line that does not open iredis leaves nothing in
    Redis, as in a terminal, where the shell would answer it with an error. Then the check."""
    opener, *lines = [line for line in source.splitlines() if line.strip()] or [""]
    here = dict(zip(redis_tour.TERMINAL_STEPS[0].split(), redis_tour.terminal_steps()[0].split()))
    connection().delete(NAME, TODO)
    try:
        redis_tour.type_into_cli([" ".join(here.get(word, word) for word in opener.split()), *lines])
    except (OSError, ValueError, redis_server.ServiceError):
        pass  # the terminal showed an error; nothing reached Redis
    return ex_terminal.check()


def typed(*lines: str) -> str:
    """What a learner types: iredis opened as the notebook prints it, their lines, exit."""
    return "\n".join([redis_tour.TERMINAL_STEPS[0], *lines, "exit"]) + "\n"


READ_ONLY = "TTL and LRANGE only read: this line, changed or gone, leaves Redis as it was, and the text asks to look"
LEAVE = "exit only leaves iredis (typed twice, it also closes the terminal's shell): Redis holds what it held"
TERMINAL = Table(
    exercise=ex_terminal,
    submit=submit_terminal,
    setup=redis_up,
    equivalent={
        "L1 Twice line": "the opening line typed again inside iredis is an unknown command: iredis prints an error, "
        "nothing is written",
        "L2 Twice line": "SET of the same value twice leaves what one SET does",
        "L3 Twice line": "EXPIRE 600 twice gives the same 600 s from the second; the text asks for 600 at most",
        "L3 Number 600->599": "the text asks for a lifetime of 600 s at most: 599 is one",
        "L5 Twice line": "the same three items pushed twice with LPUSH: six items, at least three, all with LPUSH, "
        "as the text asks (their words are the learner's choice)",
        "L5 Swap words 3,4": "the items are words of the learner's choosing, in any order",
        "L5 Swap words 4,5": "the items are words of the learner's choosing, in any order",
        **dict.fromkeys(["L4 Delete line", "L4 Twice line", "L4 Drop word 'TTL'", "L4 Swap words 1,2"], READ_ONLY),
        "L4 Drop word 'tour:name'": READ_ONLY,
        **dict.fromkeys(
            [
                "L6 Delete line",
                "L6 Twice line",
                "L6 Drop word 'LRANGE'",
                "L6 Swap words 1,2",
                "L6 Drop word 'tour:todo'",
                "L6 Swap words 2,3",
                "L6 Drop word '0'",
                "L6 Swap words 3,4",
                "L6 Number 0->1",
                "L6 Number 0->-1",
                "L6 Drop word '-1'",
            ],
            READ_ONLY,
        ),
        **dict.fromkeys(["L7 Delete line", "L7 Twice line", "L7 Drop word 'exit'"], LEAVE),
    },
    requirements=[
        Requirement(
            "SET tour:name Ada stores a string under the key tour:name",
            typed(f"LPUSH {NAME} Ada", f"LPUSH {TODO} a b c"),
            "not a string",
        ),
        Requirement(
            "SET tour:name Ada stores a string under the key tour:name",
            typed(f"LPUSH {TODO} a b c"),
            f"There is no key '{NAME}'",
        ),
        Requirement(
            "a value of your own",
            typed(f'SET {NAME} ""', f"EXPIRE {NAME} 600", f"LPUSH {TODO} a b c"),
            "a value of your own",
        ),
        Requirement(
            "EXPIRE tour:name 600 gives the key a lifetime of 600 seconds",
            typed(f"SET {NAME} Ada", f"LPUSH {TODO} a b c"),
            "has no expiry",
        ),
        Requirement(
            "give it 600 at most",
            typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 6000", f"LPUSH {TODO} a b c"),
            "600 s at most",
        ),
        Requirement(
            "pushes the items onto the list tour:todo",
            typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"SET {TODO} a"),
            "not a list",
        ),
        Requirement(
            "push at least three",
            typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"LPUSH {TODO} a b"),
            "push at least three",
        ),
        Requirement(
            "with LPUSH",
            typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"RPUSH {TODO} a b c"),
            "push them with LPUSH",
        ),
        Requirement(  # the last push a left one does not make the others so
            "with LPUSH",
            typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"RPUSH {TODO} a b c", f"LPUSH {TODO} d"),
            "push them with LPUSH",
        ),
    ],
    right=[
        # a quoted value, the expiry given with SET, items pushed one by one
        typed(f'SET {NAME} "Grace Hopper" EX 300', f"LPUSH {TODO} one", f"LPUSH {TODO} two", f"LPUSH {TODO} three"),
        # lower case commands, EXPIRE before the push, a shorter lifetime, five items at once
        typed(f"set {NAME} Linus", f"expire {NAME} 60", f"lpush {TODO} a b c d e"),
        # a list started with RPUSH, deleted, and pushed again with LPUSH: the check reads the list as it is now
        typed(f"SETEX {NAME} 600 Ada", f"RPUSH {TODO} x", f"DEL {TODO}", f"LPUSH {TODO} x y z"),
    ],
)


def test_terminal_reference_lines_pass_and_iredis_answers(shared_course: Path) -> None:
    answers = redis_tour.type_into_cli(redis_tour.terminal_steps())
    assert answers.splitlines()[:3] == ["OK", "1", "600"] and answers.endswith("Goodbye!")
    result = ex_terminal.check()
    assert result.kind == "correct", result
    assert "'tour:name' = 'Ada'" in result.message and "with 3 items" in result.message


def test_terminal_nothing_typed_is_not_attempted_and_says_what_to_type(shared_course: Path) -> None:
    connection().delete(NAME, TODO)
    started = time.perf_counter()
    result = ex_terminal.check()
    assert result.kind == "not_attempted"
    assert "File > New > Terminal" in result.message and "!{cli} SET tour:name Ada" in result.message
    assert time.perf_counter() - started < 4  # it waits a moment for a line on its way, no more


def test_terminal_use_goes_on_with_what_was_typed_or_types_the_reference(shared_course: Path) -> None:
    submit_terminal(typed(f"SET {NAME} Ada", f"EXPIRE {NAME} 600", f"LPUSH {TODO} x y z"))
    typed_items = connection().lrange(TODO, 0, -1)
    assert ex_terminal.use(typed_items, quiet=True) == ["z", "y", "x"]
    connection().delete(NAME, TODO)
    ex_terminal.check()  # not attempted
    assert ex_terminal.use([], quiet=True) == ["watch-it-run", "start-a-worker", "write-a-job"]
    assert connection().get(NAME) == "Ada"


def test_terminal_steps_open_iredis_from_notebooks_and_leave_it() -> None:
    steps = redis_tour.TERMINAL_STEPS
    assert steps[0] == "../.venv/bin/iredis --iredisrc ../.course/iredisrc -d course" and steps[-1] == "exit"
    assert any(line.startswith(f"LPUSH {TODO} ") for line in steps) and f"EXPIRE {NAME} 600" in steps


# --- Exercise 3: send -----------------------------------------------------------------------------------------


def submit_send(source: str) -> Result:
    return ex_send.check(define(source, "send"))


SEND = Table(
    exercise=ex_send,
    submit=submit_send,
    setup=redis_up,
    requirements=[
        Requirement(
            "it puts each item of the list items onto the Redis list key",
            "def send(r, key, items):\n    for item in items:\n        r.lpush('my-queue', item)\n",
            "onto the Redis list key",
        ),
        Requirement(
            "it puts each item of the list items onto the Redis list key",
            "def send(r, key, items):\n    r.delete(key)\n    for item in items:\n        r.lpush(key, item)\n",
            "onto the Redis list key",
        ),
        Requirement(
            "it puts each item of the list items onto the Redis list key",
            "def send(r, key, items):\n    r.lpush(key, 'first', 'second', 'third')\n",
            "each item of the list items",
        ),
        Requirement(
            "it puts each item of the list items onto the Redis list key",
            "def send(r, key, items):\n    r.lpush(key, ' '.join(items))\n",
            "each item of the list items",
        ),
        Requirement(
            "it puts each item of the list items onto the Redis list key",
            "def send(r, key, items):\n    for item in items + items:\n        r.lpush(key, item)\n",
            "each item of the list items once",
        ),
        Requirement(
            "with LPUSH",
            "def send(r, key, items):\n    for item in items:\n        r.rpush(key, item)\n",
            "with LPUSH",
        ),
        Requirement(  # the same list on an empty key; a queue that already holds work shows the difference
            "with LPUSH",
            "def send(r, key, items):\n    r.rpush(key, *reversed(items))\n",
            "with LPUSH",
        ),
        Requirement(
            "in the order given, so the first item is the oldest",
            "def send(r, key, items):\n    for item in reversed(items):\n        r.lpush(key, item)\n",
            "in the order given, so the first item is the oldest",
        ),
        Requirement(
            "It returns nothing",
            "def send(r, key, items):\n    return r.lpush(key, *items)\n",
            "it returns nothing",
        ),
        Requirement(
            "does not change items",
            "def send(r, key, items):\n    while items:\n        r.lpush(key, items.pop(0))\n",
            "it does not change items",
        ),
    ],
    right=[
        "def send(conn, name, things):\n    conn.lpush(name, *things)\n",
        "def send(r, key, items):\n    pipe = r.pipeline()\n    for item in items:\n        pipe.lpush(key, item)\n"
        "    pipe.execute()\n",
        "def send(r, key, items):\n    for i in range(len(items)):\n        r.execute_command('LPUSH', key, items[i])\n"
        "    return None\n",
    ],
)


def test_send_leaves_nothing_behind_and_a_blank_is_not_attempted(shared_course: Path) -> None:
    r = connection()
    keys_before = set(r.keys("check:*"))
    assert ex_send.check(reference_send).correct
    assert set(r.keys("check:*")) == keys_before
    assert submit_send("def send(r, key, items):\n    ____\n").kind == "not_attempted"


def test_send_without_redis_says_so_before_running_the_learners_code(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def send(r, key, items):
        calls.append(key)

    nowhere = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(_redis_basics_probes, "connection", lambda retry=True: nowhere)
    result = ex_send.check(send)
    assert result.kind == "incorrect" and result.message.startswith("The check could not talk to the course's Redis")
    assert "ConnectionError" in result.message and calls == []


# --- Exercise 4: take -----------------------------------------------------------------------------------------


def submit_take(source: str) -> Result:
    return ex_take.check(define(source, "take"))


def take_with(loop: str) -> str:
    """A take() whose loop body (after `popped = r.brpop(key, timeout=2)`) is `loop`."""
    body = "".join(f"        {line}\n" for line in loop.strip("\n").splitlines())
    return (
        "def take(r, key, n):\n    taken = []\n    for _ in range(n):\n"
        "        popped = r.brpop(key, timeout=2)\n" + body + "    return taken\n"
    )


TAKE = Table(
    exercise=ex_take,
    submit=submit_take,
    setup=redis_up,
    requirements=[
        Requirement(
            "it takes n items",
            "def take(r, key, n):\n    taken = []\n    while (popped := r.brpop(key, timeout=2)) is not None:\n"
            "        taken.append(popped[1])\n    return taken\n",
            "it takes n items, no more",
        ),
        Requirement(
            "off the right end of the list key",
            "def take(r, key, n):\n    taken = [r.blpop(key, timeout=2) for _ in range(n)]\n"
            "    return [popped[1] for popped in reversed(taken) if popped]\n",
            "off the right end",
        ),
        Requirement(
            "off the right end of the list key",
            "def take(r, key, n):\n    return r.lrange(key, -n, -1)[::-1]\n",
            "take the items off the list",
        ),
        Requirement(
            "with r.brpop(key, timeout=2)",
            "def take(r, key, n):\n    taken = []\n    for _ in range(n):\n        item = r.rpop(key)\n"
            "        if item is None:\n            break\n        taken.append(item)\n    return taken\n",
            "r.brpop(key, timeout=2)",
        ),
        Requirement(
            "with r.brpop(key, timeout=2)",
            take_with("if popped is None:\n    break\ntaken.append(popped[1])").replace("timeout=2", "timeout=1"),
            "r.brpop(key, timeout=2)",
        ),
        Requirement(
            "with r.brpop(key, timeout=2)",
            take_with("if popped is None:\n    break\ntaken.append(popped[1])").replace("timeout=2", "timeout=3"),
            "r.brpop(key, timeout=2)",
        ),
        Requirement(
            "returns them in a Python list",
            take_with("if popped is None:\n    break\ntaken.append(popped[1])").replace(
                "    return taken", "    return tuple(taken)"
            ),
            "in a Python list",
        ),
        Requirement(
            "oldest first",
            take_with("if popped is None:\n    break\ntaken.insert(0, popped[1])"),
            "oldest first",
        ),
        Requirement(
            "BRPOP answers a pair (list name, item)",
            take_with("if popped is None:\n    break\ntaken.append(popped)"),
            "a pair (list name, item)",
        ),
        Requirement(
            "or None if nothing came within the timeout: then stop early",
            take_with("if popped is not None:\n    taken.append(popped[1])"),
            "stop early",
        ),
        Requirement(
            "or None if nothing came within the timeout: then stop early",
            take_with("taken.append(popped[1])"),
            "stop early",
        ),
    ],
    right=[
        "def take(conn, name, count):\n    items = []\n"
        "    while len(items) < count and (popped := conn.brpop([name], 2)):\n"
        "        _, item = popped\n        items.append(item)\n    return items\n",
        "def take(r, key, n):\n    out = []\n    while n > 0:\n        got = r.brpop(key, timeout=2)\n"
        "        if not got:\n            return out\n        out.append(got[1])\n        n -= 1\n    return out\n",
    ],
)


def test_take_that_never_returns_is_stopped(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redis_basics_probes, "TAKE_TIMEOUT", 1.0)
    finished = threading.Event()

    def take(r, key, n):
        try:
            while True:
                r.brpop(key, timeout=0)  # blocks for ever
        finally:
            finished.set()

    started = time.perf_counter()
    result = ex_take.check(take)
    assert result.kind == "incorrect" and "did not return within 1 s" in result.message
    assert time.perf_counter() - started < 5
    assert finished.wait(3), "the learner's take should have been cut off"


def test_take_blank_is_not_attempted(shared_course: Path) -> None:
    def take(r, key, n):
        ____

    assert ex_take.check(take).kind == "not_attempted"
    assert ex_take.use(take, quiet=True) is reference_take


# --- Exercise 5: predict the crash (a Choice: its table is the generic one of tests/test_exercise_tables.py) ----


def test_crash_prediction_right_answer() -> None:
    assert q_crash.check("b").correct
    assert q_crash.check("B").correct
    assert "fsyncs each change before it answers" in q_crash.check("b").message


def test_crash_prediction_everysec_misconception_is_explained() -> None:
    result = q_crash.check("c")
    assert result.kind == "incorrect"
    assert "appendfsync everysec, the default once the append-only file is switched on" in result.message
    assert "Redis's default" not in result.message  # a stock Redis has no append-only file: appendonly no
    assert "runs with appendfsync always" in result.message


def test_crash_prediction_without_persistence_is_incorrect() -> None:
    result = q_crash.check("a")
    assert result.kind == "incorrect"
    assert "reads that file back" in result.message


def test_crash_prediction_blank_is_not_attempted() -> None:
    assert q_crash.check(____).kind == "not_attempted"


@pytest.mark.parametrize("answer", ["b", "B", " b ", "b)", "(b)", ["b"], "b, b"])
def test_crash_prediction_letter_read_leniently(answer) -> None:
    assert q_crash.check(answer).correct


@pytest.mark.parametrize(
    "answer, message",
    [
        ("z", "You chose 'z'; pick from a, b, c."),
        ("bb", "You chose 'bb'; pick from a, b, c."),
        (2, "You chose 2; pick from a, b, c."),
        ("a b", "You chose a, b: this question has one right answer. Pick one letter."),
    ],
)
def test_crash_prediction_unknown_or_several_letters_are_incorrect(answer, message) -> None:
    result = q_crash.check(answer)
    assert result.kind == "incorrect" and result.message == message


@pytest.mark.parametrize("answer", ["", "   ", []])
def test_crash_prediction_empty_answer_is_not_attempted(answer) -> None:
    result = q_crash.check(answer)
    assert result.kind == "not_attempted" and "your answer is empty" in result.message


TABLES = [SESSION, TERMINAL, SEND, TAKE]
test_requirements_table = table_test(TABLES)
