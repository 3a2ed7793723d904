"""The instructor's command line, run as a learner would type it: ``python -m support ...`` in another process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from support.rq_helpers import queues, workers
from support.services import access, inbox, processes, server_watch, state


def support(*args: str, timeout: float = 60, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "support", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env=dict(os.environ),
    )


@pytest.mark.slow
def test_up_status_down_leaves_no_course_process(course_home: Path) -> None:
    up = support("up", "--delivery", "background", "--delay", "0.2")
    assert up.returncode == 0, up.stderr
    entries = state.read()
    assert {"redis", "catcher", "app"} <= set(entries)
    app_url = entries["app"]["url"]
    assert app_url in up.stdout and entries["redis"]["url"] in up.stdout
    assert requests.get(app_url + "/health", headers=access.headers(), timeout=5).json()["delivery"] == "background"
    # started from a terminal: kept until `down`, whatever Jupyter server ends (no watchdog ties them to one)
    assert server_watch.read() == {"servers": [], "watchdog": None, "keep": True}

    status = support("status")
    for name in ("redis", "catcher", "app"):
        line = next(line for line in status.stdout.splitlines() if line.strip().startswith(name))
        assert str(entries[name]["pid"]) in line and str(entries[name]["port"]) in line and " ok " in line

    pids = [entry["pid"] for entry in entries.values()]
    down = support("down")
    assert down.returncode == 0 and "redis" in down.stdout
    assert state.read() == {}
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    mine = [p for p in processes.course_processes() if p.environ().get("COURSE_HOME") == str(course_home)]
    assert mine == []
    assert "Nothing is running" in support("status").stdout
    assert not (course_home / server_watch.FILE).exists(), "down unties the state folder"


def test_up_twice_reuses_the_running_services(course_home: Path) -> None:
    assert support("up", "--delay", "0.2").returncode == 0
    first = {name: entry["pid"] for name, entry in state.read().items()}
    assert support("up", "--delay", "0.2").returncode == 0
    assert {name: entry["pid"] for name, entry in state.read().items()} == first


def test_worker_prints_its_banner_and_runs_queued_jobs(course_home: Path) -> None:
    assert support("up", "--delivery", "background", "--delay", "0.1").returncode == 0
    queues.queue("urgent").enqueue("support.jobs.send_gif_email", "ada@example.com", "coffee", 0.1)
    done = support("worker", "--burst", "--simple", "--no-scheduler")
    assert done.returncode == 0
    assert "Queues:  urgent > mailers > default" in done.stdout
    assert inbox.wait_for(1, timeout=5)[0].to == ["ada@example.com"]


@pytest.mark.slow
def test_a_foreground_worker_stops_warm_on_ctrl_c(course_home: Path) -> None:
    assert support("up", "--delay", "0.1").returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "support", "worker"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    conn = queues.connection()
    from rq import Worker

    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        # Ctrl+C once the worker is fully up: listening, and its scheduler started. The scheduler process logs
        # "started" before it installs its own signal handlers; it registers in Redis (rq:scheduler:<name>) only
        # after. A SIGTERM from the stopping worker in between can leave it running, and the worker waits for it.
        assert processes.wait_until(lambda: any("Scheduler for" in line and "started" in line for line in lines), 20)
        assert processes.wait_until(lambda: bool(conn.keys("rq:scheduler:*")), 20), "the scheduler never registered"
        assert len(Worker.all(connection=conn)) == 1
        assert processes.wait_until(lambda: _ready(proc.pid), 30), "the worker never took over its signals"
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                "the worker did not stop within 15 s of Ctrl+C; its last lines:\n" + "".join(lines[-15:])
            ) from None
    finally:
        if proc.poll() is None:  # the test failed before the worker stopped: do not leave it behind
            proc.kill()
            proc.wait()
    reader.join(5)
    out = "".join(lines)
    assert proc.returncode == 0
    assert "warm shut down" in out.lower()
    assert Worker.all(connection=conn) == []


@pytest.mark.slow
def test_reset_asks_first_and_empties_inbox_and_queues(course_home: Path) -> None:
    assert support("up", "--delivery", "background", "--delay", "0.1").returncode == 0
    queues.queue("mailers").enqueue("support.jobs.send_gif_email", "a@example.com", "x", 0.1)
    from support.workit import mailer

    mailer.deliver("b@example.com", "rain", delay=0)
    inbox.wait_for(1, timeout=5)
    refused = support("reset")  # no terminal to ask on: refuses without --yes
    assert refused.returncode == 1 and queues.queue("mailers").count == 1 and inbox.count() == 1
    said_no = support("reset", stdin="n\n")
    assert said_no.returncode == 1 and inbox.count() == 1
    done = support("reset", "--yes")
    assert done.returncode == 0 and "1 email(s)" in done.stdout and "1 queued job(s)" in done.stdout
    assert queues.queue("mailers").count == 0 and inbox.count() == 0


def test_down_with_nothing_running_says_so(course_home: Path) -> None:
    started = time.perf_counter()
    assert "Nothing was running" in support("down").stdout
    assert time.perf_counter() - started < 10


def _ready(pid: int) -> bool:
    """The worker with this PID is registered and has its signal handlers (workers.is_ready): a signal sent before
    that kills it with no warm shutdown (seen under a CPU hog: exit code 1 instead of 0)."""
    from rq import Worker

    return any(w.pid == pid and workers.is_ready(w.name, queues.connection()) for w in Worker.all(queues.connection()))


def test_down_stops_a_worker_started_by_hand_in_a_terminal(course_home: Path) -> None:
    """`python -m support worker` typed in a terminal is recorded while it runs, so `down` stops it (warmly) and it
    does not go on retrying a Redis that is gone; a worker the course started is recorded once, not twice."""
    from support.services import course

    course.up("redis")
    worker = subprocess.Popen(
        [sys.executable, "-m", "support", "worker", "--no-scheduler"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert processes.wait_until(lambda: "terminal-worker-1" in state.read(), timeout=30), "not recorded"
        assert state.read()["terminal-worker-1"]["pid"] == worker.pid

        assert processes.wait_until(lambda: _ready(worker.pid), timeout=30), "the worker did not start listening"
        down = support("down")
        assert "terminal-worker-1" in down.stdout
        assert worker.wait(timeout=15) == 0  # a warm shutdown, then a clean exit
        assert "terminal-worker" not in " ".join(state.read())
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    course.up("redis")  # Ctrl+C in the terminal: the worker stops and takes its record with it
    worker = subprocess.Popen(
        [sys.executable, "-m", "support", "worker", "--no-scheduler"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert processes.wait_until(lambda: _ready(worker.pid), timeout=30), "the worker did not start listening"
    worker.send_signal(signal.SIGINT)
    assert worker.wait(timeout=15) == 0 and "terminal-worker-1" not in state.read()

    from support.rq_helpers import workers

    started = workers.start_worker(with_scheduler=False)
    assert [name for name in state.read() if "worker" in name] == [started.name]
    workers.stop_worker(started)


def test_the_worker_notebook_runs_until_interrupted_unless_run_by_the_tests(monkeypatch) -> None:
    from support.rq_helpers import workers

    monkeypatch.delenv("COURSE_AUTORUN", raising=False)
    assert workers.notebook_idle_limit() is None  # a learner stops it with Interrupt
    monkeypatch.setenv("COURSE_AUTORUN", "1")
    assert workers.notebook_idle_limit() == workers.AUTORUN_IDLE_SECONDS > 0
