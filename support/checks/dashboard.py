"""Exercises of ``04_dashboard``: mount rq-dashboard inside Work-It at ``/rq`` (its routes file); summarise one
queue's registries from RQ's API; requeue a failed job yourself."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rq import Queue
from rq.job import Job

from ..exercises import Exercise, Incorrect, NotAttempted, call, describe, is_placeholder, require_function
from ..rq_helpers import job_watch, queues, recovery
from ..rq_helpers.failed_jobs import requeue_failed
from ..services import app
from ..services.processes import wait_until
from ..workit import routes_loader
from ._dashboard_filled_queue import CHECK_QUEUE, EMPTY_QUEUE, OTHER_QUEUE, filled_queues
from ._dashboard_mount import verify_mounted
from ._dashboard_requeue import (
    _emails_since,
    _extra_work,
    _failed_before,
    _failures,
    _first_failure,
    _in_failed_registry,
    _job_from,
)

# --- Exercise 1: mount rq-dashboard inside Work-It ----------------------------------------------------------

ROUTES_FILE = "routes.py"
REFERENCE_ROUTES = "routes_reference.py"  # written beside the learner's file by use()

REFERENCE_DRAW = """\
def draw(app):
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")
"""


def _check_mount(path: Any) -> str:
    path = Path(ROUTES_FILE if is_placeholder(path) else path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Incorrect(f"There is no file {path.name} yet: run the cell that writes it first.") from None
    if re.search(r"(?<![\w])____(?![\w])", source):
        raise NotAttempted(f"{path.name} still has a ____ in it: fill in draw(app), then run its cell again.")
    service = app.status()
    if service is None:
        raise Incorrect("Work-It is not running: run the notebook's first cell, then this one again.")
    routes_loader.use(path)  # Work-It draws this file from its next request on
    return verify_mounted(service.url)


class RoutesExercise(Exercise):
    """Exercise 1. ``check("routes.py")`` has Work-It draw the file and asks it over HTTP; ``use(...)`` gives the
    routes file Work-It draws from then on: yours when it checks as correct, else a reference written beside it."""

    def accept(self, value: Any) -> Path:
        result = self.check(value)
        if not result.correct:
            raise Incorrect(result.message)
        return Path(value)


def write_reference_routes(path: Any = ROUTES_FILE) -> Path:
    """The fallback of Exercise 1: a routes file that mounts rq-dashboard at /rq, beside the learner's file, drawn
    by Work-It from now on."""
    folder = Path(ROUTES_FILE if is_placeholder(path) else path).resolve().parent
    reference = folder / REFERENCE_ROUTES
    reference.write_text(f"import rq_dashboard\n\n\n{REFERENCE_DRAW}", encoding="utf-8")
    routes_loader.use(reference)
    return reference


ex_mount = RoutesExercise(
    "Exercise 1",
    _check_mount,
    title="Mount rq-dashboard in Work-It at /rq",
    hints=[
        "rq-dashboard's README, 'Integrating the dashboard in your Flask app': "
        "rq_dashboard.web.setup_rq_connection(app), then "
        "app.register_blueprint(rq_dashboard.blueprint, url_prefix=...).",
        "The course's Redis is app.config['REDIS_URL']; rq-dashboard reads its Redis from "
        "app.config['RQ_DASHBOARD_REDIS_URL'].",
    ],
    solution=REFERENCE_DRAW,
    fallback=write_reference_routes,
    fallback_note="Using a reference routes file (routes_reference.py) for Exercise 1 so you can go on.",
)


# --- Exercise 2: one queue's summary ---------------------------------------------------------------------------

STATES: tuple[str, ...] = ("queued", "started", "finished", "failed", "deferred", "scheduled")


def summary_reference(queue: Queue) -> dict[str, int]:
    """The reference answer of Exercise 2: the queue's length and the size of each of its registries."""
    return {
        "queued": queue.count,
        "started": queue.started_job_registry.count,
        "finished": queue.finished_job_registry.count,
        "failed": queue.failed_job_registry.count,
        "deferred": queue.deferred_job_registry.count,
        "scheduled": queue.scheduled_job_registry.count,
    }


def _shape(got: Any) -> dict[str, int]:
    """`got` as the exercise asks for it (a dict of six int counts); Incorrect naming what is not."""
    if not isinstance(got, dict):
        raise Incorrect(f"summary(queue) returned {describe(got)}; it should return a dict of counts.")
    missing = [s for s in STATES if s not in got]
    if missing:
        raise Incorrect(f"summary(queue) has no {', '.join(repr(m) for m in missing)}: give all six states {STATES}.")
    extra = sorted(set(got) - set(STATES), key=str)
    if extra:
        raise Incorrect(f"summary(queue) has keys beyond the six states: {', '.join(map(repr, extra))}.")
    for column in STATES:
        value = got[column]
        if not isinstance(value, int) or isinstance(value, bool):
            raise Incorrect(f"summary(queue)['{column}'] is {describe(value)}: it should be a count (an int).")
    return got


