"""The checks of 08_results_and_progress, against real jobs in a real Redis. Each exercise's requirements table
(quoted from the notebook, a wrong answer per requirement rejected naming it, right answers written differently) is
at the end; Exercise 4 is a Choice, in the generic table of every multiple-choice question. Besides: a blank is not
attempted, the fallbacks, and no probe job of a check is left behind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import redis
from exercise_table import Requirement, Table, define, table_test
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Callback
from rq.command import send_stop_job_command
from rq.job import Dependency, Job

from support.checks.results import PROBE_QUEUE, ex_fan_in, ex_report, ex_result_ttl, ex_status
from support.exercises import ____
from support.exercises.results import Result
from support.export_jobs import (
    add_up,
    count_words,
    export_thoughts,
    on_export_failure,
    on_export_stopped,
    on_export_success,
    report_progress,
)
from support.lessons import results, scaling
from support.rq_helpers import job_watch, queues, workers
from support.services import course


def up() -> None:
    course.up("redis", quiet=True)


def notebook_names() -> dict[str, Any]:
    """What 08 has defined by the time a learner writes its exercises (its first cell's imports and names)."""
    default = queues.queue("default")
    return {
        "os": os,
        "Callback": Callback,
        "send_stop_job_command": send_stop_job_command,
        "Dependency": Dependency,
        "Job": Job,
        "add_up": add_up,
        "count_words": count_words,
        "export_thoughts": export_thoughts,
        "on_export_failure": on_export_failure,
        "on_export_stopped": on_export_stopped,
        "on_export_success": on_export_success,
        "results": results,
        "scaling": scaling,
        "job_watch": job_watch,
        "queues": queues,
        "workers": workers,
        "course": course,
        "____": ____,
        "default": default,
        "r": default.connection,
    }


def no_probe_left() -> bool:
    conn = queues.connection()
    return not conn.exists(f"rq:queue:{PROBE_QUEUE}") and not any(
        Job.fetch(key.decode().rsplit(":", 1)[-1], connection=conn).origin == PROBE_QUEUE
        for key in conn.scan_iter(match="rq:job:*")
        if key.count(b":") == 2
    )


# --- Exercise 1: report progress ---------------------------------------------------------------------------------


def submit_report(source: str) -> Result:
    return ex_report.check(define(source, "report", notebook_names()))


def report(*body: str) -> str:
    return "def report(job, done, total):\n" + "".join(f"    {line}\n" for line in body)


SAVE = "job.save_meta()"
REPORT = Table(
    ex_report,
    submit_report,
    setup=up,
    requirements=[
        Requirement(
            'puts `{"done": done, "total": total}` into `job.meta["progress"]`',
            report('job.meta["progress"] = {"step": done, "of": total}', SAVE),
            """put {'done': 2, 'total': 5} into job.meta['progress']""",
        ),
        Requirement(
            'puts `{"done": done, "total": total}` into `job.meta["progress"]`',
            report('job.meta["progress"] = {"done": done, "total": 5}', SAVE),
            """put {'done': 3, 'total': 7} into job.meta['progress']""",
        ),
        Requirement(
            'puts `{"done": done, "total": total}` into `job.meta["progress"]`',
            report('job.meta["progress"] = round(100 * done / total)', SAVE),
            "into job.meta['progress']",
        ),
        Requirement(
            'puts `{"done": done, "total": total}` into `job.meta["progress"]`',
            report('job.meta["done"], job.meta["total"] = done, total', SAVE),
            "into job.meta['progress']",
        ),
        Requirement(
            "and saves it to Redis",
            report('job.meta["progress"] = {"done": done, "total": total}'),
            "Save it to Redis after you set it",
        ),
        Requirement(
            "and saves it to Redis",
            report(SAVE, 'job.meta["progress"] = {"done": done, "total": total}'),
            "Save it to Redis after you set it",
        ),
        Requirement(
            "keeping whatever else the job's meta holds",
            report('job.meta = {"progress": {"done": done, "total": total}}', SAVE),
            "keep whatever else the job's meta holds",
        ),
    ],
    right=[
        report("job.meta.update(progress=dict(done=done, total=total))", "job.save()"),
        report(
            "fresh = Job.fetch(job.id, connection=job.connection)  # as another process would",
            'fresh.meta["progress"] = {"total": total, "done": done}',
            "fresh.save_meta()",
        ),
    ],
    equivalent={
        "L3 Twice call": "save_meta() twice writes the same meta to the job's hash twice: Redis ends the same",
    },
)


def test_report_not_a_function_is_incorrect(redis_up: Path) -> None:
    assert "report should be a function of (job, done, total); you gave 42." in ex_report.check(42).message


def test_report_leaves_no_job_and_blank_is_not_attempted(redis_up: Path) -> None:
    assert ex_report.check(report_progress).correct
    assert no_probe_left()
    assert ex_report.check(____).kind == "not_attempted"
    assert ex_report.use(____, quiet=True) is report_progress


# --- Exercise 2: the status answer ----------------------------------------------------------------------------------


def submit_status(source: str) -> Result:
    return ex_status.check(define(source, "export_status", notebook_names()))


def status(*lines: str) -> str:
    """The reference with its lines replaced: ``status(("old", "new"), ...)``."""
    source = ex_status.solution_code
    for old, new in lines:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


ROUND = 'round(100 * progress.get("done", 0) / total)'
ABSENT = (
    "job.meta has no progress before the job reports: done is 0 too, so percent is 0 whatever total defaults to "
    "(report() always writes done and total together)"
)
DONE = "report() always writes done with total: a default for done is read only when total is 0 too, then percent is 0"
NONE = (
    "for None the text asks for state 'expired' and a message in error only; the page shows just those (it reads "
    "a missing percent as 0, and result only once finished)"
)
MESSAGE = "for None any message the page can show will do: the text asks for one, not its words"
STATUS = Table(
    ex_status,
    submit_status,
    setup=up,
    requirements=[
        Requirement(
            "It returns a dict with:",
            "def export_status(job):\n    return job.get_status().value if job else 'expired'",
            "return a dict with state, percent, result and error",
        ),
        Requirement(
            "It returns a dict with:",
            status(('"result": None, "error": None}', '"result": None}')),
            "For a queued job the dict has no 'error'",
        ),
        Requirement(
            '`state`: the job\'s status as a string (`"queued"`, `"started"`, `"finished"`, `"failed"`...)',
            status(
                (
                    "state = job.get_status().value",
                    'state = {"queued": "waiting"}.get(job.get_status().value, job.get_status().value)',
                )
            ),
            "state is 'waiting'; it should be 'queued': the job's status as a string",
        ),
        Requirement(
            '`state`: the job\'s status as a string (`"queued"`, `"started"`, `"finished"`, `"failed"`...)',
            status(
                (
                    "state = job.get_status().value",
                    'state = job.get_status().value\n    if state not in ("queued",'
                    ' "started", "finished", "failed"):\n        state = "queued"',
                )
            ),
            "For a job deferred until another finishes, state is 'queued'",
        ),
        Requirement(
            '`state`: the job\'s status as a string (`"queued"`, `"started"`, `"finished"`, `"failed"`...)',
            status(
                (
                    "state = job.get_status().value",
                    "state = job.get_status().value\n    if state not in ('queued', 'started', 'deferred', 'finished', "
                    "'failed'):\n        state = 'queued'",
                )
            ),
            "For an export stopped after 1 step of 4, state is 'queued'",
        ),
        Requirement(
            '`percent`: from `job.meta["progress"]`, `round(100 * done / total)`',
            status((ROUND, 'progress.get("done", 0) / total')),
            "For a started job 2 steps of 3 in, percent is",
        ),
        Requirement(
            '`percent`: from `job.meta["progress"]`, `round(100 * done / total)`',
            status((ROUND, '100 * progress.get("done", 0) // total')),
            "For a started job 2 steps of 3 in, percent is 66; it should be 67",
        ),
        Requirement(
            '`percent`: from `job.meta["progress"]`, `round(100 * done / total)`',
            status(
                (ROUND, 'math.ceil(100 * progress.get("done", 0) / total)'),
                ("def export_status", "import math\n\n\ndef export_status"),
            ),
            "For a started job 1 step of 3 in, percent is 34; it should be 33",
        ),
        Requirement(
            "`0` before the job has reported",
            status(("if total else 0", "if total else None")),
            "For a queued job, percent is None; it should be 0",
        ),
        Requirement(
            "`result`: `job.return_value()` when the job finished, else `None`",
            status(('answer["result"] = job.return_value()', "pass")),
            "For a finished export, result is None",
        ),
        Requirement(
            "`error`: the last line of `job.latest_result().exc_string` when it failed, else `None`",
            status(
                (
                    'answer["error"] = job.latest_result().exc_string.strip().splitlines()[-1]',
                    'answer["error"] = job.latest_result().exc_string',
                )
            ),
            "For a failed export, error is",
        ),
        Requirement(
            "`error`: the last line of `job.latest_result().exc_string` when it failed, else `None`",
            status(('"result": None, "error": None}', '"result": None, "error": ""}')),
            "For a queued job, error is ''; it should be None",
        ),
        Requirement(
            'and when `job` is `None` (Redis has no such job: it expired, or never existed): `state` `"expired"`',
            status(('{"state": "expired"', '{"state": "gone"')),
            "it should be 'expired'",
        ),
        Requirement(
            "a message in `error` that the page can show",
            status(('"error": "This export is not kept any more."}', '"error": ""}')),
            "a message in error that the page can show",
        ),
    ],
    right=[
        "def export_status(job):\n"
        "    if not job:\n"
        '        return dict(state="expired", percent=0, result=None, error="Gone: start a new export.")\n'
        "    status = job.get_status(refresh=True)\n"
        '    p = job.meta.get("progress", {})\n'
        '    pct = round(p["done"] * 100 / p["total"]) if p.get("total") else 0\n'
        '    res = job.return_value() if status == "finished" else None\n'
        "    err = None\n"
        '    if status == "failed":\n'
        "        err = [line for line in job.latest_result().exc_string.splitlines() if line.strip()][-1].strip()\n"
        "    return dict(state=str(status.value), percent=pct, result=res, error=err)",
        "def export_status(job):\n"
        "    if job is None:\n"
        '        return {"state": "expired", "error": "This export expired. Start a new one."}\n'
        "    fresh = Job.fetch(job.id, connection=r)  # what the endpoint does\n"
        "    answer = {'state': fresh.get_status().value, 'percent': 0, 'result': None, 'error': None}\n"
        '    if "progress" in fresh.get_meta():\n'
        '        answer["percent"] = round(100 * fresh.meta["progress"]["done"] / fresh.meta["progress"]["total"])\n'
        "    if fresh.is_finished:\n"
        "        answer['result'] = fresh.latest_result().return_value\n"
        "    if fresh.is_failed:\n"
        "        answer['error'] = fresh.latest_result().exc_string.rstrip().rsplit(chr(10), 1)[-1]\n"
        "    return answer",
    ],
    equivalent={
        "L7 Call drop arg 2": ABSENT,
        "L7 Constant 0->1": ABSENT,
        "L7 Constant 0->-1": ABSENT,
        "L7 Constant 0->None": ABSENT,
        "L8 Call drop arg 2": DONE,
        "L8 Constant 0->1 #2": DONE,
        "L8 Constant 0->-1 #2": DONE,
        "L8 Constant 0->None #2": DONE,
        "L3 Constant 'percent'->''": NONE,
        "L3 Constant 'percent'->'percentx'": NONE,
        "L3 Constant 'percent'->None": NONE,
        "L3 Constant 'result'->''": NONE,
        "L3 Constant 'result'->'resultx'": NONE,
        "L3 Constant 'result'->None": NONE,
        "L4 Constant 'This export is not ...'->'This export is not ...'": MESSAGE,
    },
)


def test_status_leaves_no_job_and_blank_is_not_attempted(redis_up: Path) -> None:
    assert ex_status.check(ex_status.reference).correct
    assert no_probe_left()
    assert ex_status.check(____).kind == "not_attempted"


# --- Exercise 3: the fan-in -------------------------------------------------------------------------------------------

TEXTS = ("one two", "three", "four five six")


def submit_fan_in(source: str) -> Result:
    """The notebook's parts, queued afresh on default (no worker runs: they stay queued, add_up is deferred)."""
    default = queues.queue("default")
    queues.empty(default)
    parts = [default.enqueue(count_words, text) for text in TEXTS]
    total = define(source, "total", {**notebook_names(), "parts": parts, "texts": list(TEXTS)})
    return ex_fan_in.check(total, parts)


IDS = "[p.id for p in parts]"
FAN_IN = Table(
    ex_fan_in,
    submit_fan_in,
    setup=up,
    requirements=[
        Requirement(
            "Queue `add_up`",
            "total = default.enqueue(count_words, 'x', depends_on=parts)",
            "the fan-in is add_up",
        ),
        Requirement(
            "Queue `add_up` on `default`",
            f"total = queues.queue('urgent').enqueue(add_up, {IDS}, depends_on=parts)",
            "queue add_up on default",
        ),
        Requirement(
            "so that it **waits for all three parts**",
            f"total = default.enqueue(add_up, {IDS})",
            "total waits for nothing",
        ),
        Requirement(
            "so that it **waits for all three parts**",
            f"total = default.enqueue(add_up, {IDS}, depends_on=parts[-1])",
            "it must wait for all three parts",
        ),
        Requirement(
            "gets **their ids, in order**",
            "total = default.enqueue(add_up, [p.id for p in reversed(parts)], depends_on=parts)",
            "their ids, in order",
        ),
        Requirement(
            "gets **their ids, in order**",
            "total = default.enqueue(add_up, [p.id for p in parts[:2]], depends_on=parts)",
            "their ids, in order",
        ),
        Requirement(
            "gets **their ids, in order**",
            "total = default.enqueue(add_up, [p.return_value() for p in parts], depends_on=parts)",
            "their ids, in order",
        ),
        Requirement(
            "Keep the job in `total`",
            f"total = default.enqueue(add_up, {IDS}, depends_on=parts).id",
            "keep the job in total",
        ),
        Requirement(
            "Keep the job in `total`",
            f"default.enqueue(add_up, {IDS}, depends_on=parts)\n"
            f"total = default.enqueue(add_up, {IDS}, depends_on=parts)",
            "Queue it once",
        ),
        Requirement(
            "Queue `add_up` on `default`",
            f"total = Job.create(add_up, args=[{IDS}], depends_on=parts, connection=r, origin='default')",
            "total was never queued",
        ),
    ],
    right=[
        "total = default.enqueue(add_up, job_ids=[p.id for p in parts], depends_on=list(reversed(parts)))",
        "ids = list(map(lambda part: part.id, parts))\n"
        "total = default.enqueue('support.export_jobs.add_up', ids, depends_on=Dependency(jobs=parts))",
        "total = queues.queue('default').enqueue(add_up, tuple(p.id for p in parts), depends_on=[p.id for p in parts])",
    ],
)


def test_fan_in_blank_is_not_attempted_and_use_queues_the_reference(redis_up: Path) -> None:
    default = queues.queue("default")
    parts = [default.enqueue(count_words, text) for text in TEXTS]
    assert ex_fan_in.check(____, parts).kind == "not_attempted"
    total = ex_fan_in.use(____, parts, quiet=True)
    assert total.func_name == "support.export_jobs.add_up" and set(total.dependency_ids) == {p.id for p in parts}
    assert total.get_status().value == "deferred"  # no worker runs: it waits for the parts


def test_fan_in_of_parts_queued_again_since_says_so(redis_up: Path) -> None:
    default = queues.queue("default")
    before = [default.enqueue(count_words, text) for text in TEXTS]
    total = default.enqueue(add_up, [p.id for p in before], depends_on=before)
    parts = [default.enqueue(count_words, text) for text in TEXTS]  # the parts' cell run again
    assert "run your cell again: total must wait for these)" in ex_fan_in.check(total, parts).message


# --- Exercise 4: the result's lifetime (a Choice: the generic table covers its options) ------------------------------


def test_result_ttl_blank_is_not_attempted() -> None:
    assert ex_result_ttl.check(____).kind == "not_attempted"


# --- The check's own trouble ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", [ex_report, ex_status], ids=["report", "status"])
def test_redis_that_does_not_answer_is_the_checks_trouble(
    redis_up: Path, monkeypatch: pytest.MonkeyPatch, exercise: Any
) -> None:
    nowhere = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))  # nothing listens there
    monkeypatch.setattr(queues, "connection", lambda: nowhere)
    result = exercise.check(exercise.reference)
    assert result.message.startswith("The check could not talk to the course's Redis: ConnectionError"), result


TABLES = [REPORT, STATUS, FAN_IN]
test_requirements_table = table_test(TABLES)
