"""The figures of 10_operations, against real processes: clean-up runs with
0, 1 and 2 ``rq cron`` processes, and how long a worker takes to exit after a warm and a cold shutdown.

    python benchmarks/operations.py            # 3 rounds of each (about a minute)
    python benchmarks/operations.py --rounds 5

Figures first, then one line of JSON (as ``benchmarks/run.py``). Runs in a state folder of its own (a temporary
``COURSE_HOME``) and stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from figures import print_figures  # benchmarks/figures.py, next to this script

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 4.0  # seconds over which cron runs are counted


def cron_runs(processes_: int) -> float:
    """Clean-up runs per second over WINDOW seconds with `processes_` cron processes (counted from the first run)."""
    from support.lessons import recurring

    recurring.reset()
    started = [recurring.start_cron() for _ in range(processes_)]
    if started:
        recurring.wait_for_runs(len(started))  # every process has run once: all are up
    since = len(recurring.runs())
    time.sleep(WINDOW)
    count = len(recurring.runs()) - since
    recurring.stop_all()
    return count / WINDOW


def shutdown(cold: bool) -> tuple[float, str]:
    """Seconds from the (last) SIGTERM to the worker's exit, and the job's status after it. Warm: one SIGTERM while
    the job holds, the job let go once the worker has taken it; cold: a second SIGTERM just over 1 s after the worker
    took the first."""
    from support.lessons import stopping

    worker = stopping.start_worker()
    job = stopping.enqueue_hold()
    if not (stopping.wait_in_slow_step(job) and stopping.in_slow_step(job, worker)):
        raise RuntimeError("the job never reached its slow step")
    sent = stopping.send(worker, signal.SIGTERM)
    if not stopping.warm_request_taken(worker):
        raise RuntimeError("the worker never took the first SIGTERM")
    if cold:
        stopping.wait_past_repeat_window(worker)
        sent = stopping.send(worker, signal.SIGTERM)
    else:
        stopping.release(job)
    gone = stopping.wait_for_exit(worker)
    stopping.forget(worker)
    if gone is None:
        raise RuntimeError("the worker did not exit")
    return gone - sent, job.get_status(refresh=True).value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["COURSE_HOME"] = tempfile.mkdtemp(prefix="course-bench-ops-")
    sys.path.insert(0, str(ROOT))
    from support.rq_helpers import workers
    from support.services import course

    figures: dict[str, object] = {
        "date": date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
    }
    try:
        course.up("redis", quiet=True)
        worker = workers.start_worker(["default"], with_scheduler=False)
        for n in (0, 1, 2):
            print(f"- cron runs with {n} cron process(es) ...", file=sys.stderr, flush=True)
            rates = [cron_runs(n) for _ in range(args.rounds)]
            figures[f"cron_runs_per_s_{n}_processes"] = round(statistics.median(rates), 2)
        workers.stop_worker(worker)
        for cold in (False, True):
            kind = "cold" if cold else "warm"
            print(f"- {kind} shutdown ...", file=sys.stderr, flush=True)
            results = [shutdown(cold) for _ in range(args.rounds)]
            figures[f"{kind}_shutdown_s_median"] = round(statistics.median(s for s, _ in results), 3)
            figures[f"{kind}_shutdown_s_max"] = round(max(s for s, _ in results), 3)
            figures[f"{kind}_shutdown_job_status"] = sorted({status for _, status in results})
    finally:
        course.down()
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
