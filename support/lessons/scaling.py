"""Measuring workers for ``06_scaling_and_scheduling``: scheduled jobs, N workers on the same batch, the cost of a fork
per job.

Every measurement here uses real worker processes (``support.rq_helpers.workers.start_worker``) on the course's
Redis and reads its figures from the timestamps RQ itself records on each job (``enqueued_at``, ``started_at``,
``ended_at``), so the notebook's own polling does not blur them.

    from support.lessons import scaling
    print(scaling.prepare(["default", "mailers"]))   # empty the queues, check nobody else takes our jobs
    batch = scaling.run_batch(4, jobs=20)           # 4 workers, 20 one-second jobs
    batch.wall                                      # seconds from the first enqueue to the last job's end
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil
import redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from .. import demo_jobs
from ..rq_helpers import queues, recovery, workers
from ..rq_helpers.job_watch import wait_for_jobs
from ..services import processes, state
from ..services.processes import Service
from .figures import with_alt
from .queue_takers import delete_stale_scheduler_locks, live_workers, scheduler_lock_holders

# --- before measuring: nobody else may take our jobs ----------------------------------------------------------


def prepare(queue_names: Sequence[str] = ("default", "mailers"), connection: redis.Redis | None = None) -> str:
    """Empty `queue_names` and their registries, stop workers this notebook left running, and say who else listens.

    Returns one line for the notebook to print; it only grows when something outside the notebook (a worker in a
    terminal or in another notebook) would take the jobs we are about to time.
    """
    conn = connection or queues.connection()
    workers.stop_all_workers()  # background workers left by an earlier run of a notebook (ours or another's)
    for name in queue_names:
        queues.empty(queues.queue(name, conn))
    others = live_workers(queue_names, conn)
    delete_stale_scheduler_locks(queue_names, conn)
    schedulers = scheduler_lock_holders(queue_names, conn)
    lines = [f"Emptied the queues {', '.join(queue_names)}; no other worker is listening to them: {not others}"]
    if others:
        lines.append(
            f"  {len(others)} worker(s) that this notebook did not start listen to these queues (a worker "
            "notebook? `python -m support worker` in a terminal?). Stop them (Ctrl+C / the Stop cell), "
            "then run this cell again: they would take our jobs and skew every timing below."
        )
    if schedulers:
        lines.append(
            f"  A scheduler already runs for {', '.join(sorted(schedulers))} (a worker started with the "
            "scheduler): the scheduled jobs below would not wait for ours. Stop that worker, then run this "
            "cell again."
        )
    return "\n".join(lines)  # what was cleaned up gets no line: it varies from run to run


# --- waiting on jobs and processes ----------------------------------------------------------------------------


def wait_until_stopped(service: Service, timeout: float = 30.0) -> bool:
    """Wait for a (burst) worker process to exit on its own; True when it did."""
    return processes.wait_until(lambda: not service.alive(), timeout, 0.05)


def seconds_between(start: datetime, end: datetime) -> float:
    return (_aware(end) - _aware(start)).total_seconds()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def scheduled_time(job: Job) -> datetime | None:
    """When a scheduled job is due (UTC), from the ScheduledJobRegistry of its queue; None when it is not there."""
    registry = ScheduledJobRegistry(job.origin, connection=job.connection)
    try:
        return registry.get_scheduled_time(job)
    except Exception:  # noqa: BLE001 - NoSuchJobError: no longer scheduled
        return None


# --- N workers, the same batch of jobs --------------------------------------------------------------------------


@dataclass
class Batch:
    """One run: how many workers, how many jobs, the wall time and how the jobs were shared out."""

    workers: int
    jobs: int
    wall: float  # seconds from the first job's enqueue to the last job's end
    per_worker: dict[str, int] = field(default_factory=dict)  # rq worker name -> jobs it ran
    statuses: list[str] = field(default_factory=list)

    @property
    def all_finished(self) -> bool:
        return len(self.statuses) == self.jobs and all(s == "finished" for s in self.statuses)

    @property
    def every_worker_helped(self) -> bool:
        return len(self.per_worker) == self.workers and all(n > 0 for n in self.per_worker.values())

    @property
    def shares(self) -> list[int]:
        """Jobs per worker, largest first."""
        return sorted(self.per_worker.values(), reverse=True)


def run_batch(
    n_workers: int,
    jobs: int = 20,
    queue_name: str = "default",
    *,
    simple: bool = False,
    func: Any = demo_jobs.one_second,
    timeout: float = 120.0,
) -> Batch:
    """Start `n_workers` workers, enqueue `jobs` jobs at once, wait until all are done, stop the workers.

    The workers are started (and registered in Redis) before the first job is enqueued, as in production, where
    workers are always running: the wall time covers the jobs, not Python starting up.
    """
    conn = queues.connection()
    q = queues.queue(queue_name, conn)
    started = [workers.start_worker([queue_name], simple=simple, with_scheduler=False) for _ in range(n_workers)]
    try:
        batch = q.enqueue_many([Queue.prepare_data(func, args=(i,), result_ttl=600) for i in range(jobs)])
        wait_for_jobs(batch, timeout=timeout)
    finally:
        for service in started:
            workers.stop_worker(service)
    per_worker: dict[str, int] = {}
    for job in batch:
        if job.worker_name:
            per_worker[job.worker_name] = per_worker.get(job.worker_name, 0) + 1
    wall = seconds_between(
        min(j.enqueued_at for j in batch if j.enqueued_at), max(j.ended_at for j in batch if j.ended_at)
    )
    return Batch(n_workers, jobs, wall, per_worker, [job.get_status(refresh=False).value for job in batch])


def plot_batches(
    batches: Sequence[Batch],
    predicted: Sequence[float] | None = None,
    title: str = "The same 20 one-second jobs, more workers",
):
    """A bar per run (wall time), with the predicted time as a dashed mark when given."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    labels = [f"{b.workers} worker{'s' * (b.workers != 1)}" for b in batches]
    top = max([b.wall for b in batches] + list(predicted or []))
    bars = ax.bar(labels, [b.wall for b in batches], color=["tab:red", "tab:orange", "tab:green"][: len(batches)])
    for bar, batch in zip(bars, batches):
        ax.text(
            bar.get_x() + bar.get_width() / 2, batch.wall + top * 0.04, f"{batch.wall:.1f} s", ha="center", va="bottom"
        )
    if predicted:
        for bar, value in zip(bars, predicted):
            ax.hlines(
                value,
                bar.get_x() - 0.05,
                bar.get_x() + bar.get_width() + 0.05,
                colors="black",
                linestyles="dashed",
                label="predicted" if bar is bars[0] else "_nolegend_",  # matplotlib's legend skips "_..." labels
            )
        ax.legend(loc="upper right")
    ax.set_ylabel("wall time (s)")
    ax.set_ylim(0, top * 1.25)
    ax.set_title(title)
    fig.tight_layout()
    return with_alt(
        fig,
        f"{title}: one bar per run ({', '.join(labels)}) showing its wall time in seconds"
        + (", with the predicted time as a dashed line" if predicted else "")
        + ".",
    )


