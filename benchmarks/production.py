"""09_reliability's figures, against real processes: enqueue-after-commit counts and RateLimit, measured.

    python benchmarks/production.py                  # 12 requests per way, 8 calls of 0.5 s on 4 workers
    python benchmarks/production.py --requests 40    # more requests

It runs in a state folder of its own (a temporary ``COURSE_HOME``) and stops everything it started. The last line
printed is one JSON object, like ``benchmarks/run.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_after_commit(requests: int) -> dict[str, dict[str, int]]:
    """Each way of saving and queueing, `requests` requests with every 4th rolled back, on one forking worker."""
    from support.lessons import after_commit
    from support.rq_helpers import queues, workers

    q = queues.queue("default")
    service = workers.start_worker(["default"], with_scheduler=False)
    try:
        ways = {
            "enqueue_inside_transaction": after_commit.run_requests(
                after_commit.submit_enqueue_inside, q, requests=requests, worker_first=True
            ),
            "enqueue_after_commit": after_commit.run_requests(after_commit.submit_after_commit, q, requests=requests),
            "outbox_and_relay": after_commit.run_requests(
                after_commit.submit_with_outbox, q, requests=requests, after=lambda: after_commit.relay(q)
            ),
        }
    finally:
        workers.stop_worker(service)
    return {
        name: {
            "requests": t.requests,
            "rolled_back": t.rolled_back,
            "jobs": t.jobs,
            "jobs_for_rolled_back_rows": t.jobs_for_rolled_back,
            "jobs_that_found_nothing": t.found_nothing,
            "delivered": t.delivered,
            "committed": t.committed,
        }
        for name, t in ways.items()
    }


def bench_rate_limit(n_workers: int, jobs: int, seconds: float, concurrency: int) -> dict[str, float]:
    """Peak concurrency and wall time (gate to last end) of `jobs` calls on `n_workers` workers, without and with
    ``RateLimit(concurrency)``."""
    from rq import RateLimit

    from support.lessons import rate_limits
    from support.rq_helpers import queues, workers

    q = queues.queue("default")
    started = [workers.start_worker(["default"], with_scheduler=False) for _ in range(n_workers)]
    try:
        rate_limits.reset_limit("bench-provider")
        free = rate_limits.run_calls(q, jobs=jobs, seconds=seconds, at_once=n_workers)
        limited = rate_limits.run_calls(
            q, jobs=jobs, seconds=seconds, at_once=concurrency, rate_limit=RateLimit("bench-provider", concurrency)
        )
    finally:
        for service in started:
            workers.stop_worker(service)
    return {
        "workers": n_workers,
        "jobs": jobs,
        "seconds_per_job": seconds,
        "concurrency": concurrency,
        "peak_without_limit": free.peak,
        "wall_without_limit_s": round(free.wall, 3),
        "peak_with_limit": limited.peak,
        "wall_with_limit_s": round(limited.wall, 3),
        "held_back": limited.held_back,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="course-bench-09-")
    os.environ["COURSE_HOME"] = home
    from support.services import course

    try:
        course.up("redis", quiet=True)
        counts = bench_after_commit(args.requests)
        for way, tally in counts.items():
            print(
                f"{way:<28} {tally['jobs']:>3} jobs, {tally['jobs_for_rolled_back_rows']} for rolled-back rows, "
                f"{tally['jobs_that_found_nothing']} found nothing, {tally['delivered']}/{tally['committed']} "
                "delivered"
            )
        rate = bench_rate_limit(args.workers, args.jobs, args.seconds, args.concurrency)
        print(
            f"RateLimit: peak {rate['peak_without_limit']} -> {rate['peak_with_limit']}, wall "
            f"{rate['wall_without_limit_s']:.2f} s -> {rate['wall_with_limit_s']:.2f} s"
        )
    finally:
        course.down()
        os.environ.pop("COURSE_HOME")
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"after_commit": counts, "rate_limit": rate}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
