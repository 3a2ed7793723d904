"""Per-learner footprint on a shared server: the memory of one learner's course, and N learners running 03 at once.

    python benchmarks/footprint.py                       # memory of one learner, then N = 1, 4, 8 side by side
    python benchmarks/footprint.py --learners 1 2        # a quicker look

Memory: in a state folder of its own, one learner's services are started as notebook 04 has them (Redis, the mail
catcher, the Work-It app, rq-dashboard and one worker), plus one notebook kernel that has imported the course and
queued nothing; each process is measured by its proportional set size (PSS: shared pages split between the
processes that share them), children included (a worker's scheduler).

Side by side: N learners each run notebook 03 (instructor edition) under nbval at the same moment, each in a copy
of the notebook folder and a state folder of their own, as N users of one JupyterHub would. For each N the table
gives how many passed, the median and slowest wall time, and how much slower the slowest was than one learner
alone. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOTEBOOK = "03_jobs.ipynb"
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "tests" / "sanitize.cfg")]
MB = 1024 * 1024


def pss_mb(pid: int) -> float:
    """PSS of a process and all its descendants, in MB (0 for a process that is gone)."""
    try:
        proc = psutil.Process(pid)
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for member in family:
        try:
            total += member.memory_full_info().pss
        except psutil.Error:
            continue
    return total / MB


def one_learner_memory() -> dict[str, float]:
    """MB of PSS per course process of one learner, and of one notebook kernel that imported the course."""
    from jupyter_client.manager import start_new_kernel

    from support.rq_helpers import workers
    from support.services import course

    with tempfile.TemporaryDirectory(prefix="footprint-") as home:
        os.environ["COURSE_HOME"] = home
        try:
            services = course.up("redis", "catcher", "app", "dashboard", quiet=True)
            worker = workers.start_worker()
            kernel, client = start_new_kernel(
                kernel_name="python3", env={**os.environ}, cwd=str(ROOT / "instructor"), stderr=subprocess.DEVNULL
            )
            try:
                client.execute_interactive(
                    "from support import dashboard\n"
                    "from support.rq_helpers import queues, workers\n"
                    "from support.services import course\n"
                    "_ = course.up('redis', 'catcher', quiet=True)",
                    timeout=60,
                    output_hook=lambda _msg: None,
                )
                time.sleep(2)  # let every process settle after start-up
                sizes = {name: pss_mb(service.pid) for name, service in services.items()}
                sizes["worker"] = pss_mb(worker.pid)
                sizes["kernel"] = pss_mb(kernel.provisioner.process.pid)
            finally:
                client.stop_channels()
                kernel.shutdown_kernel(now=True)
        finally:
            course.down()
            os.environ.pop("COURSE_HOME", None)
    return sizes


def run_learners(n: int, work: Path) -> list[dict[str, object]]:
    """N learners run 03 under nbval at the same moment; each one's wall time and result."""
    results: list[dict[str, object]] = [{} for _ in range(n)]

    def learner(k: int) -> None:
        folder = work / f"n{n}-learner{k}"
        shutil.copytree(ROOT / "instructor", folder / "instructor")
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:xdist",
                "--rootdir",
                str(ROOT),
                "--basetemp",
                str(folder / "tmp"),
                *NBVAL,
                str(folder / "instructor" / NOTEBOOK),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        results[k] = {
            "seconds": time.perf_counter() - started,
            "passed": done.returncode == 0,
            "last": lines[-1] if lines else f"exit {done.returncode}",
        }

    threads = [threading.Thread(target=learner, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    memory = one_learner_memory()
    services_mb = sum(v for k, v in memory.items() if k != "kernel")
    print("One learner's processes (PSS, MB):")
    for name, size in memory.items():
        print(f"  {name:<10} {size:7.1f}")
    print(f"  {'services':<10} {services_mb:7.1f}  (without the kernel)")
    print(f"  {'total':<10} {services_mb + memory['kernel']:7.1f}  (with one kernel)")

    rows = []
    work = ROOT / ".footprint"
    shutil.rmtree(work, ignore_errors=True)
    try:
        for n in args.learners:
            results = run_learners(n, work)
            seconds = [float(r["seconds"]) for r in results]
            rows.append(
                {
                    "learners": n,
                    "passed": sum(bool(r["passed"]) for r in results),
                    "median_s": round(statistics.median(seconds), 1),
                    "slowest_s": round(max(seconds), 1),
                    "failures": [r["last"] for r in results if not r["passed"]],
                }
            )
            print(
                f"{n} learner(s) running {NOTEBOOK}: {rows[-1]['passed']}/{n} passed, median "
                f"{rows[-1]['median_s']} s, slowest {rows[-1]['slowest_s']} s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    alone = rows[0]["slowest_s"] if rows and rows[0]["learners"] == 1 else None
    print(f"\n| learners running {NOTEBOOK} at once | passed | median | slowest | slowest vs one alone |")
    print("|---|---|---|---|---|")
    for row in rows:
        ratio = f"{row['slowest_s'] / alone:.1f}x" if alone else "-"
        print(
            f"| {row['learners']} | {row['passed']}/{row['learners']} | {row['median_s']} s | {row['slowest_s']} s "
            f"| {ratio} |"
        )
    cpus, total_gb = psutil.cpu_count(), psutil.virtual_memory().total / 1024**3
    print(
        json.dumps(
            {
                "machine": {"cpus": cpus, "memory_gb": round(total_gb, 1)},
                "memory_mb": {k: round(v, 1) for k, v in memory.items()},
                "services_mb": round(services_mb, 1),
                "side_by_side": rows,
            }
        )
    )
    return 0 if all(row["passed"] == row["learners"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
