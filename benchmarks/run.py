"""The course's benchmarks, against real processes. ``make bench`` runs this; the last line printed is one JSON object.

    python benchmarks/run.py                 # everything, including the whole course under pytest --nbval
    python benchmarks/run.py --skip-course   # the service and job figures only (about a minute)

Every measurement runs in a state folder of its own (a temporary ``COURSE_HOME``), so a course you have open is not
disturbed, and everything started here is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date
from pathlib import Path

from figures import print_figures  # benchmarks/figures.py, next to this script

ROOT = Path(__file__).resolve().parent.parent


def p(values: list[float], pct: float) -> float:
    from support.lessons.timing import percentile

    return percentile(values, pct)


def bench_redis_ready(runs: int = 5) -> dict[str, float]:
    """Seconds from `redis_server.start()` (a cold start: spawn the binary) to the first PING answered."""
    from support.services import redis_server

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        redis_server.start()
        times.append(time.perf_counter() - t0)
        redis_server.stop()
    return {"redis_ready_s": round(statistics.median(times), 4)}


SENDER = textwrap.dedent("""
    import smtplib, sys
    from email.message import EmailMessage
    port, n = int(sys.argv[1]), int(sys.argv[2])
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "bench@example.com", "to@example.com", f"bench {i}"
            msg.set_content("benchmark body " * 20)
            smtp.send_message(msg)
""")


def bench_catcher(n: int = 300) -> dict[str, float]:
    """Messages per second that another process can send to the catcher until all are stored in the Maildir."""
    from support.services import inbox, mailcatcher

    service = mailcatcher.start()
    inbox.clear()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", SENDER, str(service.port), str(n)], check=True)
    inbox.wait_for(n, timeout=120)
    seconds = time.perf_counter() - t0
    inbox.clear()
    return {"catcher_msgs_per_s": round(n / seconds, 1)}


def bench_app(delay: float, inline_posts: int, background_posts: int) -> dict[str, float]:
    """Response times of the Work-It form: inline (the request sends the email) vs background (it enqueues a job)."""
    from support.rq_helpers import queues
    from support.services import app

    app.start(delivery="inline", delay=delay)
    inline = [app.post_thought("bench@example.com", f"inline {i}")["seconds"] for i in range(inline_posts)]
    app.start(delivery="background", delay=delay)
    mailers = queues.queue("mailers")
    for i in range(10):  # warm-up: connections, imports
        app.post_thought("bench@example.com", f"warm-up {i}")
    background = []
    for i in range(background_posts):
        result = app.post_thought("bench@example.com", f"background {i}")
        assert result["status"] == 200 and result["job_id"], result
        background.append(result["seconds"])
    queued = mailers.count
    queues.empty_all()
    inline_p50, background_p50 = statistics.median(inline), statistics.median(background)
    return {
        "configured_delay_s": delay,
        "inline_p50_ms": round(inline_p50 * 1000, 1),
        "background_p50_ms": round(background_p50 * 1000, 2),
        "background_p99_ms": round(p(background, 99) * 1000, 2),
        "background_posts": background_posts,
        "background_jobs_queued": queued,
        "ratio": round(inline_p50 / background_p50, 1),
    }


def bench_enqueue(n: int = 2000) -> dict[str, float]:
    """Jobs per second that `queue.enqueue` writes into Redis (one process, no worker)."""
    from support.rq_helpers import queues

    q = queues.queue("default")
    t0 = time.perf_counter()
    for _ in range(n):
        q.enqueue("os.getpid")
    seconds = time.perf_counter() - t0
    queues.empty_all()
    return {"enqueue_jobs_per_s": round(n / seconds)}


def bench_worker_throughput(simple: bool, n: int) -> float:
    """No-op jobs per second for a burst worker of one class, from its first job's start to its last job's end."""
    from support.lessons import scaling
    from support.rq_helpers import queues

    queues.empty_all()
    cost = scaling.per_job_cost(simple, jobs=n, timeout=300)
    queues.empty_all()
    return cost.jobs_per_second


def bench_end_to_end(runs: int = 30, delay: float = 0.5) -> dict[str, float]:
    """From `perform_later` to the email stored in the inbox, minus the job's own delay; an idle simple worker."""
    from support import active_job
    from support.rq_helpers import workers
    from support.services import inbox, mailcatcher, processes

    job_dir = Path(tempfile.mkdtemp())
    (job_dir / "bench_e2e_job.py").write_text(
        textwrap.dedent(f"""
        from support.active_job import ActiveJob
        from support.workit.mailer import deliver

        class BenchJob(ActiveJob):
            queue_as = "mailers"
            def perform(self, email, thought):
                return deliver(email, thought, delay={delay})
    """)
    )
    sys.path.insert(0, str(job_dir))
    from bench_e2e_job import BenchJob  # type: ignore[import-not-found]

    mailcatcher.start()
    inbox.clear()
    worker = workers.start_worker(["mailers"], simple=True, with_scheduler=False, path=job_dir)
    active_job.set_queue_adapter("rq")
    overheads = []
    for i in range(runs):
        sent = time.time()
        BenchJob.perform_later("e2e@example.com", f"run {i}")
        [message] = inbox.wait_for(1, match=lambda m, i=i: f"run {i}" in m.text, timeout=30)[:1]
        overheads.append(message.received.timestamp() - sent - delay)
        time.sleep(0.05)  # let the worker go idle again
    processes.stop(worker.name)
    inbox.clear()
    return {
        "e2e_overhead_p50_ms": round(statistics.median(overheads) * 1000, 1),
        "e2e_overhead_p99_ms": round(p(overheads, 99) * 1000, 1),
        "e2e_delay_s": delay,
    }


