"""Flake hunt: run both editions under strict nbval many times, idle and under a CPU hog, and count failures.

    python benchmarks/flake.py --runs 10                 # 10 rounds under the hog, 3 idle rounds for comparison
    python benchmarks/flake.py --runs 2 --idle-runs 0    # a quick look under load only
    python benchmarks/flake.py --notebooks 08_results_and_progress 09_reliability 10_operations   # these, both editions

One round is exactly what `make test-notebooks` runs, and the notebook part of `make test`: one chain in one state
folder (conftest.py), the learner edition last notebook first from an empty folder, then the instructor edition in
order on what the learner edition left. The hog is Debian's `stress-ng --cpu 2`, which keeps both cores of this machine
busy (installed with apt-get when missing, as root). Per notebook the table gives the rounds, the failures, and the
slowest round idle and under load (a notebook's time is the sum of its cells' times, kernel start included).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ["instructor", "notebooks"]
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/sanitize.cfg"]


@dataclass
class Tally:
    """What the rounds of one load saw of one notebook."""

    runs: int = 0
    failures: int = 0
    seconds: list[float] = field(default_factory=list)
    failed_cells: list[str] = field(default_factory=list)


def stress_ng() -> str:
    """The path of stress-ng, installing Debian's package when it is missing (needs root and apt-get)."""
    found = shutil.which("stress-ng")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("stress-ng is missing: install it (Debian/Ubuntu: apt-get install stress-ng), then run this again")
    print("Installing stress-ng from Debian ...", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "stress-ng"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("stress-ng") or sys.exit("stress-ng did not install")


class CpuHog:
    """`stress-ng --cpu N` for as long as the `with` block runs; stopped by its own PID (and process group)."""

    def __init__(self, cpus: int) -> None:
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> CpuHog:
        self.proc = subprocess.Popen(
            [stress_ng(), "--cpu", str(self.cpus), "--quiet"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # let its workers start
        if self.proc.poll() is not None:
            sys.exit(f"stress-ng exited at once (code {self.proc.returncode})")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: stress-ng and the workers it forked
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def targets(notebooks: list[str]) -> list[str]:
    """What one round runs: both editions whole, or only the named notebooks of each (``NAME`` or ``NAME.ipynb``)."""
    if not notebooks:
        return EDITIONS
    names = [n if n.endswith(".ipynb") else f"{n}.ipynb" for n in notebooks]
    missing = [f"{e}/{n}" for e in EDITIONS for n in names if not (ROOT / e / n).is_file()]
    if missing:
        sys.exit(f"no such notebook: {', '.join(missing)}")
    return [f"{e}/{n}" for e in EDITIONS for n in names]


def one_round(report: Path, paths: list[str]) -> tuple[float, str]:
    """Run both editions once, as `make test-notebooks` does (one chain); the wall time and pytest's last line."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "2",
            *paths,
            *NBVAL,
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return time.perf_counter() - started, lines[-1] if lines else f"pytest exited {done.returncode}"


def read_report(report: Path, tallies: dict[str, Tally]) -> list[str]:
    """Add one round's junit report to the per-notebook tallies; returns the round's failed cells."""
    seconds: dict[str, float] = defaultdict(float)
    failed: dict[str, list[str]] = defaultdict(list)
    for case in ET.parse(report).iter("testcase"):
        notebook = case.get("file") or case.get("classname", "?")
        seconds[notebook] += float(case.get("time", 0))
        if case.find("failure") is not None or case.find("error") is not None:
            failed[notebook].append(case.get("name", "?"))
    for notebook, total in seconds.items():
        tally = tallies.setdefault(notebook, Tally())
        tally.runs += 1
        tally.seconds.append(total)
        if failed[notebook]:
            tally.failures += 1
            tally.failed_cells.extend(failed[notebook])
    return [f"{notebook}::{cell}" for notebook, cells in sorted(failed.items()) for cell in cells]


def hunt(rounds: int, tallies: dict[str, Tally], label: str, paths: list[str]) -> list[float]:
    walls = []
    with tempfile.TemporaryDirectory(prefix="flake-") as tmp:
        for n in range(1, rounds + 1):
            report = Path(tmp) / f"round{n}.xml"
            wall, last = one_round(report, paths)
            walls.append(wall)
            failed = read_report(report, tallies) if report.exists() else []
            print(f"  {label} round {n}/{rounds}: {wall:.0f} s, {last}", file=sys.stderr, flush=True)
            for cell in failed:
                print(f"    failed: {cell}", file=sys.stderr, flush=True)
    return walls


def table(idle: dict[str, Tally], loaded: dict[str, Tally]) -> list[dict[str, object]]:
    rows = []
    for notebook in sorted(set(idle) | set(loaded)):
        i, h = idle.get(notebook, Tally()), loaded.get(notebook, Tally())
        slow_idle = max(i.seconds, default=0.0)
        slow_load = max(h.seconds, default=0.0)
        rows.append(
            {
                "notebook": notebook,
                "idle_runs": i.runs,
                "idle_failures": i.failures,
                "idle_slowest_s": round(slow_idle, 1),
                "load_runs": h.runs,
                "load_failures": h.failures,
                "load_slowest_s": round(slow_load, 1),
                "load_vs_idle": round(slow_load / slow_idle, 2) if slow_idle and slow_load else None,
                "failed_cells": sorted(set(i.failed_cells + h.failed_cells)),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="rounds under the CPU hog (default 10)")
    parser.add_argument("--idle-runs", type=int, default=3, help="rounds with nothing else running (default 3)")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="stress-ng --cpu N (default: all cores)")
    parser.add_argument(
        "--notebooks",
        nargs="*",
        default=[],
        metavar="NAME",
        help="only these notebooks, in both editions (default: every notebook)",
    )
    args = parser.parse_args()
    paths = targets(args.notebooks)

    idle: dict[str, Tally] = {}
    loaded: dict[str, Tally] = {}
    print(
        f"Flake hunt: {args.idle_runs} idle round(s), then {args.runs} under stress-ng --cpu {args.cpus}",
        file=sys.stderr,
        flush=True,
    )
    idle_walls = hunt(args.idle_runs, idle, "idle", paths)
    load_walls: list[float] = []
    if args.runs:
        with CpuHog(args.cpus):
            load_walls = hunt(args.runs, loaded, "under load", paths)

    rows = table(idle, loaded)
    print(f"\n{'notebook':<46} {'idle':>10} {'slowest':>8}   {'load':>10} {'slowest':>8} {'ratio':>6}")
    for row in rows:
        ratio = f"{row['load_vs_idle']:.2f}" if row["load_vs_idle"] else "-"
        print(
            f"{row['notebook']:<46} {row['idle_failures']:>3} of {row['idle_runs']:<3} {row['idle_slowest_s']:>7}s"
            f"   {row['load_failures']:>3} of {row['load_runs']:<3} {row['load_slowest_s']:>7}s {ratio:>6}"
        )
        if row["failed_cells"]:
            print(f"    failed: {', '.join(row['failed_cells'])}")
    failures = sum(int(row["idle_failures"]) + int(row["load_failures"]) for row in rows)
    print(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "cpus_hogged": args.cpus,
                "idle_rounds": len(idle_walls),
                "load_rounds": len(load_walls),
                "idle_round_s_max": round(max(idle_walls, default=0), 1),
                "load_round_s_max": round(max(load_walls, default=0), 1),
                "failures": failures,
                "notebooks": rows,
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
