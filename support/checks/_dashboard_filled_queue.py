"""How 04's Exercise 2 is checked: a queue of the check's own, filled with real jobs in every state.

``filled_queue()`` puts jobs on the queue ``summary-check`` in the course's Redis and has RQ's own worker
(``rq worker``, a SimpleWorker, no scheduler) run some of them: ``FILLED`` says how many end in each state, all
different numbers, so that two swapped counts never look right. Everything goes when the block ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from rq import Queue

from ..rq_helpers import holds, queues
from ..services import redis_server, state

# How many jobs the check puts in each state: all different, so that two swapped counts never look right.
FILLED: dict[str, int] = {"started": 1, "failed": 2, "finished": 3, "queued": 4, "scheduled": 5, "deferred": 6}
CHECK_QUEUE = "summary-check"


def _emptied(q: Queue) -> None:
    queues.empty(q)
    q.delete(delete_jobs=True)


def _rq_worker(queue_name: str) -> subprocess.Popen:
    """RQ's own worker (``rq worker``, a SimpleWorker, no scheduler) on `queue_name`, the Redis URL in its
    environment (never on its command line)."""
    env = {**os.environ, "RQ_REDIS_URL": redis_server.client_url(redis_server.start())}
    argv = [sys.executable, "-m", "rq.cli", "worker", "-w", "rq.worker.SimpleWorker", queue_name]
    return subprocess.Popen(argv, cwd=state.REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def filled_queue(name: str = CHECK_QUEUE) -> Iterator[Queue]:
    """A queue of its own with real jobs in each state (``FILLED``): finished and failed ones a worker ran, one it
    is running (held in its slow step), queued ones behind it, deferred ones waiting for it, scheduled ones an hour
    away. Everything goes when the block ends: the held job is let go, the worker stopped, the queue emptied."""
    conn = queues.connection()
    q = Queue(name, connection=conn)
    _emptied(q)
    marker = f"summary-{uuid.uuid4().hex[:12]}"
    for _ in range(FILLED["finished"]):
        q.enqueue("support.ops_jobs.work_for", 0)
    for _ in range(FILLED["failed"]):
        q.enqueue("support.ops_jobs.work_for", 0, fail=True)
    running = q.enqueue("support.ops_jobs.hold", marker, after=0)
    worker = _rq_worker(name)
    try:
        if not holds.wait_until_reached(conn, marker, timeout=15):
            raise RuntimeError("the check's worker did not start its job within 15 s")
        for _ in range(FILLED["queued"]):
            q.enqueue("support.ops_jobs.work_for", 0)
        for _ in range(FILLED["deferred"]):
            q.enqueue("support.ops_jobs.work_for", 0, depends_on=running)
        for _ in range(FILLED["scheduled"]):
            q.enqueue_in(timedelta(hours=1), "support.ops_jobs.work_for", 0)
        yield q
    finally:
        holds.go(conn, marker)
        worker.terminate()  # SIGTERM: RQ's warm shutdown, after the job it runs
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        _emptied(q)
