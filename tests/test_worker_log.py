"""support.rq_helpers.worker_log: a real worker's log, as the worker notebook shows it and as RQ writes it."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support.rq_helpers import worker_log
from support.services import redis_server

RUN = textwrap.dedent("""
    import sys
    from support.rq_helpers import worker_log
    if sys.argv[1] == "notebook":
        worker_log.for_notebook()
    from support.rq_helpers.workers import run_worker
    run_worker(["default"], max_idle_time=1, with_scheduler=False, name="log-test-" + sys.argv[1])
""")


def run_worker(mode: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-c", RUN, mode], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_the_notebook_log_is_on_stdout_without_housekeeping(shared_course: Path) -> None:
    redis_server.start()
    shown = run_worker("notebook")
    assert "RQ" not in shown.stderr and shown.stderr.strip() == ""
    out = shown.stdout
    assert "Queues:  default" in out  # the banner
    assert "Worker log-test-notebook: started with PID" in out and "*** Listening on default..." in out
    assert "idle for 1 seconds, quitting" in out and "cleaning" not in out
    usual = run_worker("usual")  # RQ's own way: the log on stderr, housekeeping included
    assert "cleaning registries for queue: default" in usual.stderr and "Listening on default" in usual.stderr


def test_for_notebook_is_idempotent_and_filters_only_housekeeping() -> None:
    stream = io.StringIO()
    try:
        handler = worker_log.for_notebook(stream)
        assert worker_log.for_notebook() is handler
        log = logging.getLogger("rq.worker")
        log.setLevel(logging.INFO)
        log.info("Worker w: cleaning registries for queue: %s", "default")
        log.info("Worker w: cleaning group registries")
        log.info("%s: %s (%s)", "default", "Job OK", "some-id")
    finally:
        worker_log.undo()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith(" default: Job OK (some-id)")
    assert logging.getLogger("rq").propagate and not logging.getLogger("rq").handlers