def _check_summary(fn: Any) -> str:
    require_function(fn, "summary", ("queue",))
    empty = Queue(EMPTY_QUEUE, connection=queues.connection())  # never used: no job, no registry entry
    got_empty = _shape(call(fn, empty))
    if any(got_empty.values()):
        raise Incorrect(
            f"For an empty queue of the check's own ({EMPTY_QUEUE}), summary gave {got_empty}: describe the queue it "
            "is given, whatever its name."
        )
    with ExitStack() as stack:
        try:
            main, other = stack.enter_context(filled_queues())
        except Exception as exc:  # noqa: BLE001 -- the check's own set-up, not the learner's code
            raise Incorrect(
                f"The check could not fill its queues with jobs ({type(exc).__name__}: {exc}). Is Redis running? "
                "course.up() starts it; then run this cell again."
            ) from None
        expected = {main.name: summary_reference(main), other.name: summary_reference(other)}
        got = {main.name: call(fn, main), other.name: call(fn, other)}
        mailers = summary_reference(queues.queue("mailers"))
    for name in (main.name, other.name):
        _shape(got[name])
    together = {s: expected[main.name][s] + expected[other.name][s] for s in STATES}
    for name, rest in ((main.name, other.name), (other.name, main.name)):
        if got[name] == expected[name]:
            continue
        if got[name] == got[rest]:
            raise Incorrect(
                f"summary gave the same counts, {got[name]}, for two queues holding different jobs: describe the "
                "queue it is given, whatever its name."
            )
        if got[name] == mailers and any(mailers.values()):
            raise Incorrect(
                f"summary returned the counts of mailers for the queue {name!r}: describe the queue it is given, "
                "whatever its name."
            )
        if got[name] in (expected[rest], together):
            raise Incorrect(
                f"summary counted the jobs of other queues for the queue {name!r}: describe the queue it is given, "
                "whatever its name."
            )
        shown = "; ".join(
            f"{s}: {got[name][s]}, Redis holds {expected[name][s]}" for s in STATES if got[name][s] != expected[name][s]
        )
        raise Incorrect(
            f"For a queue the check filled with jobs in every state ({name}), summary(queue) was wrong for {shown}. "
            "Take each count from RQ: queue.count, and the count of each of the queue's registries."
        )
    return f"Right for two queues holding jobs in every state: {got[main.name]} and {got[other.name]}."


ex_summary = Exercise(
    "Exercise 2",
    _check_summary,
    title="Summarise a queue",
    hints=[
        "queue.count is how many jobs wait in the queue; each other state has a registry: "
        "queue.started_job_registry, queue.finished_job_registry, ...",
        "A registry's count (or len(registry)) is how many jobs it holds.",
    ],
    solution="def summary(queue):\n"
    "    return {\n"
    '        "queued": queue.count,\n'
    '        "started": queue.started_job_registry.count,\n'
    '        "finished": queue.finished_job_registry.count,\n'
    '        "failed": queue.failed_job_registry.count,\n'
    '        "deferred": queue.deferred_job_registry.count,\n'
    '        "scheduled": queue.scheduled_job_registry.count,\n'
    "    }",
    reference=summary_reference,
)


# --- Exercise 3: requeue the failed job ------------------------------------------------------------------------


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
    _extra_work(job, conn)
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
    since = _first_failure(job)
    if not wait_until(lambda: _emails_since(address, since) > 0, 5, 0.05):
        raise Incorrect(f"The job finished, but no email to {address} reached the inbox.")
    sent = _emails_since(address, since)
    if sent > 1:
        raise Incorrect(
            f"{sent} emails to {address} reached the inbox since the job failed: the reader wants it once. Requeue "
            "down_job, and send nothing besides."
        )
    return "The job left the failed registry, ran again on a worker, and its email arrived, once."


def requeue_for_the_learner(failed_job: Job | None = None) -> Job:
    """The fallback of Exercise 3: requeue `failed_job` (unless something did already) and return it."""
    if failed_job is None:
        raise ValueError("Exercise 3: pass the failed job, so the reference can requeue it for you")
    conn = queues.connection()
    job = Job.fetch(failed_job.id, connection=conn)
    return requeue_failed(job.id, conn) if _in_failed_registry(job, conn) else job


ex_requeue = Exercise(
    "Exercise 3",
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
    fallback_note="Using the reference solution for Exercise 3: the failed job was requeued for you.",
)

__all__ = ["CHECK_QUEUE", "OTHER_QUEUE", "ex_mount", "ex_requeue", "ex_summary", "summary_reference"]