# --- what a job costs the worker itself ------------------------------------------------------------------------


@dataclass
class Cost:
    """One worker's run through `jobs` no-op jobs: the wall time, and the CPU time the worker used for them."""

    worker_class: str
    jobs: int
    seconds: float  # from the first job's start to the last job's end
    cpu_seconds: float  # user + system time of the worker and its work horses (forked or spawned), these jobs only

    @property
    def jobs_per_second(self) -> float:
        return self.jobs / self.seconds

    @property
    def ms_per_job(self) -> float:
        return 1000 * self.seconds / self.jobs

    @property
    def cpu_ms_per_job(self) -> float:
        """CPU ms per job: a busy machine stretches the wall time per job, not the CPU time a job needs."""
        return 1000 * self.cpu_seconds / self.jobs


def _cpu_seconds(pid: int) -> float:
    """User + system seconds of a process and of the children it has waited for (a worker's finished horses)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _horses(service: Service) -> int:
    """How many children of the worker are not yet reaped (a forking or spawning worker's horses)."""
    try:
        return len(psutil.Process(service.pid).children())
    except psutil.Error:
        return 0


def per_job_cost(
    simple: bool, jobs: int = 100, queue_name: str = "default", timeout: float = 60.0, kind: str | None = None
) -> Cost:
    """Start one worker, hand it `jobs` no-op jobs at once, and measure what they cost it: the platform's default
    class (forking, or spawning on macOS), SimpleWorker when `simple`, or `kind` (fork, spawn, simple)."""
    q = queues.queue(queue_name, queues.connection())
    service = workers.start_worker([queue_name], simple=simple, with_scheduler=False, kind=kind)
    try:
        wait_for_jobs([q.enqueue(demo_jobs.noop, result_ttl=600)], timeout=timeout)  # finishes the start-up
        processes.wait_until(lambda: _horses(service) == 0, timeout=5)
        cpu_before = _cpu_seconds(service.pid)
        batch = q.enqueue_many([Queue.prepare_data(demo_jobs.noop, result_ttl=600) for _ in range(jobs)])
        outcome = wait_for_jobs(batch, timeout=timeout)
        processes.wait_until(lambda: _horses(service) == 0, timeout=5)  # the last horse reaped
        cpu = _cpu_seconds(service.pid) - cpu_before
    finally:
        workers.stop_worker(service)
    if set(outcome) != {"finished"}:
        raise RuntimeError(f"Not every no-op job finished: {sorted(outcome)}")
    seconds = seconds_between(
        min(j.started_at for j in batch if j.started_at), max(j.ended_at for j in batch if j.ended_at)
    )
    return Cost(workers.worker_class(simple, kind).__name__, jobs, seconds, cpu)


# --- a job module the notebook edits while workers run ------------------------------------------------------------


def code_folder() -> Path:
    """A folder in the state folder for job code written by notebook 06 (workers import it with ``path=``)."""
    return state.subdir("code06")


def run_one(func_path: str, queue_name: str = "default", timeout: float = 30.0) -> Any:
    """Enqueue the job `func_path` (``module.function``), wait for it, and return its result (or its error)."""
    job = queues.queue(queue_name).enqueue(func_path, result_ttl=600)
    if wait_for_jobs([job], timeout=timeout) != {"finished": 1}:
        return f"(the job failed: {recovery.error_line(job)})"
    return job.return_value()
