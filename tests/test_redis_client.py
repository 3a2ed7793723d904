"""support.services.redis_client (what ``queues.connection()`` hands out): one client per process and Redis
address, cheap to ask for, that finds the server again when it stops, moves or changes its password. Against real
redis-server processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from ports import foreign_listeners

from support.rq_helpers import queues
from support.services import processes, redis_auth, redis_server, state


def test_one_client_per_state_folder_made_once(
    course_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = queues.connection()
    assert queues.connection() is first and first.ping()
    other_home = tmp_path / "other"
    monkeypatch.setenv("COURSE_HOME", str(other_home))
    other = queues.connection()
    assert other is not first  # another state folder: another server, another client
    assert other.connection_pool.connection_kwargs["port"] == redis_server.status().port
    redis_server.stop()
    monkeypatch.setenv("COURSE_HOME", str(course_home))
    assert queues.connection() is first


def test_asking_for_it_takes_no_lock_and_reads_no_state(course_home: Path) -> None:
    client = queues.connection()
    client.set("seen", "yes")
    holder = subprocess.Popen(  # another process holds the course's lock (a `down` in a terminal, a slow start)
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom support.services import state\n"
            "with state.locked():\n    print('held', flush=True)\n    time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    recorded = state.home() / "state.json"
    try:
        assert holder.stdout.readline().strip() == "held"
        recorded.rename(recorded.with_suffix(".away"))  # what the state file says is not read either
        start = time.perf_counter()
        for _ in range(1000):
            assert queues.connection() is client
        assert time.perf_counter() - start < 0.5
        assert queues.connection().get("seen") == b"yes"
    finally:
        holder.kill()
        holder.wait(10)
        if recorded.with_suffix(".away").exists():
            recorded.with_suffix(".away").rename(recorded)


def test_a_stopped_server_is_started_again_on_the_next_command(course_home: Path) -> None:
    client = queues.connection()
    client.set("kept", "in the append-only file")
    redis_server.stop()
    assert redis_server.status() is None
    assert client.get("kept") == b"in the append-only file"  # the same client: it started the server again
    assert redis_server.status() is not None


@pytest.mark.slow  # the stranger never answers: the connection gives up on it after HANDSHAKE_SECONDS
def test_a_server_started_again_on_another_port_is_found(course_home: Path) -> None:
    client = queues.connection()
    client.set("kept", "1")
    old_port = redis_server.status().port
    redis_server.stop()
    with foreign_listeners([old_port]):  # a stranger takes the port meanwhile: the server comes back elsewhere
        new_port = redis_server.start().port
        assert new_port != old_port
        assert client.get("kept") == b"1"  # its connection went to the stranger first, then found the server
        assert client.info("server")["tcp_port"] == new_port


def test_a_new_password_is_followed(course_home: Path) -> None:
    client = queues.connection()
    client.set("kept", "1")
    old_password = redis_auth.password()
    redis_server.stop()
    (state.home() / redis_auth.PASSWORD_FILE).unlink()  # the next server gets a new password
    assert client.get("kept") == b"1"
    assert redis_auth.password() != old_password


def test_a_stranger_with_another_password_on_the_old_port_is_left_alone(course_home: Path, tmp_path: Path) -> None:
    client = queues.connection()
    client.set("ours", "1")
    port = redis_server.status().port
    redis_server.stop()
    (tmp_path / "stranger.conf").write_text('requirepass "not-the-course-s"\n')
    stranger = subprocess.Popen(
        [
            redis_server.binary(),
            str(tmp_path / "stranger.conf"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        talk = redis.Redis(port=port, password="not-the-course-s")
        assert processes.wait_until(lambda: _answers(talk), 10, 0.05)
        assert client.get("ours") == b"1"  # refused there, it found (and started) the course's own server
        assert redis_server.status().port != port
        assert talk.dbsize() == 0  # nothing of ours went to the stranger
    finally:
        stranger.kill()
        stranger.wait(10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
