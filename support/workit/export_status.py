"""What Work-It's status endpoint answers about one export job (notebook 08): its state, progress, result, error.

``status_of(job)`` reads only what RQ keeps in Redis: the job's status, ``job.meta["progress"]`` (which the job
saves with ``save_meta``), ``job.return_value()`` once it finished, and the last line of the latest result's
``exc_string`` once it failed. ``None`` (``Job.fetch`` found no such job) is an export that expired or never
existed: an answer of its own, never a server error.
"""

from __future__ import annotations

import re
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # rq.job.JOB_ID_PATTERN, capped; str(uuid4()) by default
EXPIRED = "This export is not kept any more: its result expired, or the id never existed. Start a new export."
STOPPED = "The export was stopped before it finished."


def fetch(job_id: str, connection: Any) -> Job | None:
    """The job `job_id`, or None when Redis has no such job (expired, deleted, never made, or not an id)."""
    if not JOB_ID.match(job_id or ""):
        return None
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


def percent(job: Job) -> int:
    """How far the job says it is, 0-100, from ``job.meta["progress"]`` (0 until it reports)."""
    progress = job.meta.get("progress") or {}
    done, total = progress.get("done", 0), progress.get("total", 0)
    return round(100 * done / total) if total else 0


def error_of(job: Job) -> str | None:
    """The failure's last line (``RuntimeError: ...``) from the job's latest result, or None."""
    result = job.latest_result()
    text = (result.exc_string or "") if result is not None else ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def status_of(job: Job | None) -> dict[str, Any]:
    """The status endpoint's answer: ``state``, ``percent``, ``result`` (when finished), ``error`` (when failed)."""
    if job is None:
        return {"state": "expired", "percent": None, "result": None, "error": EXPIRED}
    try:
        state = job.get_status(refresh=True)
    except Exception:  # noqa: BLE001 -- the job's key went away between fetch and now: it expired
        return status_of(None)
    answer: dict[str, Any] = {"state": state.value, "percent": percent(job), "result": None, "error": None}
    if state == JobStatus.FINISHED:
        answer["result"] = job.return_value()
    elif state == JobStatus.FAILED:
        answer["error"] = error_of(job) or "The export failed."
    elif state in (JobStatus.STOPPED, JobStatus.CANCELED):
        answer["error"] = STOPPED
    return answer


def finished(answer: dict[str, Any]) -> bool:
    """True when the page can stop asking: finished, failed, stopped, canceled or expired."""
    return answer.get("state") in ("finished", "failed", "stopped", "canceled", "expired")
