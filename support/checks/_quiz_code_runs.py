"""How the code questions of 07_check_for_understanding (``support.checks.quiz_code``) run the learner's code for
real: queues of the check's own on the course's Redis, deleted afterwards; the jobs the learner's code made anywhere
in Redis; RQ's own ``rq worker --burst`` in a folder, as a learner starts one; and Question 19's check, with the two
jobs it lets fail (``charge_card``, ``read_order``).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from rq import Queue
from rq.job import Job
from rq.utils import as_text

from ..exercises import Incorrect, call, describe, require_function
from ..jobs import send_gif_email
from ..rq_helpers import queues, recovery
from ..services import redis_server
from ._check_trouble import CheckCouldNot

JOB_PREFIX = Job.redis_job_namespace_prefix  # rq:job:
JOB_SECONDS = 20  # a learner's job that hangs fails after this long, before the worker's run times out (60 s)
ROOT = Path(__file__).resolve().parents[2]  # the folder that holds support/: a worker imports this module from it


@contextmanager
def scratch_queues(*labels: str) -> Iterator[list[Queue]]:
    """Queues named for this check alone (``quiz-<label>-<random>``), emptied and deleted afterwards."""
    marker = uuid.uuid4().hex[:8]
    conn = queues.connection()
    made = [Queue(f"quiz-{label}-{marker}", connection=conn) for label in labels]
    try:
        yield made
    finally:
        for q in made:
            queues.empty(q)
            q.delete(delete_jobs=True)


def _job_ids(conn: redis.Redis) -> set[str]:
    return {as_text(key)[len(JOB_PREFIX) :] for key in conn.scan_iter(match=f"{JOB_PREFIX}*", count=1000)} - {""}


@contextmanager
def jobs_made(func_name: str, first_arg: object) -> Iterator[list[Job]]:
    """The jobs of `func_name` with `first_arg` first that appear in Redis while the block runs, on any queue (the
    list is filled when the block ends); they are deleted then, wherever the learner's code queued them."""
    conn = queues.connection()
    before = _job_ids(conn)
    made: list[Job] = []
    try:
        yield made
    finally:
        new = sorted(i for i in _job_ids(conn) - before if ":" not in i)
        for job in Job.fetch_many(new, connection=conn):
            if job is None:
                continue
            try:
                ours = job.func_name == func_name and list(job.args[:1]) == [first_arg]
            except Exception:  # noqa: BLE001 - a job whose data does not load is not one of these
                ours = False
            if ours:
                made.append(job)
                job.delete()


def jobs_on(q: Queue) -> list[Job]:
    """The jobs waiting on `q`, in order."""
    return [job for job in Job.fetch_many(q.get_job_ids(), connection=q.connection) if job is not None]


def call_shown(job: Job) -> str:
    """A job as the call it stands for: ``support.jobs.send_gif_email('a@example.com', 'hi')``."""
    return f"{job.func_name}({', '.join([*map(repr, job.args), *(f'{k}={v!r}' for k, v in job.kwargs.items())])})"


def send_arguments(job: Job) -> dict[str, Any]:
    """send_gif_email's arguments in the job, by name, given by position or keyword alike ({} when they do not fit)."""
    try:
        return dict(inspect.signature(send_gif_email).bind(*job.args, **job.kwargs).arguments)
    except TypeError:
        return {}


def run_burst_worker(queue_names: list[str], folder: Path = ROOT, timeout: float = 60.0) -> str:
    """Run ``rq worker --burst`` on `queue_names` until they are empty, in `folder` (where it imports job modules
    from), its Redis URL in ``RQ_REDIS_URL``, never on the command line; returns what it wrote to stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "-w", "rq.worker.SimpleWorker", "-P", str(folder)]
        + queue_names,
        env={**os.environ, "RQ_REDIS_URL": redis_server.url()},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stderr


def run_as_jobs(module_file: Path, function: str, calls: list[tuple[str, str]]) -> list[tuple[str, object, str]]:
    """Queue ``<module>.<function>(*args)`` once per `calls`, by its dotted path, and run them on a real burst worker
    in the module's folder; each job's (status, return value, error line: "" when it finished)."""
    with scratch_queues(module_file.stem) as (q,):
        jobs = [q.enqueue(f"{module_file.stem}.{function}", *args, job_timeout=JOB_SECONDS) for args in calls]
        run_burst_worker([q.name], module_file.parent)
        statuses = [job.get_status(refresh=True).value for job in jobs]
        return [
            (status, job.return_value(), "" if status == "finished" else recovery.error_line(job))
            for status, job in zip(statuses, jobs)
        ]


# --- Question 19: real failed jobs ---------------------------------------------------------------------------


def charge_card(order_id: int) -> None:
    """A job for Question 19's check: the payment service does not answer."""
    raise ConnectionError(f"the payment service did not answer for order {order_id}")


