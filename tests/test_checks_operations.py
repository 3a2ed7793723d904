"""The checks of notebook 10_operations: every requirement each exercise states, one wrong answer
per requirement with its own message, answers written differently accepted, a blank not attempted.

Exercises 2 and 3 have their requirements tables (``tests/exercise_table.py``): every answer is source text, run as
the notebook runs the learner's cell, with the names 10's set-up cell defined, then checked by the real check.
Exercise 1 is a Choice: the course's generic table covers it (``exercise_table.choice_tables``)."""

from __future__ import annotations

import logging
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from exercise_table import Requirement, Table, define, table_test
from rq import Worker, cron_job_registry

from support import ops_jobs
from support.checks.operations import DEPLOY_ORDER, STEPS, alerts_reference, ex_alerts, ex_deploy_order
from support.exercises import ____
from support.exercises.results import Result
from support.rq_helpers import metrics, queues, recovery, workers
from support.services import course

NOT_ATTEMPTED = "Not attempted: replace ____ with your answer, then run the check again."


def notebook_names() -> dict[str, Any]:
    """What 10's set-up cell defined: a learner's cell may use any of it."""
    return {
        "signal": signal,
        "time": time,
        "Path": Path,
        "Worker": Worker,
        "ops_jobs": ops_jobs,
        "STEPS": STEPS,
        "____": ____,
        "metrics": metrics,
        "queues": queues,
        "recovery": recovery,
        "workers": workers,
        "course": course,
    }


# --- Exercise 2: the order of a deploy's stop ----------------------------------------------------------------------


def submit_deploy_order(source: str) -> Result:
    return ex_deploy_order.check(define(source, "deploy_steps", notebook_names()))


SIGTERM_ONCE = "**SIGTERM** once, to the **worker process only**"
WAIT = "**wait** up to your longest job's timeout"
SIGKILL = "then **SIGKILL** what still runs"
IN_ORDER = "Give the letters, in order, as a list."

DEPLOY_ORDER_TABLE = Table(
    ex_deploy_order,
    submit_deploy_order,
    requirements=[
        Requirement(SIGTERM_ONCE, 'deploy_steps = ["b", "c"]', "Without SIGTERM (step a)"),
        Requirement(SIGTERM_ONCE, 'deploy_steps = ["a", "b", "c", "d"]', "Step d is a cold shutdown"),
        Requirement(SIGTERM_ONCE, 'deploy_steps = ["a", "d", "b", "c"]', "Step d is a cold shutdown"),
        Requirement(WAIT, 'deploy_steps = ["a", "c"]', "Without waiting (step b)"),
        Requirement(WAIT, 'deploy_steps = ["a", "c", "b"]', "SIGKILL before the wait"),
        Requirement(SIGKILL, 'deploy_steps = ["a", "b"]', "Without step c"),
        Requirement(IN_ORDER, 'deploy_steps = ["b", "a", "c"]', "Waiting before SIGTERM"),
        Requirement(IN_ORDER, 'deploy_steps = ["a", "a", "b", "c"]', "You listed a step twice"),
        Requirement(IN_ORDER, 'deploy_steps = ["a", "b", "x"]', "'x' is not a step"),
        Requirement(IN_ORDER, "deploy_steps = 3", "give the letters in order"),
    ],
    right=['deploy_steps = "a b c"', 'deploy_steps = ("A", "b)", " c ")', 'deploy_steps = list("abc")'],
)


def test_deploy_order_reference_value_and_blank() -> None:
    assert ex_deploy_order.use(____, quiet=True) == DEPLOY_ORDER
    assert str(ex_deploy_order.check(____)) == NOT_ATTEMPTED


# --- Exercise 3: which alerts fire (each answer runs against real states of a scratch queue) --------------------


def submit_alerts(source: str) -> Result:
    return ex_alerts.check(define(source, "alerts", notebook_names()))


def alerts_except(name: str, rule: str) -> str:
    """The shown solution with the alert `name`'s rule replaced by `rule` (an expression: true when it fires)."""
    return (
        ex_alerts.solution_code.replace("    return firing", f"    firing.discard({name!r})\n")
        + f"    if {rule}:\n        firing.add({name!r})\n    return firing\n"
    )


OLD_JOB = '`"old job"`: the job at the head of `queue` has waited more than `max_wait` seconds'
EMPTY_QUEUE = "`None` for an empty queue, which never fires"
NEW_FAILURES = '`"new failures"`: `queue.failed_job_registry.count` is greater than `failed_before`'
NO_WORKER = '`"no worker"`: no worker listens on `queue`'
CRON_LATE = '`"cron late"`: the cron job named `cron_job` last ran more than `cron_within` seconds ago, or never'
RETURNS_SET = "It returns the set of the alerts that fire"

TWICE = "adding a name to a set twice leaves the same set: the function returns the same alerts"
CONTINUOUS = (
    "the age and the time since the last run are floats measured (time.time() against a time stored to the "
    "microsecond) when the function runs: they equal the threshold with probability nil, so > and >= fire alike"
)

