"""How long the course's services outlive the Jupyter server that started them (issue 27): `make lab` as a learner
runs it, a kernel of it starts Redis, the mail catcher and Work-It (``course.up``), then the server is stopped as
Ctrl+C stops it (SIGINT to make's process group) or as a hub, its idle culler or systemd stop it (SIGTERM to the
server). Measured: seconds from the signal until the server has ended, and until no process of the course's state
folder is left (the watchdog of ``support.services.server_watch`` stops them).

    .venv/bin/python benchmarks/server_stop.py [--runs 3]

Each run has a state folder and Jupyter folders of its own. Its last line is one JSON object (benchmarks/figures.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

import psutil  # noqa: E402
from figures import print_figures  # noqa: E402
from test_lab_start import make_lab  # noqa: E402  (the tests' own `make lab` runner: free port, no browser)
from test_server_stop import KERNEL_CODE, processes_of, run_in_new_kernel  # noqa: E402

from support.services import course, processes  # noqa: E402

WAYS = {"Ctrl+C on make lab": signal.SIGINT, "SIGTERM to the server": signal.SIGTERM}


def one_stop(how: str, scratch: Path) -> tuple[float, float]:
    """(seconds until the server ended, seconds until no course process of its state folder is left)."""
    home = scratch / "course"
    os.environ["COURSE_HOME"] = str(home)  # make lab, its server and its kernels inherit it
    try:
        with make_lab("lab", scratch) as url:
            (info,) = [json.loads(f.read_text()) for f in (scratch / "runtime").glob("jpserver-*.json")]
            server = psutil.Process(info["pid"])
            make = server.parent()
            assert make is not None
            run_in_new_kernel(url, scratch / "runtime", KERNEL_CODE)
            if len(processes_of(home)) != 4:
                raise SystemExit(f"expected Redis, the catcher, Work-It and the watchdog: {processes_of(home)}")
            began = time.monotonic()
            if WAYS[how] == signal.SIGINT:
                os.killpg(make.pid, signal.SIGINT)  # what a terminal sends its foreground process group
            else:
                server.send_signal(signal.SIGTERM)
            server.wait(30)
            server_ended = time.monotonic() - began
            if not processes.wait_until(lambda: not processes_of(home), 30, 0.02):
                raise SystemExit(f"{how}: course processes still running 30 s after the signal")
            return server_ended, time.monotonic() - began
    finally:
        course.down()  # nothing left whatever happened (a no-op when the watchdog stopped everything)
        os.environ.pop("COURSE_HOME", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "load average": round(os.getloadavg()[0], 1)}
    for how in WAYS:
        ended, gone = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="server-stop-") as tmp:
                server_s, left_s = one_stop(how, Path(tmp))
            ended.append(server_s)
            gone.append(left_s)
            print(f"{how}: server ended {server_s:.2f} s, no course process {left_s:.2f} s", file=sys.stderr)
        figures[f"{how}: server ended, median s"] = round(statistics.median(ended), 2)
        figures[f"{how}: no course process left, median s"] = round(statistics.median(gone), 2)
        figures[f"{how}: no course process left, max s"] = round(max(gone), 2)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
