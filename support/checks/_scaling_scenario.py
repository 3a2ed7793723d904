"""06's Exercise 2 run for real: six jobs on the course's queues (one of them queues a seventh when it runs), then
two burst workers, A on urgent and default and B on mailers, each job noting which worker ran it; what the learner
predicted is compared with that run (``support.checks.scaling.check_order``)."""

from __future__ import annotations

import uuid

from rq.utils import as_text

from .. import demo_jobs
from ..lessons import queue_takers, scaling
from ..rq_helpers import queues, workers
from ._check_trouble import CheckCouldNot

WORKERS = {"A": ("urgent", "default"), "B": ("mailers",)}  # each worker's queues, in the order it asks them
# the jobs, enqueued in this order before either worker starts: (label, queue, the job it queues when it runs)
SCENARIO = [
    ("d1", "default", ("urgent", "u2")),
    ("m1", "mailers", None),
    ("d2", "default", None),
    ("u1", "urgent", None),
    ("m2", "mailers", None),
    ("d3", "default", None),
]
LABELS = [label for label, _, _ in SCENARIO] + [then[1] for _, _, then in SCENARIO if then]  # every job there is


def run_scenario() -> dict[str, list[str]]:
    """Run ``SCENARIO`` for real: its jobs (``support.demo_jobs.note_run``) enqueued in order on the course's
    queues, emptied first; then worker A and worker B started as burst SimpleWorkers on their queues, and stopped
    when both have run out of work. Returns, per worker, the jobs it ran in the order it started them. Raises
    :class:`CheckCouldNot` when another worker listens to these queues, takes a job, or the workers do not finish."""
    conn = queues.connection()
    names = sorted({name for listened in WORKERS.values() for name in listened})
    others = queue_takers.live_workers(names, conn)
    if others:
        _not_alone(f"{len(others)} other worker(s) listen to {', '.join(names)} ({', '.join(w.name for w in others)})")
    for name in queues.QUEUE_NAMES:
        queues.empty(queues.queue(name, conn))
    log = f"course:run-order:{uuid.uuid4().hex}"
    for label, queue_name, then in SCENARIO:
        then_queue, then_label = then or ("", "")
        queues.queue(queue_name, conn).enqueue(demo_jobs.note_run, log, label, then_queue, then_label)
    started = {
        name: workers.start_worker(list(names), simple=True, burst=True, with_scheduler=False)
        for name, names in WORKERS.items()
    }
    try:
        stopped = all([scaling.wait_until_stopped(service) for service in started.values()])
    finally:
        for service in started.values():
            workers.stop_worker(service)
    by_rq_name = {service.rq_name: name for name, service in started.items()}
    ran: dict[str, list[str]] = {name: [] for name in WORKERS}
    strangers = []
    for entry in conn.lrange(log, 0, -1):
        rq_name, label = as_text(entry).split("|", 1)
        if rq_name in by_rq_name:
            ran[by_rq_name[rq_name]].append(label)
        else:
            strangers.append(f"{label} (by {rq_name})")
    conn.delete(log)
    if strangers or not stopped:
        _not_alone(f"a worker it did not start ran {', '.join(strangers)}" if strangers else "A and B ran for 30 s")
    return ran


def _not_alone(why: str) -> None:
    raise CheckCouldNot(
        "run the six jobs with only workers A and B",
        why,
        "stop any other worker on the course's queues (a terminal's: Ctrl+C; the worker notebook's: its Stop cell), "
        "then run the check again",
    )