def read_order(order_id: int) -> None:
    """A job for Question 19's check: a bug of ours, which no retry fixes."""
    raise ValueError(f"order {order_id} has no items")


def fail_for_real(first: Queue, second: Queue) -> dict[str, dict[str, list[str]]]:
    """Queue Question 19's jobs and let a real burst worker fail them: on `first` two ConnectionError jobs and one
    ValueError job, on `second` one of each. Returns the failed jobs' ids, by queue name and kind ("connection",
    "other error")."""
    ids: dict[str, dict[str, list[str]]] = {}
    for q, orders in ((first, (1, 2)), (second, (4,))):
        ids[q.name] = {
            "connection": [q.enqueue(charge_card, order).id for order in orders],
            "other error": [q.enqueue(read_order, max(orders) + 1).id],
        }
    stderr = run_burst_worker([first.name, second.name])
    failed = set(first.failed_job_registry.get_job_ids()) | set(second.failed_job_registry.get_job_ids())
    missing = [i for kinds in ids.values() for group in kinds.values() for i in group if i not in failed]
    if missing:
        raise CheckCouldNot(
            "make its failed jobs",
            f"its rq worker --burst did not fail {len(missing)} of them ({stderr[-300:].strip() or 'no output'})",
            "run the check again; if it fails the same way, restart the kernel and run the notebook from the top",
        )
    return ids


def _seen(q: Queue) -> tuple[set[str], set[str]]:
    """A queue's queued jobs and its failed registry's, as ids."""
    return set(q.get_job_ids()), set(q.failed_job_registry.get_job_ids())


def check_requeue(requeue_connection_errors: Any) -> str:
    require_function(requeue_connection_errors, "requeue_connection_errors", ("queue",))
    with scratch_queues("requeue", "second") as (first, second):
        ids = fail_for_real(first, second)
        for given, other in ((first, second), (second, first)):  # two calls: a constant count cannot pass both
            mine, before = ids[given.name], _seen(other)
            with warnings.catch_warnings():  # job.exc_info works in rq 3.0.0 but warns that it is deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                returned = call(requeue_connection_errors, given)
            queued, failed = _seen(given)
            which = "the first queue" if given is first else "the second queue"
            count = len(mine["connection"])
            left = [i for i in mine["connection"] if i not in queued]
            if left:
                raise Incorrect(
                    f"Called with {which}: {len(left)} of its {count} jobs that failed with ConnectionError are not "
                    "back on it: move every failed job of queue whose exception is a ConnectionError back onto "
                    "queue (the failed registry's requeue, or job.requeue())."
                )
            doubled = [i for i in mine["connection"] if i in failed]
            if doubled:
                raise Incorrect(
                    f"Called with {which}: {len(doubled)} of its ConnectionError jobs are on the queue again but "
                    "still in the failed registry too: move them back onto queue, out of the registry (the failed "
                    "registry's requeue does both)."
                )
            if any(i not in failed for i in mine["other error"]):
                raise Incorrect(
                    f"Called with {which}: the job that failed with ValueError left the failed registry: leave the "
                    "queue's other failed jobs in its failed registry, and requeue only the jobs whose exception is "
                    "a ConnectionError. Read it in the job's latest_result().exc_string: its last line is the "
                    "exception, as 'ConnectionError: the payment service did not answer ...'."
                )
            if _seen(other) != before:
                raise Incorrect(
                    f"Called with {which}, your function changed the jobs of the other queue too (its failed "
                    "ConnectionError job was requeued, or another of its jobs moved): touch no failed job of another "
                    "queue, only queue.failed_job_registry."
                )
            if returned != count:
                raise Incorrect(
                    f"Called with {which}, your function requeued the right jobs but returned {describe(returned)}: "
                    f"return how many jobs it requeued ({count} there)."
                )
    return (
        "Called with each queue, it moved that queue's ConnectionError jobs back onto it (2, then 1), left the "
        "ValueError jobs failed and the other queue alone, and returned 2, then 1."
    )
