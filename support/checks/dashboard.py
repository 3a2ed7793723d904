"""Exercises of ``04_dashboard``: read a count from a dashboard snapshot; requeue a failed job yourself."""

from __future__ import annotations

from typing import Any

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.results import Result

from ..exercises import Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import job_watch, queues, recovery
from ..rq_helpers.failed_jobs import requeue_failed
from ..rq_helpers.snapshot import snapshot
from ..services import inbox

# --- Exercise 1: count the failed jobs -------------------------------------------------------------------------


def count_failed_reference(snap: dict[str, Any]) -> int:
    """The reference answer of Exercise 1: add up the failed column of every queue."""
    return sum(row["failed"] for row in snap["queues"].values())


def _row(failed: int) -> dict[str, int]:
    return {"queued": 1, "started": 0, "finished": 4, "failed": failed, "scheduled": 0, "deferred": 0}


# A snapshot with failed jobs in two queues (not only in mailers, as in the notebook), to catch a one-queue answer.
SPREAD_SNAPSHOT: dict[str, Any] = {
    "queues": {"urgent": _row(2), "mailers": _row(0), "default": _row(3)},
    "workers": [],
    "failed": [
        {
            "id": f"job-{n}",
            "queue": q,
            "func": "support.jobs.send_gif_email",
            "description": "",
            "error": "ConnectionError: the mail server did not answer",
        }
        for n, q in enumerate(["urgent"] * 2 + ["default"] * 3)
    ],
}


def _check_count_failed(fn: Any) -> str:
    require_function(fn, "count_failed", ("snapshot",))
    snap = snapshot()
    real = count_failed_reference(snap)  # the same moment as the snapshot: a job failing meanwhile changes neither
    got = call(fn, snap)
    if not isinstance(got, int) or isinstance(got, bool):
        raise Incorrect(f"count_failed(snapshot) returned {describe(got)}; it should return a whole number.")
    if got != real:
        finished = sum(row["finished"] for row in snap["queues"].values())
        hint = " That is the finished count: look at the failed column." if got == finished and real != finished else ""
        raise Incorrect(
            f"For a snapshot taken just now, count_failed returned {got}, but the failed-job registries "
            f"in Redis hold {real} job{'s' if real != 1 else ''}.{hint}"
        )
    spread = call(fn, SPREAD_SNAPSHOT)
    if spread != 5 and spread == call(fn, {**SPREAD_SNAPSHOT, "queues": {"mailers": _row(7)}}):
        raise Incorrect(
            f"count_failed returned {describe(spread)} for a made-up snapshot with 5 failed jobs, and "
            "again for one with 7: count the snapshot it is given (its argument), not a fresh one."
        )
    if spread != 5:
        raise Incorrect(
            f"For a snapshot with 2 failed jobs in urgent and 3 in default, count_failed returned "
            f"{describe(spread)}, not 5: count the failed column of every queue in snap['queues'], "
            "not only mailers."
        )
    return f"{got} failed job{'s' if got != 1 else ''} right now, as the registries in Redis say."


ex_count_failed = Exercise(
    "Exercise 1",
    _check_count_failed,
    title="How many jobs failed?",
    hints=[
        "A snapshot is plain data: snap['queues'] maps each queue's name to a row of counts.",
        "Add up row['failed'] over snap['queues'].values() (sum() does it in one line).",
    ],
    solution='def count_failed(snap):\n    return sum(row["failed"] for row in snap["queues"].values())',
    reference=count_failed_reference,
)


# --- Exercise 2: requeue the failed job ------------------------------------------------------------------------


def _job_from(value: Any, conn: redis.Redis) -> Job:
    if isinstance(value, Job):
        job_id = value.id
    elif isinstance(value, str):
        job_id = value
    else:
        raise Incorrect(f"You gave {describe(value)}. Give the job you requeued (requeue returns it) or its id.")
    try:
        return Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise Incorrect(
            "Redis has no job with that id any more: it was deleted, so its email will never go out. "
            "Delete is for jobs that can never work; Requeue keeps the job and runs it again."
        ) from None


def _failures(job: Job) -> int:
    """How many times the job has failed (RQ keeps a result per run)."""
    return sum(result.type == Result.Type.FAILED for result in job.results())


def _failed_before(job: Job) -> bool:
    return _failures(job) > 0


def _in_failed_registry(job: Job, conn: redis.Redis) -> bool:
    return any(job.id in q.failed_job_registry for q in queues.all_queues(conn))


def _check_requeued(value: Any, timeout: float = 10.0) -> str:
    conn = queues.connection()
    job = _job_from(value, conn)
    if not _failed_before(job):
        raise Incorrect(
            "This job never failed: it looks like a new job you enqueued. Requeue the failed one "
            "(dashboard.requeue_failed, or the queue's failed_job_registry.requeue), so it keeps its id "
            "and its history."
        )
    failed_again = Incorrect(
        f"The job ran again and failed again ({recovery.error_line(job)}). "
        "Is the mail catcher running? mailcatcher.start() brings it back."
    )
    if _in_failed_registry(job, conn):
        if _failures(job) > 1:  # requeued, and a worker failed it again before this check looked
            raise failed_again
        raise Incorrect("The job is still in the failed-job registry: nothing has requeued it yet.")
    try:
        final = job_watch.wait_for_status(job, ("finished", "failed"), timeout=timeout)
    except TimeoutError as exc:
        raise Incorrect(f"The job left the failed registry but did not run: {exc}") from None
    if final == "failed":
        job.refresh()
        raise Incorrect(
            f"The job ran again and failed again ({recovery.error_line(job)}). "
            "Is the mail catcher running? mailcatcher.start() brings it back."
        )
    address = str(job.args[0]) if job.args else ""
    try:
        inbox.wait_for(1, match=lambda m: address.lower() in (a.lower() for a in m.to), timeout=5)
    except TimeoutError:
        raise Incorrect(f"The job finished, but no email to {address} reached the inbox.") from None
    return "The job left the failed registry, ran again on a worker, and its email arrived."


def requeue_for_the_learner(failed_job: Job | None = None) -> Job:
    """The fallback of Exercise 2: requeue `failed_job` (unless something did already) and return it."""
    if failed_job is None:
        raise ValueError("Exercise 2: pass the failed job, so the reference can requeue it for you")
    conn = queues.connection()
    job = Job.fetch(failed_job.id, connection=conn)
    return requeue_failed(job.id, conn) if _in_failed_registry(job, conn) else job


ex_requeue = Exercise(
    "Exercise 2",
    _check_requeued,
    title="Requeue the failed job yourself",
    hints=[
        "The Requeue button calls dashboard.requeue_failed(job_id); RQ's own API is "
        "queue.failed_job_registry.requeue(job_id).",
        "down_job.id is the id of the job that failed while the mail server was down.",
    ],
    solution="requeued = dashboard.requeue_failed(down_job.id)\n"
    "# or: requeued = mailers.failed_job_registry.requeue(down_job.id)",
    fallback=requeue_for_the_learner,
    fallback_note="Using the reference solution for Exercise 2: the failed job was requeued for you.",
)

__all__ = ["ex_count_failed", "ex_requeue", "count_failed_reference"]