ALERTS_TABLE = Table(
    ex_alerts,
    submit_alerts,
    setup=lambda: course.up("redis", quiet=True),
    equivalent={
        "L5 Twice call": TWICE,
        "L7 Twice call": TWICE,
        "L9 Twice call": TWICE,
        "L12 Twice call": TWICE,
        "L4 Compare Gt->GtE": CONTINUOUS,
        "L11 Compare Gt->GtE": CONTINUOUS,
    },
    requirements=[
        Requirement(OLD_JOB, alerts_except("old job", "queue.count > 0"), 'reported "old job", but the oldest job'),
        Requirement(  # milliseconds
            OLD_JOB, alerts_except("old job", "age is not None and age * 1000 > max_wait"), 'reported "old job"'
        ),
        Requirement(  # the newest job's age, not the head's
            OLD_JOB,
            "from datetime import datetime, timezone\n\n\n"
            + alerts_except(
                "old job",
                "queue.count and (datetime.now(timezone.utc) - queue.get_jobs()[-1].enqueued_at.replace("
                "tzinfo=timezone.utc)).total_seconds() > max_wait",
            ),
            'did not report "old job"',
        ),
        Requirement(EMPTY_QUEUE, alerts_except("old job", "(age or 0) >= max_wait"), "the queue is empty"),
        Requirement(
            NEW_FAILURES,
            alerts_except("new failures", "queue.failed_job_registry.count > 0"),
            "report only growth since the last reading",
        ),
        Requirement(  # any change, a count that went down too
            NEW_FAILURES,
            alerts_except("new failures", "queue.failed_job_registry.count != failed_before"),
            'reported "new failures"',
        ),
        Requirement(
            NEW_FAILURES,
            alerts_except("new failures", "queue.failed_job_registry.count >= failed_before"),
            'reported "new failures"',
        ),
        Requirement(
            NO_WORKER,
            alerts_except("no worker", "not Worker.all(connection=queue.connection)"),
            'did not report "no worker": count only the workers that listen on',
        ),
        Requirement(
            NO_WORKER, alerts_except("no worker", "not Worker.all(queue=queues.queue('default'))"), '"no worker"'
        ),
        Requirement(
            CRON_LATE,
            alerts_except("cron late", "last_run is not None and time.time() - last_run > cron_within"),
            'has never run, and your answer did not report "cron late"',
        ),
        Requirement(  # milliseconds
            CRON_LATE,
            alerts_except("cron late", "last_run is None or (time.time() - last_run) * 1000 > cron_within"),
            'reported "cron late"',
        ),
        Requirement(
            CRON_LATE,
            alerts_except("cron late", "metrics.last_cron_run(queue.connection, 'expire-sessions') is None"),
            '"cron late"',
        ),
        Requirement(
            RETURNS_SET,
            "def alerts(queue, failed_before, max_wait, cron_job, cron_within):\n    return 'old job'\n",
            "as a set (or a list) of strings",
        ),
        Requirement(
            RETURNS_SET,
            "def alerts(queue, failed_before, max_wait, cron_job, cron_within):\n    return {'late'}\n",
            "'late', which is not an alert's name",
        ),
        Requirement(  # a constant
            RETURNS_SET,
            "def alerts(queue, failed_before, max_wait, cron_job, cron_within):\n    return set()\n",
            "did not report",
        ),
        Requirement(  # the head job read by taking it off the queue
            "Leaving `queue` as it is",
            alerts_except(
                "old job",
                "(job := queue.dequeue_any([queue], None, connection=queue.connection)) is not None and "
                "(time.time() - job[0].enqueued_at.timestamp()) > max_wait",
            ),
            "changed the queue",
        ),
    ],
    right=[
        """from datetime import datetime, timezone
from rq import cron_job_registry


def alerts(queue, failed_before, max_wait, cron_job, cron_within):
    now = datetime.now(timezone.utc)
    head = queue.get_jobs(0, 1)
    too_old = bool(head) and (now - head[0].enqueued_at.replace(tzinfo=timezone.utc)).total_seconds() > max_wait
    last = queue.connection.zscore(cron_job_registry.get_registry_key(), cron_job)
    checks = {
        "old job": too_old,
        "new failures": len(queue.failed_job_registry) > failed_before,
        "no worker": Worker.count(queue=queue) == 0,
        "cron late": last is None or now.timestamp() - last > cron_within,
    }
    return [name for name, fires in checks.items() if fires]
""",
        """def alerts(queue, failed_before, max_wait, cron_job, cron_within):
    last = metrics.last_cron_run(queue.connection, cron_job) or float("-inf")
    return tuple(
        name
        for name, fires in (
            ("old job", (metrics.oldest_age(queue) or float("-inf")) > max_wait),
            ("new failures", queue.failed_job_registry.count - failed_before > 0),
            ("no worker", len(Worker.all(queue=queue)) < 1),
            ("cron late", time.time() - last > cron_within),
        )
        if fires
    )
""",
    ],
)


def test_alerts_wrong_shape_and_blank(redis_up: Path) -> None:
    def blank(queue, failed_before, max_wait, cron_job, cron_within):
        ____

    assert "alerts should be a function" in ex_alerts.check(42).message
    assert str(ex_alerts.check(blank)) == NOT_ATTEMPTED
    assert ex_alerts.use(blank, quiet=True) is alerts_reference


def test_alerts_check_leaves_nothing_behind_and_the_kernel_as_it_was(redis_up: Path) -> None:
    # the check runs a SimpleWorker in the notebook's process: its SIGINT/SIGTERM handlers and log handlers must go
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    logs = {name: list(logging.getLogger(name).handlers) for name in ("rq.worker", "rq.job", "rq.cron")}
    conn = queues.connection()
    assert ex_alerts.check(alerts_reference).correct
    assert {sig: signal.getsignal(sig) for sig in before} == before
    assert {name: list(logging.getLogger(name).handlers) for name in logs} == logs
    assert not [k for k in conn.scan_iter(match="*alerts-check*")]
    assert not [n for n in cron_job_registry.get_names(conn) if n.startswith("alerts-check")]


def test_alerts_check_that_cannot_reach_redis_says_so(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # the discard port: nothing listens there
    result = ex_alerts.check(alerts_reference)
    assert result.kind == "incorrect" and "The check could not reach Redis" in result.message, result


TABLES = [DEPLOY_ORDER_TABLE, ALERTS_TABLE]
test_requirements_table = table_test(TABLES)
