"""The checks of 08_results_and_progress, against real jobs in a real Redis: every requirement an exercise states
has a wrong answer that fails with its own message; the reference passes; a blank is not attempted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rq.job import Job

from support.checks.results import PROBE_QUEUE, ex_fan_in, ex_report, ex_result_ttl, ex_status
from support.exercises import ____
from support.export_jobs import add_up, count_words, report_progress
from support.rq_helpers import queues
from support.workit.export_status import status_of


def no_probe_left() -> bool:
    conn = queues.connection()
    return not conn.exists(f"rq:queue:{PROBE_QUEUE}") and not any(
        Job.fetch(key.decode().rsplit(":", 1)[-1], connection=conn).origin == PROBE_QUEUE
        for key in conn.scan_iter(match="rq:job:*")
        if key.count(b":") == 2
    )


# --- Exercise 1: report progress ---------------------------------------------------------------------------------


def test_report_reference_is_correct_and_leaves_no_job(shared_course: Path) -> None:
    result = ex_report.check(report_progress)
    assert result.correct, result.message
    assert no_probe_left()


def not_saved(job: Job, done: int, total: int) -> None:
    job.meta["progress"] = {"done": done, "total": total}


def replaces_meta(job: Job, done: int, total: int) -> None:
    job.meta = {"progress": {"done": done, "total": total}}
    job.save_meta()


def wrong_keys(job: Job, done: int, total: int) -> None:
    job.meta["progress"] = {"step": done, "of": total}
    job.save_meta()


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (not_saved, "but Redis does not: the page reads Redis. Save it with job.save_meta()"),
        (replaces_meta, "The job's other meta ('owner': 'ada') is gone"),
        (wrong_keys, "it should be {'done': 2, 'total': 5}"),
        (42, "report should be a function of (job, done, total); you gave 42."),
    ],
)
def test_report_wrong_answers_are_incorrect(shared_course: Path, fn: Any, message: str) -> None:
    result = ex_report.check(fn)
    assert result.kind == "incorrect"
    assert message in result.message


def report_by_update(job, done, total):  # right: dict.update, keyword dict
    job.meta.update(progress=dict(done=done, total=total))
    job.save_meta()


def report_on_a_fresh_copy(job, done, total):  # right: a copy fetched from Redis, as another process would
    fresh = Job.fetch(job.id, connection=job.connection)
    fresh.meta["progress"] = {"total": total, "done": done}
    fresh.save_meta()


@pytest.mark.parametrize("fn", [report_by_update, report_on_a_fresh_copy])
def test_report_written_differently_passes(shared_course: Path, fn: Any) -> None:
    result = ex_report.check(fn)
    assert result.correct, result.message


def test_report_blank_is_not_attempted(shared_course: Path) -> None:
    assert ex_report.check(____).kind == "not_attempted"
    assert ex_report.use(____, quiet=True) is report_progress


# --- Exercise 2: the status answer ----------------------------------------------------------------------------------


def test_status_reference_is_correct(shared_course: Path) -> None:
    result = ex_status.check(status_of)
    assert result.correct, result.message
    assert no_probe_left()


def no_expired(job: Job | None) -> dict[str, Any]:
    return status_of(job) if job is not None else {"state": "gone", "error": "x"}


def blank_expired_message(job: Job | None) -> dict[str, Any]:
    return status_of(job) if job is not None else {"state": "expired", "error": ""}


def percent_as_fraction(job: Job | None) -> dict[str, Any]:
    answer = status_of(job)
    if job is not None and answer["state"] == "started":
        answer["percent"] = 1 / 3
    return answer


def percent_truncated(job: Job | None) -> dict[str, Any]:  # int() where the text says round()
    answer = status_of(job)
    progress = (job.meta.get("progress") or {}) if job is not None else {}
    if progress.get("total"):
        answer["percent"] = 100 * progress["done"] // progress["total"]
    return answer


def four_states_only(job: Job | None) -> dict[str, Any]:  # the four states the text names, anything else 'queued'
    answer = status_of(job)
    if job is not None and answer["state"] not in ("queued", "started", "finished", "failed"):
        answer["state"] = "queued"
    return answer


def status_written_differently(job):  # right: other names, the enum's value, a dict built at the end
    if not job:
        return dict(state="expired", percent=0, result=None, error="Gone: start a new export.")
    status = job.get_status(refresh=True)
    p = job.meta.get("progress", {})
    pct = round(p["done"] * 100 / p["total"]) if p.get("total") else 0
    res = job.return_value() if status == "finished" else None
    err = None
    if status == "failed":
        err = [line for line in job.latest_result().exc_string.splitlines() if line.strip()][-1].strip()
    return dict(state=str(status.value), percent=pct, result=res, error=err)


def test_status_written_differently_passes(shared_course: Path) -> None:
    result = ex_status.check(status_written_differently)
    assert result.correct, result.message


def no_result(job: Job | None) -> dict[str, Any]:
    return {**status_of(job), "result": None}


def whole_traceback(job: Job | None) -> dict[str, Any]:
    answer = status_of(job)
    if job is not None and answer["state"] == "failed":
        answer["error"] = job.latest_result().exc_string
    return answer


def own_words(job: Job | None) -> dict[str, Any]:
    answer = status_of(job)
    return {**answer, "state": "waiting"} if answer["state"] == "queued" else answer


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (own_words, "For a queued job, state is 'waiting'"),
        (percent_as_fraction, "For a started job 2 steps of 3 in, percent is"),
        (percent_truncated, "For a started job 2 steps of 3 in, percent is 66; it should be 67"),
        (four_states_only, "For a job deferred until another finishes, state is 'queued'"),
        (no_result, "For a finished export, result is None"),
        (whole_traceback, "For a failed export, error is"),
        (no_expired, "For None (no such job: expired, or never made), state is 'gone'"),
        (blank_expired_message, "give an error message the page can show"),
        (lambda job: "finished", "return a dict with state, percent, result and error"),
    ],
)
def test_status_wrong_answers_are_incorrect(shared_course: Path, fn: Any, message: str) -> None:
    result = ex_status.check(fn)
    assert result.kind == "incorrect", result.message
    assert message in result.message
    assert no_probe_left()


def test_status_blank_is_not_attempted(shared_course: Path) -> None:
    assert ex_status.check(____).kind == "not_attempted"


# --- Exercise 3: the fan-in -------------------------------------------------------------------------------------------


@pytest.fixture
def parts(shared_course: Path) -> list[Job]:
    default = queues.queue("default")
    return [default.enqueue(count_words, text) for text in ("one two", "three", "four five six")]


def test_fan_in_reference_is_correct(parts: list[Job]) -> None:
    total = queues.queue("default").enqueue(add_up, [p.id for p in parts], depends_on=parts)
    result = ex_fan_in.check(total, parts)
    assert result.correct, result.message
    assert total.get_status().value == "deferred"  # no worker runs: it waits for the parts


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda q, parts: q.enqueue(count_words, "x", depends_on=parts), "the fan-in is add_up"),
        (lambda q, parts: q.enqueue(add_up, [p.id for p in parts]), "total waits for nothing"),
        (lambda q, parts: q.enqueue(add_up, [p.id for p in parts], depends_on=parts[-1]), "waits for 1 of the 3 parts"),
        (lambda q, parts: q.enqueue(add_up, [parts[0].id], depends_on=parts), "give it the parts' ids, in order"),
        (lambda q, parts: parts, "it should be the job that enqueue returns"),
        (
            lambda q, parts: queues.queue("urgent").enqueue(add_up, [p.id for p in parts], depends_on=parts),
            "You queued add_up on 'urgent'; the exercise queues it on default",
        ),
    ],
)
def test_fan_in_wrong_answers_are_incorrect(parts: list[Job], make: Any, message: str) -> None:
    result = ex_fan_in.check(make(queues.queue("default"), parts), parts)
    assert result.kind == "incorrect"
    assert message in result.message


@pytest.mark.parametrize(
    "make",
    [
        lambda q, parts: q.enqueue(add_up, job_ids=[p.id for p in parts], depends_on=list(reversed(parts))),
        lambda q, parts: q.enqueue("support.export_jobs.add_up", list(map(lambda p: p.id, parts)), depends_on=parts),
    ],
    ids=["keyword-and-reversed-dependencies", "dotted-path"],
)
def test_fan_in_written_differently_passes(parts: list[Job], make: Any) -> None:
    result = ex_fan_in.check(make(queues.queue("default"), parts), parts)
    assert result.correct, result.message


def test_fan_in_blank_is_not_attempted_and_use_queues_the_reference(parts: list[Job]) -> None:
    assert ex_fan_in.check(____, parts).kind == "not_attempted"
    total = ex_fan_in.use(____, parts, quiet=True)
    assert total.func_name == "support.export_jobs.add_up" and set(total.dependency_ids) == {p.id for p in parts}


# --- Exercise 4: the result's lifetime --------------------------------------------------------------------------------


def test_result_ttl_choice() -> None:
    assert ex_result_ttl.check("c").correct
    assert "500 s" in ex_result_ttl.check("b").message
    assert "for ever" in ex_result_ttl.check("d").message
    assert "deletes the job" in ex_result_ttl.check("a").message
    assert ex_result_ttl.check(____).kind == "not_attempted"
