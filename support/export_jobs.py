"""Jobs of notebook 08 (results and progress): Work-It's "export my thoughts", its callbacks, and a fan-in.

A worker imports them by dotted path (``support.export_jobs.export_thoughts``), which RQ stores with every job:
never move or rename them. Every timing is an argument, so that demonstrations and tests are deterministic:
`steps` and `step_delay` set the length, `fail_at` makes a step fail on purpose, and `hold_at` makes the job stop
at that step and wait, its progress saved, until the notebook says go (a hold named by the job's id:
``support.rq_helpers.holds``; notebook 08 sees it as ``results.start_export(pause_at_step=...)`` and
``results.resume``).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, cast

from rq import get_current_job
from rq.job import Job

from .rq_helpers import holds

CALLBACK_LOG = "course:results:callbacks"  # a Redis list: one JSON line per callback run
HOLD_SECONDS = 60  # a held job gives up waiting after this long (it then goes on)


def report_progress(job: Job, done: int, total: int) -> None:
    """Put ``{"done": done, "total": total}`` into the job's meta and save it (only the meta) to Redis."""
    job.meta["progress"] = {"done": done, "total": total}
    job.save_meta()


def export_thoughts(
    thoughts: list[str], steps: int = 5, step_delay: float = 0.2, fail_at: int | None = None, hold_at: int | None = None
) -> dict[str, Any]:
    """Build the export of `thoughts` in `steps` steps of `step_delay` s, reporting progress after each step.

    Step `fail_at` raises on purpose; at step `hold_at` the job waits (progress saved) for its go (``holds.go``).
    Returns ``{"thoughts": n, "text": ...}``: the thoughts numbered, one a line.
    """
    job = get_current_job()
    if job is None:
        raise RuntimeError("export_thoughts is a job: queue it, a worker runs it")
    report_progress(job, 0, steps)
    for step in range(1, steps + 1):
        time.sleep(step_delay)
        if fail_at == step:
            raise RuntimeError(f"The export failed at step {step} of {steps} (on purpose)")
        report_progress(job, step, steps)
        if hold_at == step:
            holds.wait_for_go(job.connection, job.id, HOLD_SECONDS)  # no go in time: it goes on all the same
    lines = [f"{n}. {thought}" for n, thought in enumerate(thoughts, 1)]
    return {"thoughts": len(thoughts), "text": "\n".join(lines)}


# --- callbacks: each records what it received, and in which process it ran ---------------------------------------


def _log(connection: Any, event: str, job: Job, **extra: Any) -> None:
    line = {"event": event, "job_id": job.id, "pid": os.getpid(), **extra}
    connection.rpush(CALLBACK_LOG, json.dumps(line, default=str))


def on_export_success(job: Job, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """Success callback: gets the job, a Redis connection and the job's return value."""
    _log(connection, "success", job, result=result)


def on_export_failure(
    job: Job, connection: Any, exc_type: type, exc_value: BaseException, tb: Any, *args: Any, **kwargs: Any
) -> None:
    """Failure callback: gets the job, a Redis connection and the exception (type, value, traceback)."""
    _log(connection, "failure", job, error=f"{exc_type.__name__}: {exc_value}")


def on_export_stopped(job: Job, connection: Any, *args: Any, **kwargs: Any) -> None:
    """Stopped callback: gets the job and a Redis connection (the job was stopped by a command)."""
    _log(connection, "stopped", job)


# --- fan-out / fan-in ----------------------------------------------------------------------------------------------


def count_words(text: str) -> int:
    """One part of a fan-out: the number of words in `text`."""
    return len(text.split())


def add_up(job_ids: list[str]) -> int:
    """The fan-in: the sum of the return values of the jobs `job_ids` (it runs once they have all finished)."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("add_up is a job: queue it with depends_on, a worker runs it")
    parts = Job.fetch_many(job_ids, connection=job.connection)
    return sum(cast(int, part.return_value()) for part in parts if part is not None)  # count_words returns an int
