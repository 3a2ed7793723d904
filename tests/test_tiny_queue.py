"""support.tiny_queue: the hand-made queue's consumer, run as a real process against the course's real Redis."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from support import tiny_queue
from support.checks._redis_basics_probes import connection
from support.checks.redis_basics import reference_send
from support.services import redis_auth, redis_server


def _consumer(url: str, key: str, count: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "support.tiny_queue", url, key, str(count), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_consumer_blocks_until_work_comes_then_takes_it_oldest_first(shared_course: Path) -> None:
    r, url = connection(), redis_server.address()  # as 02 gives it: no password on a command line
    r.delete("tiny:queue")
    consumer = _consumer(url, "tiny:queue", 3)
    try:
        assert consumer.stdout.readline().startswith("consumer ready, waiting for 3 items on tiny:queue")
        assert redis_auth.password() not in " ".join(psutil.Process(consumer.pid).cmdline())
        time.sleep(0.6)
        assert consumer.poll() is None  # blocked in BRPOP, not spinning and not gone
        assert r.llen("tiny:queue") == 0
        reference_send(r, "tiny:queue", ["first", "second", "third"])
        output, _ = consumer.communicate(timeout=15)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    assert consumer.returncode == 0
    assert re.findall(r"took '(\w+)'", output) == ["first", "second", "third"]
    waits = [float(s) for s in re.findall(r"⏱ ([0-9.]+) s", output)]
    assert waits[0] >= 0.5 and all(w < 1 for w in waits[1:])
    assert r.llen("tiny:queue") == 0


def test_a_consumer_nobody_feeds_gives_up_after_its_patience(shared_course: Path) -> None:
    connection().delete("tiny:empty")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "support.tiny_queue", redis_server.address(), "tiny:empty", "2", "--patience", "0.5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "gave up: nothing arrived on tiny:empty for 0.5 s" in done.stdout
    assert time.perf_counter() - started < 20


def test_consume_in_process_returns_what_it_printed(shared_course: Path, capsys) -> None:
    r = connection()
    r.delete("tiny:inproc")
    r.lpush("tiny:inproc", "a", "b")  # 'a' is pushed first, so it is the oldest
    assert tiny_queue.consume(r, "tiny:inproc", 2, patience=1) == ["a", "b"]
    assert capsys.readouterr().out.count("took ") == 2


@pytest.mark.slow
def test_the_consumer_outlives_the_default_socket_timeout(shared_course: Path) -> None:
    """redis-py gives up reading after 5 s by default; the consumer's client must wait as long as BRPOP does."""
    r, url = connection(), redis_server.url()  # a URL with the password works too
    r.delete("tiny:slow")
    consumer = _consumer(url, "tiny:slow", 1)
    try:
        consumer.stdout.readline()
        time.sleep(5.6)
        assert consumer.poll() is None, consumer.stdout.read()
        r.lpush("tiny:slow", "late")
        output, _ = consumer.communicate(timeout=15)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    assert consumer.returncode == 0 and "took 'late'" in output
