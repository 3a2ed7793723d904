"""One snapshot of the course's queues as plain data: the counts of each queue and registry, the workers, and the
failed jobs with their errors. The dashboard widget shows it; ``counts_table`` and ``failed_table`` print it."""

from __future__ import annotations

from typing import Any

import redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from . import queues, recovery

COLUMNS: tuple[str, ...] = ("queued", "started", "finished", "failed", "scheduled", "deferred")


def _state_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def snapshot(connection: redis.Redis | None = None, failed_limit: int | None = None) -> dict[str, Any]:
    """The course's queues right now, as plain data::

        {"queues": {"urgent": {"queued": 0, "started": 0, "finished": 0, "failed": 0, "scheduled": 0,
                               "deferred": 0}, "mailers": {...}, "default": {...}},
         "workers": [{"name": ..., "state": "busy", "current_job": "support.jobs.send_gif_email(...)",
                      "queues": ["urgent", "mailers", "default"]}],
         "failed": [{"id": ..., "queue": "default", "func": "math.sqrt", "description": "math.sqrt(-1)",
                     "error": "ValueError: math domain error"}]}

    Failed jobs come in queue priority order, oldest first; at most `failed_limit` of them. Reading changes nothing
    in Redis (no registry clean-up).
    """
    conn = connection or queues.connection()
    counts: dict[str, dict[str, int]] = {}
    failed: list[dict[str, str]] = []
    for q in queues.all_queues(conn):
        registries = {
            "started": q.started_job_registry,
            "finished": q.finished_job_registry,
            "failed": q.failed_job_registry,
            "scheduled": q.scheduled_job_registry,
            "deferred": q.deferred_job_registry,
        }
        row = {"queued": q.count}
        row.update({key: reg.get_job_count(cleanup=False) for key, reg in registries.items()})
        counts[q.name] = {column: row[column] for column in COLUMNS}
        room = None if failed_limit is None else failed_limit - len(failed)
        if room is not None and room <= 0:
            continue
        ids = q.failed_job_registry.get_job_ids(0, -1 if room is None else room - 1, cleanup=False)
        for job in Job.fetch_many(ids, connection=conn):
            if job is None:  # its hash expired or was deleted while still listed
                continue
            failed.append(
                {
                    "id": job.id,
                    "queue": q.name,
                    "func": job.func_name or "",
                    "description": job.description or job.func_name or "",
                    "error": recovery.error_line(job),
                }
            )
    found: list[dict[str, Any]] = []
    for worker in Worker.all(connection=conn):
        try:
            job = worker.get_current_job()
        except NoSuchJobError:
            job = None
        found.append(
            {
                "name": worker.name,
                "state": _state_name(worker.get_state()),
                "current_job": (job.description or "") if job is not None else "",
                "queues": [q.name for q in worker.queues],
            }
        )
    found.sort(key=lambda w: w["name"])
    return {"queues": counts, "workers": found, "failed": failed}


def counts_table(snap: dict[str, Any]) -> str:
    """The queue counts of a snapshot as a plain-text table (deterministic: safe to print in a notebook)."""
    width = max([5, *(len(name) for name in snap["queues"])])
    lines = [f"{'queue':<{width}}  " + "  ".join(f"{c:>9}" for c in COLUMNS)]
    for name, row in snap["queues"].items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{row[c]:>9}" for c in COLUMNS))
    return "\n".join(lines)


def failed_table(snap: dict[str, Any]) -> str:
    """The failed jobs of a snapshot as text, one ``queue  description  ->  error`` line each (no job ids)."""
    if not snap["failed"]:
        return "(no failed jobs)"
    return "\n".join(f"{f['queue']:<8} {f['description']}  ->  {f['error']}" for f in snap["failed"])
