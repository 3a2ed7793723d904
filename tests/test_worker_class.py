"""The worker class per platform: one function decides (workers.default_worker_class), and each class runs jobs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq import SimpleWorker, SpawnWorker, Worker

from support import demo_jobs
from support.lessons import scaling
from support.rq_helpers import job_watch, queues, workers
from support.services import platforms, redis_server, state


def test_macos_gets_the_spawning_worker_and_linux_the_forking_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(workers.KIND_OVERRIDE, raising=False)
    assert workers.default_worker_class("Darwin") is SpawnWorker
    assert workers.default_worker_class("Linux") is Worker
    assert workers.worker_class(simple=True) is SimpleWorker
    monkeypatch.setenv(workers.KIND_OVERRIDE, "spawn")
    assert workers.default_worker_class("Linux") is SpawnWorker
    monkeypatch.setenv(workers.KIND_OVERRIDE, "threads")
    with pytest.raises(ValueError, match="fork, spawn, simple"):
        workers.default_worker_class()


def test_the_rq_free_kinds_name_rq_s_classes() -> None:
    # platforms (below rq: the doctor and a first cell use it) names each kind's class; workers maps it to rq's.
    assert {kind: cls.__name__ for kind, cls in workers.KINDS.items()} == platforms.WORKER_KINDS
    assert workers.KIND_OVERRIDE == platforms.KIND_OVERRIDE


def test_rq_says_spawnworker_is_for_macos() -> None:
    # The course's sentences about SpawnWorker (README, 06, default_worker_class) rest on rq's own docstring.
    assert "where `os.fork()` is unsafe, like macOS" in " ".join(SpawnWorker.__doc__.split())


def test_each_worker_kind_runs_a_course_job_in_the_process_it_should(shared_course: Path) -> None:
    q = queues.queue("default")
    pids = {}
    for kind in ("spawn", "fork", "simple"):
        job = q.enqueue(demo_jobs.which_process, result_ttl=600)
        service = workers.start_worker(["default"], kind=kind, burst=True, with_scheduler=False)
        job_watch.wait_for_jobs([job], timeout=60)
        assert job.get_status().value == "finished", (kind, job.get_status())
        pids[kind] = (service.pid, job.return_value())
        scaling.wait_until_stopped(service, timeout=20)
    assert pids["simple"][1] == pids["simple"][0]  # in the worker itself
    assert pids["fork"][1] != pids["fork"][0] and pids["spawn"][1] != pids["spawn"][0]  # in a child


def test_the_worker_command_names_its_class_in_the_banner(shared_course: Path) -> None:
    redis_server.start()
    env = {**os.environ, "COURSE_HOME": str(shared_course), workers.KIND_OVERRIDE: "spawn"}
    done = subprocess.run(
        [sys.executable, "-m", "support", "worker", "--burst", "--no-scheduler", "default"],
        cwd=state.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "Class:   SpawnWorker" in done.stdout
