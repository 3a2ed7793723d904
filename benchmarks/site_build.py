"""How long `make site` takes: a clean build of the course's website (tools/site.py) and a second build with nothing
changed, each where no network answers (`unshare -n` where allowed, as tests/test_site.py builds it); the site's size.

    .venv/bin/python benchmarks/site_build.py [--runs 3]

Its last line is one JSON object (benchmarks/figures.py).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from figures import print_figures  # noqa: E402


def offline_prefix() -> list[str]:
    """`unshare -n --` when a network namespace can be made here, else nothing (the build is then not isolated)."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "--", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n", "--"]
    return []


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_build(out: Path, clean: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one build; on a busy machine the wall time is mostly waiting for a core."""
    command = [*offline_prefix(), sys.executable, "tools/site.py", "--out", str(out), *(["--clean"] if clean else [])]
    started, cpu = time.monotonic(), _cpu()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the build failed:\n{done.stdout}{done.stderr}")
    return seconds, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="clean builds to time (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
        out = Path(tmp) / "site"
        runs = [timed_build(out, clean=True) for _ in range(args.runs)]
        clean = [wall for wall, _ in runs]
        again, _ = timed_build(out, clean=False)
        load = round(os.getloadavg()[0], 1)
        files = [p for p in out.rglob("*") if p.is_file()]
        print_figures(
            {
                "site_offline": bool(offline_prefix()),
                "site_clean_build_s_median": round(statistics.median(clean), 2),
                "site_clean_build_s_max": round(max(clean), 2),
                "site_clean_build_cpu_s_median": round(statistics.median(cpu for _, cpu in runs), 2),
                "load_average_1min": load,
                "site_rebuild_unchanged_s": round(again, 2),
                "site_pages": sum(p.suffix == ".html" for p in files),
                "site_megabytes": round(sum(p.stat().st_size for p in files) / 1e6, 1),
            }
        )


if __name__ == "__main__":
    main()
