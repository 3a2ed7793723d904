"""What 08_results_and_progress needs for its demonstrations: Work-It's export over HTTP, waiting on a job's
progress, the callbacks' log, the cost of polling, and waiting for a result's key to expire.

Nothing here sleeps "long enough": each wait is on a state in Redis (a step reached, a status, a key gone), bounded
by a timeout that only a broken set-up reaches.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis
from rq.job import Job

from .. import export_jobs
from ..rq_helpers import holds, job_watch
from ..services import access, app, links, processes

JSON = {"Accept": "application/json"}


def start_export(thoughts: str, pause_at_step: int | None = None, **options: Any) -> dict[str, Any]:
    """POST Work-It's export form as the page's script would; returns the app's JSON plus ``status`` (HTTP code).

    `options` are the export job's (``steps``, ``step_delay``, ``fail_at``). With `pause_at_step` the export stops
    after that step, its progress saved, until ``resume(job)``: the export's ``hold_at`` (a hold named by the job's
    id, ``support.rq_helpers.holds``), so that the notebook sees it there on any machine."""
    import requests

    if pause_at_step is not None:
        options["hold_at"] = pause_at_step

    response = requests.post(
        app.url() + "/exports", data={"thoughts": thoughts, **options}, headers={**JSON, **access.headers()}, timeout=30
    )
    return {**response.json(), "status": response.status_code}


def ask_status(status_url: str) -> tuple[int, dict[str, Any]]:
    """GET a status URL (relative to the app, as the app gave it): the HTTP code and the JSON answer."""
    import requests

    response = requests.get(app.url() + "/" + status_url, headers={**JSON, **access.headers()}, timeout=30)
    return response.status_code, response.json()


def page_link(job_id: str) -> str:
    """The export page's link for the learner's browser (through Jupyter's proxy under Jupyter), with the token."""
    service = app.status() or app.start()
    return links.browser_url(service.port, f"exports/{job_id}/")


def progress_of(job: Job) -> dict[str, int]:
    """``job.meta["progress"]`` as Redis has it now (``{}`` before the job reported)."""
    return dict(job.get_meta(refresh=True).get("progress") or {})


def wait_for_step(job: Job, step: int, timeout: float = 30.0) -> bool:
    """Wait until the job has reported `step` steps done (a paused export then waits there); True when it has."""
    return processes.wait_until(lambda: progress_of(job).get("done", -1) >= step, timeout, 0.02)


def resume(job: Job) -> None:
    """Let an export paused at its step (``pause_at_step``, the job's ``hold_at``) go on."""
    holds.go(job.connection, job.id)


def release(job: Job) -> None:
    """``resume``, under the name ``benchmarks/results_page.py`` calls."""
    resume(job)


def clear_callback_log(connection: redis.Redis) -> None:
    """Empty the callbacks' log (before a demonstration that reads it)."""
    connection.delete(export_jobs.CALLBACK_LOG)


def callback_log(
    connection: redis.Redis, job: Job | None = None, wait_for: int = 0, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The callbacks' log lines (of `job` only, if given), after waiting until there are `wait_for` of them."""

    def lines() -> list[dict[str, Any]]:
        found = [json.loads(raw) for raw in connection.lrange(export_jobs.CALLBACK_LOG, 0, -1)]
        return [line for line in found if job is None or line["job_id"] == job.id]

    processes.wait_until(lambda: len(lines()) >= wait_for, timeout, 0.02)
    return lines()


def wait_until_gone(connection: redis.Redis, key: str, timeout: float = 30.0) -> bool:
    """Wait until Redis has dropped `key` (its TTL ran out); True when it is gone."""
    return processes.wait_until(lambda: not connection.exists(key), timeout, 0.05)


def wait_done(job: Job, timeout: float = 30.0) -> str:
    """Wait until the job finished or failed; returns which."""
    return job_watch.wait_for_status(job, ("finished", "failed", "stopped"), timeout)


@dataclass
class PollRun:
    """One export watched the way the page watches it: a status request, a pause of `interval`, again."""

    requests: int  # status requests made until the answer said finished/failed
    seconds: float  # from the first request to the last answer
    ms_per_request: float  # mean round trip of one status request (client side, HTTP included)
    answer: dict[str, Any]  # the last answer


def poll_like_the_page(status_url: str, interval: float, timeout: float = 60.0) -> PollRun:
    """Ask `status_url` as the page does (one request, wait `interval`, ...) until it is done."""
    from ..workit.export_status import finished

    count, spent, t0 = 0, 0.0, time.perf_counter()
    while True:
        start = time.perf_counter()
        _, answer = ask_status(status_url)
        spent += time.perf_counter() - start
        count += 1
        if finished(answer) or time.perf_counter() - t0 > timeout:
            return PollRun(count, time.perf_counter() - t0, 1000 * spent / count, answer)
        time.sleep(interval)


def redis_commands(connection: redis.Redis) -> int:
    """Redis's count of commands processed so far (``INFO stats``; the INFO itself counts as one)."""
    return int(connection.info("stats")["total_commands_processed"])


def commands_per_status_request(connection: redis.Redis, status_url: str, requests_: int = 20) -> float:
    """Redis commands one status request costs: the server's command count around `requests_` requests (run it
    with no worker busy: a worker's own commands would be counted too)."""
    before = redis_commands(connection)
    for _ in range(requests_):
        ask_status(status_url)
    after = redis_commands(connection)
    return (after - before - 1) / requests_  # minus one INFO: the first is counted by the second
