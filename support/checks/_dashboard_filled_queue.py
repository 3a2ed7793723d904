"""How 04's Exercise 2 is checked: two queues of the check's own, filled with real jobs in every state.

``filled_queues()`` puts jobs on the queues ``summary-check`` and ``summary-check-other`` in the course's Redis and
has RQ's own worker (``rq worker``, a SimpleWorker, no scheduler, listening to both) run some of them: ``FILLED`` and
``FILLED_OTHER`` say how many end in each state of each queue. Within a queue the six numbers all differ, so that
two swapped counts never look right; the two queues differ in every state, so that a summary of the wrong queue, of
every queue together, or a constant, never looks right either. (The worker busy with the first queue's held job
listens to the other queue too: counting busy workers is not counting started jobs.) Everything goes when the
block ends.
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

# How many jobs the check puts in each state of each queue: all different within a queue, and between the queues.
FILLED: dict[str, int] = {"started": 1, "failed": 2, "finished": 3, "queued": 4, "scheduled": 5, "deferred": 6}
FILLED_OTHER: dict[str, int] = {"started": 0, "failed": 3, "finished": 1, "queued": 2, "scheduled": 4, "deferred": 5}
CHECK_QUEUE = "summary-check"
OTHER_QUEUE = "summary-check-other"
EMPTY_QUEUE = "summary-check-empty"  # a queue nothing is ever put on: the check's first question


def _emptied(q: Queue) -> None:
    queues.empty(q)
    q.delete(delete_jobs=True)


def _rq_worker(*queue_names: str) -> subprocess.Popen:
    """RQ's own worker (``rq worker``, a SimpleWorker, no scheduler) on `queue_names` in that order, the Redis URL in
    its environment (never on its command line)."""
    env = {**os.environ, "RQ_REDIS_URL": redis_server.client_url(redis_server.start())}
    argv = [sys.executable, "-m", "rq.cli", "worker", "-w", "rq.worker.SimpleWorker", *queue_names]
    return subprocess.Popen(argv, cwd=state.REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ran(q: Queue, filled: dict[str, int]) -> None:
    """The jobs a worker runs to their end: finished and failed ones."""
    for _ in range(filled["finished"]):
        q.enqueue("support.ops_jobs.work_for", 0)
    for _ in range(filled["failed"]):
        q.enqueue("support.ops_jobs.work_for", 0, fail=True)


def _waiting(q: Queue, filled: dict[str, int], running: object) -> None:
    """The jobs that wait while the worker is busy: queued, deferred (on the running job), scheduled."""
    for _ in range(filled["queued"]):
        q.enqueue("support.ops_jobs.work_for", 0)
    for _ in range(filled["deferred"]):
        q.enqueue("support.ops_jobs.work_for", 0, depends_on=running)
    for _ in range(filled["scheduled"]):
        q.enqueue_in(timedelta(hours=1), "support.ops_jobs.work_for", 0)


@contextmanager
def filled_queues() -> Iterator[tuple[Queue, Queue]]:
    """Two queues of their own with real jobs in each state (``FILLED``, ``FILLED_OTHER``): finished and failed ones
    a worker ran, one it is running on the first queue (held in its slow step), queued ones behind it, deferred ones
    waiting for it, scheduled ones an hour away. Everything goes when the block ends: the held job is let go, the
    worker stopped, the queues emptied."""
    conn = queues.connection()
    main, other = Queue(CHECK_QUEUE, connection=conn), Queue(OTHER_QUEUE, connection=conn)
    for q in (main, other):
        _emptied(q)
    marker = f"summary-{uuid.uuid4().hex[:12]}"
    _ran(other, FILLED_OTHER)
    _ran(main, FILLED)
    running = main.enqueue("support.ops_jobs.hold", marker, after=0)
    worker = _rq_worker(OTHER_QUEUE, CHECK_QUEUE)  # the other queue's jobs first, then the main one's, then the hold
    try:
        if not holds.wait_until_reached(conn, marker, timeout=30):  # 9 jobs and a start, on a busy machine
            raise RuntimeError("the check's worker did not start its job within 30 s")
        _waiting(main, FILLED, running)
        _waiting(other, FILLED_OTHER, running)
        yield main, other
    finally:
        holds.go(conn, marker)
        worker.terminate()  # SIGTERM: RQ's warm shutdown, after the job it runs
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        for q in (main, other):
            _emptied(q)
