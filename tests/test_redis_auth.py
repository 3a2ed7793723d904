"""The course's Redis asks for a password that no command line and no printed URL shows, refuses what would reach
beyond Redis even with it, and a server left without a password by an older checkout is restarted with one."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from support.rq_helpers import queues
from support.services import course, processes, redis_auth, redis_server, state

NO_RETRY = Retry(NoBackoff(), 0)  # a refused AUTH is final: no retries with a backoff


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_client_without_the_password_is_refused(course_home: Path) -> None:
    service = redis_server.start()
    bare = redis.Redis(host="127.0.0.1", port=service.port, protocol=2, retry=NO_RETRY)
    for command in (("PING",), ("DBSIZE",), ("KEYS", "*"), ("CONFIG", "GET", "dir"), ("FLUSHALL",)):
        with pytest.raises(redis.AuthenticationError, match="NOAUTH|Authentication required"):
            bare.execute_command(*command)
    with pytest.raises(redis.AuthenticationError, match="WRONGPASS|invalid username-password"):
        redis.Redis(host="127.0.0.1", port=service.port, password="guess", retry=NO_RETRY).ping()
    assert redis_server.connect().ping() and queues.connection().ping()


def test_the_password_is_made_once_and_kept_private(course_home: Path) -> None:
    redis_server.start()
    secret = redis_auth.password()
    assert len(secret) >= 40 and redis_auth.password() == secret  # secrets.token_urlsafe(32), then the same
    for name in (redis_auth.PASSWORD_FILE, redis_auth.CONFIG_FILE):
        assert _mode(course_home / name) == 0o600, name
    assert secret in (course_home / redis_auth.CONFIG_FILE).read_text()
    redis_server.stop()
    redis_server.start()  # a restart keeps it
    assert redis_auth.password() == secret and redis_server.connect().ping()


def test_no_command_line_and_no_printed_url_holds_the_password(course_home: Path) -> None:
    services = course.up("redis", "catcher", "app", "dashboard", delivery="background", quiet=True)
    from support.rq_helpers import workers

    workers.start_worker(burst=False, with_scheduler=False)
    secret = redis_auth.password()
    mine = [p for p in processes.course_processes() if p.environ().get("COURSE_HOME") == str(course_home)]
    assert len(mine) >= 5
    for proc in mine:
        assert secret not in " ".join(proc.cmdline()), proc.cmdline()
    printed = course.describe(services) + (course_home / "state.json").read_text()
    printed += subprocess.run([sys.executable, "-m", "support", "status"], capture_output=True, text=True).stdout
    printed += "".join(p.read_text() for p in (course_home / "logs").iterdir())
    assert secret not in printed
    assert f"Redis         redis://127.0.0.1:{services['redis'].port}/0" in printed
    assert redis_server.address() == f"redis://127.0.0.1:{services['redis'].port}/0"


@pytest.mark.parametrize(
    "command",
    [
        ("CONFIG", "SET", "dir", "/tmp"),
        ("CONFIG", "SET", "dbfilename", "x.rdb"),
        ("DEBUG", "SLEEP", "0"),
        ("MODULE", "LOAD", "/nonexistent.so"),
    ],
)
def test_what_reaches_beyond_redis_is_refused_even_with_the_password(
    course_home: Path, command: tuple[str, ...]
) -> None:
    with pytest.raises(redis.ResponseError, match="protected config|not allowed"):
        redis_server.connect().execute_command(*command)


def test_what_the_notebooks_ask_of_the_config_still_answers(course_home: Path) -> None:
    r = redis_server.connect(decode_responses=True)
    assert r.config_get("appendfsync") == {"appendfsync": "always"}  # 02
    assert r.config_get("append*")["appendonly"] == "yes"  # 05
    assert r.config_get("enable-*") == {key: "no" for key in redis_auth.LOCKED_DOWN}


def test_a_server_without_a_password_is_restarted_with_one_and_keeps_its_data(
    course_home: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # What an older checkout left running: the same server and files, no password, recorded in state.json.
    folder = state.subdir("redis")
    port = processes.free_port()
    argv = [
        redis_server.binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(folder),
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--appendfilename",
        "appendonly.aof",
        "--save",
        "",
        "--set-proc-title",
        "no",
    ]
    old = processes.spawn("redis", argv)
    assert processes.wait_until(lambda: redis_server._open_to_anyone(port), 10)
    processes.register("redis", old, port=port, url=f"redis://127.0.0.1:{port}/0")
    redis.Redis(port=port).set("kept", "from before")

    new = redis_server.start()
    assert "was started without a password" in caplog.text  # said in a warning: library code prints nothing
    assert [r.levelname for r in caplog.records if r.name == "support.services.redis_server"] == ["WARNING"]
    assert capsys.readouterr().out == ""
    assert new.pid != old.pid and new.port == port and not psutil.pid_exists(old.pid) or old.status() == "zombie"
    assert redis_server.connect().get("kept") == b"from before"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, protocol=2, retry=NO_RETRY).get("kept")


def test_urls_are_redacted_and_filled_in() -> None:
    assert redis_auth.redacted("redis://:s3cret@127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redis_auth.redacted("redis://me:s3cret@host:1/2") == "redis://me@host:1/2"
    assert redis_auth.redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redis_auth.with_password("redis://127.0.0.1:6379/0", "a-b_c") == "redis://:a-b_c@127.0.0.1:6379/0"
