"""03's Exercise 3: the worker a learner starts in a terminal with `rq worker`. Each test starts real `rq worker`
processes (RQ's own command, the course's rq) in a folder with the notebook's worker_settings.py, against the
course's Redis (or, for the wrong answer, a second Redis), and checks what the notebook's check says. The command
lines the exercise's text asks for, right and wrong, are its requirements table's (tests/test_checks_jobs.py); here
is what the table cannot say: queues from the settings module, a worker on another Redis, none at all, use() and the
instructor edition's worker."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Worker

from support.checks import _jobs_terminal_worker
from support.checks.jobs import ex_start_worker
from support.lessons import terminal_worker
from support.rq_helpers import queues
from support.services import processes, redis_server

REPO_ROOT = Path(__file__).resolve().parent.parent
QUEUES = list(queues.QUEUE_NAMES)


def settings_cell() -> str:
    """worker_settings.py as 03's %%writefile cell writes it."""
    nb = json.loads((REPO_ROOT / "instructor" / "03_jobs.ipynb").read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if source.startswith("%%writefile worker_settings.py\n"):
            return source.split("\n", 1)[1]
    raise AssertionError("no %%writefile worker_settings.py cell in instructor/03_jobs.ipynb")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_up: Path) -> Path:
    """The notebook's folder: worker_settings.py in it, the current directory of the test (as of the kernel)."""
    (tmp_path / "worker_settings.py").write_text(settings_cell())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_jobs_terminal_worker, "WAIT_SECONDS", 0.5)
    return tmp_path


@pytest.fixture
def start_rq(folder: Path) -> Iterator:
    """Start `rq worker ARGS` in the folder as a learner would in a terminal; waits until it has registered (with
    `redis`: the Redis to look in; default the course's). Every worker is stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(*args: str, redis_url: str | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            [terminal_worker.rq_program(), "worker", *args],
            cwd=folder,
            env=processes.course_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        conn = redis_server.connect() if redis_url is None else redis.Redis.from_url(redis_url)
        ok = processes.wait_until(
            lambda: any(w.pid == proc.pid for w in Worker.all(connection=conn)) or proc.poll() is not None, 20, 0.1
        )
        assert ok and proc.poll() is None, f"rq worker {' '.join(args)} did not register"
        return proc

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_steps_are_the_command_the_notebook_shows() -> None:
    assert terminal_worker.TERMINAL_STEPS == [
        "../.venv/bin/rq worker -c worker_settings urgent mailers default --with-scheduler"
    ]
    nb = (REPO_ROOT / "instructor" / "03_jobs.ipynb").read_text()
    assert json.dumps(terminal_worker.COMMAND)[1:-1] in nb
    assert ex_start_worker.solution_code == terminal_worker.COMMAND


@pytest.mark.slow
def test_queues_from_the_settings_module_pass(start_rq, folder: Path) -> None:
    """Written differently: QUEUES in the settings module, none on the command line (rq worker reads QUEUES then)."""
    settings = folder / "worker_settings.py"
    settings.write_text(settings.read_text() + '\nQUEUES = ["urgent", "mailers", "default"]\n')
    start_rq("--with-scheduler", "--config", "worker_settings")
    result = ex_start_worker.check()
    assert result.kind == "correct", result.message


@pytest.fixture
def other_redis(tmp_path: Path) -> Iterator[str]:
    """A second Redis, not the course's: no password, nothing on disk."""
    port = processes.free_port()
    proc = subprocess.Popen(
        [redis_server.server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        assert processes.wait_until(lambda: processes.port_answers(port), 10, 0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_a_worker_on_another_redis_is_incorrect(start_rq, other_redis: str) -> None:
    start_rq("--url", other_redis, *QUEUES, "--with-scheduler", redis_url=other_redis)
    result = ex_start_worker.check()
    assert result.kind == "incorrect"
    assert "has not registered with the course's Redis" in result.message
    assert "-c worker_settings" in result.message


def test_no_worker_is_not_attempted(folder: Path) -> None:
    result = ex_start_worker.check()
    assert result.kind == "not_attempted"
    assert "No worker has registered" in result.message


def test_a_worker_the_course_names_itself_is_not_the_learners(folder: Path) -> None:
    """The course's own workers (second kernels, background workers) never count as the learner's."""
    assert all(name.startswith(terminal_worker.COURSE_NAMES) for name in ("kernel-worker-1-ab", "course-worker-1"))
    assert terminal_worker.registered_workers() == []


@pytest.mark.slow
def test_use_goes_on_with_your_own_worker_and_leaves_it_running(start_rq) -> None:
    proc = start_rq("-c", "worker_settings", *QUEUES, "--with-scheduler")
    worker = ex_start_worker.use()
    assert isinstance(worker, terminal_worker.TerminalWorker) and worker.service is None
    assert repr(worker.log) == "LogView('Worker log')"
    assert terminal_worker.stop_worker(worker) is False  # yours: Ctrl+C in your terminal
    assert proc.poll() is None


@pytest.mark.slow
def test_the_instructor_run_starts_the_command_once_and_stops_it(folder: Path) -> None:
    service = terminal_worker.start_as_typed()
    try:
        assert terminal_worker.start_as_typed().pid == service.pid  # the cell run twice: still one worker
        assert processes.running(service.name) is not None
        result = ex_start_worker.check()
        assert result.kind == "correct", result.message
        worker = ex_start_worker.use()
        assert worker.service is not None and worker.service.pid == service.pid
        assert terminal_worker.stop_worker(worker) is True
        assert processes.running(service.name) is None
        assert terminal_worker.registered_workers() == []
    finally:
        terminal_worker.stop_workers_started_here()


@pytest.mark.slow
def test_the_instructor_runs_log_shows_this_workers_lines_only(folder: Path) -> None:
    """The course's log file of rq-worker-1 is appended to, run after run: the widget starts at this run's worker."""
    for _ in range(2):
        service = terminal_worker.start_as_typed()
        try:
            worker = terminal_worker.TerminalWorker(terminal_worker.registered_workers()[-1], service)
            assert processes.wait_until(lambda w=worker: any("Listening on" in x for x in w.log.lines), 10, 0.1)
            started = [line for line in worker.log.lines if ": started with PID" in line]
            assert len(started) == 1 and f"PID {service.pid}," in started[0]
        finally:
            terminal_worker.stop_workers_started_here()