def bench_progress(n: int = 2000, rounds: int = 5) -> dict[str, float]:
    """Microseconds per check of a real exercise (07's Question 1, right and wrong in turn), with its progress line
    written to the state folder and with no listener at all: the median of `rounds` rounds of `n` checks."""
    from support.checks.quiz import q1
    from support.exercises import events

    def per_check() -> float:
        t0 = time.perf_counter()
        for i in range(n):
            q1.check("a c e" if i % 2 else "a")
        return (time.perf_counter() - t0) / n * 1e6

    subscribed = list(events.listeners)
    events.listeners.clear()
    try:
        without = statistics.median(per_check() for _ in range(rounds))
    finally:
        events.listeners[:] = subscribed
    recorded = statistics.median(per_check() for _ in range(rounds))
    return {
        "check_us": round(without, 1),
        "check_with_progress_us": round(recorded, 1),
        "progress_us_per_check": round(recorded - without, 1),
    }


def bench_course(workers: int = 2) -> dict[str, float]:
    """Wall time of the whole course (both editions) under strict pytest --nbval, as `make test` runs it: the two
    editions side by side on two pytest-xdist workers, each with its own state folder. `workers=0` runs them one
    after the other in one process, for comparison."""
    key = "course_nbval" if workers else "course_nbval_serial"
    t0 = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            str(workers),
            "instructor",
            "notebooks",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "tests/sanitize.cfg",
        ],  # pyproject.toml adds the rest
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    tail = result.stdout.strip().splitlines()[-1:] or ["?"]
    print(f"  pytest --nbval -n {workers}: {tail[0]}", file=sys.stderr)
    return {f"{key}_s": round(seconds, 1), f"{key}_passed": result.returncode == 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-course", action="store_true", help="do not time the notebooks under nbval")
    parser.add_argument(
        "--course-serial",
        action="store_true",
        help="also time both editions one after the other (about 4 minutes more)",
    )
    parser.add_argument("--delay", type=float, default=5.0, help="the mailer's delay for the inline figures")
    parser.add_argument("--posts", type=int, default=200, help="background posts to time")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="course-bench-")
    os.environ["COURSE_HOME"] = home
    os.environ.pop("REDIS_URL", None)
    from support.services import course

    figures: dict[str, object] = {
        "date": date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
    }
    try:
        steps = [
            ("progress recording", bench_progress),
            ("Redis start to PING", bench_redis_ready),
            ("mail catcher", bench_catcher),
            ("Work-It form", lambda: bench_app(args.delay, 3, args.posts)),
            ("enqueue", bench_enqueue),
            ("forking worker", lambda: {"worker_fork_jobs_per_s": round(bench_worker_throughput(False, 200), 1)}),
            ("simple worker", lambda: {"worker_simple_jobs_per_s": round(bench_worker_throughput(True, 1000), 1)}),
            ("perform_later to inbox", bench_end_to_end),
        ]
        for label, step in steps:
            print(f"- {label} ...", file=sys.stderr, flush=True)
            figures.update(step())
    finally:
        course.down()
    if not args.skip_course:
        print("- the whole course under pytest --nbval ...", file=sys.stderr, flush=True)
        os.environ.pop("COURSE_HOME")
        figures.update(bench_course())
        if args.course_serial:
            figures.update(bench_course(workers=0))
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
