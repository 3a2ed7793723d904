"""Watching a queue for ``10_operations``: a batch of jobs of known lengths,
some failing on purpose, run by real workers while ``support.widgets.metrics_view`` shows the queue live; then a
static plot of what the live view saw.

    batch = watching.enqueue_batch(queue)      # 30 jobs at once: 0.1 to 0.6 s each, every 5th fails
    watching.wait(batch)                       # until each job has finished or failed
    watching.plot(view.history, durations)     # the readings over time, and the durations with p50 and p95
"""

from __future__ import annotations

from collections.abc import Sequence

from rq import Queue
from rq.job import Job

from .. import ops_jobs
from ..rq_helpers import metrics
from ..rq_helpers.job_watch import wait_for_jobs
from .figures import with_alt

LENGTHS = (0.1, 0.2, 0.3, 0.6)  # seconds each job works, in turn
FAIL_EVERY = 5  # every 5th job fails


def enqueue_batch(queue: Queue, jobs: int = 30) -> list[Job]:
    """Enqueue `jobs` jobs in one go: job i works ``LENGTHS[i % 4]`` seconds; every ``FAIL_EVERY``-th fails."""
    data = [
        Queue.prepare_data(
            ops_jobs.work_for,
            args=(LENGTHS[i % len(LENGTHS)], (i + 1) % FAIL_EVERY == 0),
            result_ttl=600,
            failure_ttl=600,
        )
        for i in range(jobs)
    ]
    return queue.enqueue_many(data)


def wait(batch: Sequence[Job], timeout: float = 120.0) -> dict[str, int]:
    """Wait until every job of `batch` has finished or failed; returns how many ended each way."""
    return wait_for_jobs(batch, timeout=timeout)


def plot(
    history: Sequence[metrics.Metrics],
    durations: Sequence[float],
    p50: float | None,
    p95: float | None,
    title: str = "A batch of 30 jobs on 2 workers",
):
    """Left: jobs waiting and the age of the oldest, over time; right: the durations, with p50 and p95 marked."""
    import matplotlib.pyplot as plt

    start = history[0].at if history else 0.0
    times = [m.at - start for m in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(times, [m.queued for m in history], color="tab:blue", label="jobs waiting")
    left.set_xlabel("seconds since the first reading")
    left.set_ylabel("jobs waiting", color="tab:blue")
    age = left.twinx()
    age.plot(
        times, [m.oldest_age or 0.0 for m in history], color="tab:orange", linestyle="--", label="age of the oldest (s)"
    )
    age.set_ylabel("age of the oldest waiting job (s)", color="tab:orange")
    left.set_title("The queue, read every 0.25 s")
    right.hist(durations, bins=12, color="tab:gray")
    for value, name, style in ((p50, "p50", "-"), (p95, "p95", "--")):
        if value is not None:
            right.axvline(value, color="black", linestyle=style, label=f"{name} {value:.2f} s")
    right.set_xlabel("duration of a finished job (s)")
    right.set_ylabel("jobs")
    right.set_title("How long the finished jobs took")
    right.legend(loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    return with_alt(
        fig,
        f"{title}. Left: the number of jobs waiting falls from its peak to zero while the age of "
        "the oldest waiting job rises, then drops to zero when the queue is empty. Right: a "
        "histogram of how long the finished jobs took, with the median (p50) and the 95th "
        "percentile (p95) marked as vertical lines.",
    )
