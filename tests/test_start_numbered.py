"""support.services.processes.start_numbered, the one way a numbered process (a worker, an rq cron) is started and
waited for, and running_numbered; with real processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.services import processes, state

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
QUITTER = [sys.executable, "-c", "print('bye')"]


def test_numbered_processes_get_the_next_number_and_their_details(shared_course: Path) -> None:
    ready_log = lambda s: "up" in state.log_path(s.name).read_text()  # noqa: E731
    first = processes.start_numbered(
        "sleeper-", lambda name: (SLEEPER, {"rq_name": f"rq-{name}"}), ready_log, "The sleeper"
    )
    second = processes.start_numbered("sleeper-", lambda name: (SLEEPER, {}), ready_log, "The sleeper")
    assert (first.name, second.name, first.rq_name) == ("sleeper-1", "sleeper-2", "rq-sleeper-1")
    assert first.alive() and second.alive()
    assert [s.name for s in processes.running_numbered("sleeper-")] == ["sleeper-1", "sleeper-2"]
    processes.stop(first.name)
    assert [s.name for s in processes.running_numbered("sleeper-")] == ["sleeper-2"]
    processes.stop(second.name)


def test_one_that_ends_first_is_an_error_naming_its_log_unless_it_may_end(shared_course: Path) -> None:
    with pytest.raises(processes.ServiceError, match=r"The quitter did not start; see .*quitter-1"):
        processes.start_numbered("quitter-", lambda name: (QUITTER, {}), lambda s: False, "The quitter", timeout=10)
    assert "quitter-1" not in state.read()
    done = processes.start_numbered(
        "quitter-", lambda name: (QUITTER, {}), lambda s: False, "The quitter", timeout=10, may_end=True
    )
    assert not done.alive() and processes.running_numbered("quitter-") == []


def test_one_never_ready_is_stopped(shared_course: Path) -> None:
    with pytest.raises(processes.ServiceError, match="The sleeper did not start"):
        processes.start_numbered("sleeper-", lambda name: (SLEEPER, {}), lambda s: False, "The sleeper", timeout=1)
    assert processes.running_numbered("sleeper-") == [] and "sleeper-1" not in state.read()
    home = str(state.home())
    left = [
        p
        for p in processes.course_processes()
        if p.environ().get(processes.SERVICE_MARK) == "sleeper-1" and p.environ().get("COURSE_HOME") == home
    ]
    assert left == []  # stopped, not only forgotten
