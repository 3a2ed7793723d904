"""How long proving a change takes: `make test`, `make test-fast` and CI's `.ci/run`, each on a fresh clone.

    python benchmarks/test_time.py                  # make test (set-up included), then make test-fast
    python benchmarks/test_time.py --ci             # also .ci/run on another fresh clone (both Pythons)
    python benchmarks/test_time.py --hog            # the same under Debian's stress-ng --cpu 2 (see flake.py)
    python benchmarks/test_time.py --only fast      # one of: test, fast, ci

Each command runs in a clone of this checkout's HEAD (``git clone``: committed work only), in a temporary folder,
with nothing set up: the venv is made from scratch, as on a new machine. The figures are wall-clock seconds, read
off the commands' own lines (``Phase: ... took N s``, pytest's ``Time by phase`` and its summary line). Targets
(issue 21, 2 cores): ``make test`` at most 600 s with set-up, ``.ci/run`` at most 1,200 s, ``make test-fast`` at
most 90 s once set up (it runs twice in its clone: with the set-up, then again, as in the loop while editing).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from figures import print_figures  # benchmarks/figures.py, next to this script
from flake import CpuHog

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"test": 600, "fast": 90, "ci": 1200}


def fresh_clone(parent: Path) -> Path:
    """A clone of HEAD in `parent`, as a learner or CI gets it."""
    target = parent / "course"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True)
    return target


def run(argv: list[str], cwd: Path, log: Path, like_ci: bool = False) -> tuple[float, int, str]:
    """Run `argv` in `cwd` with its output in `log`; the wall time, the exit code and the output. `like_ci`: the
    environment CI gives, ``CI=true`` and no ``SHELL`` (so JupyterLab's terminals run ``sh``, dash on Debian)."""
    dropped = ("COURSE_HOME", "REDIS_URL", "VIRTUAL_ENV") + (("SHELL",) if like_ci else ())
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if like_ci:
        env["CI"] = "true"
    started = time.perf_counter()
    with open(log, "w") as out:
        code = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    return time.perf_counter() - started, code, log.read_text(errors="replace")


def phases(output: str) -> dict[str, float]:
    """The phase times the commands print: the Makefile's ``Phase: X took N s``, pytest's ``Time by phase``
    (summed over the workers), the wall time of each pytest session, and .ci/run's lines."""
    found: dict[str, float] = {}
    for name, seconds in re.findall(r"^Phase: (.+?) took (\d+) s$", output, re.M):
        found[name] = found.get(name, 0) + float(seconds)
    blocks = re.findall(r"^Time by phase .*\n((?: +[\d.]+ s  .+\n?)+)", output, re.M)
    for n, block in enumerate(blocks, start=1):
        for seconds, name in re.findall(r"^ +([\d.]+) s  (.+)$", block, re.M):
            found[f"pytest session {n}: {name} (summed over workers)"] = float(seconds)
    for n, seconds in enumerate(re.findall(r"^=+ .*? in ([\d.]+)s(?: \([\d:]+\))? =+$", output, re.M), start=1):
        found[f"pytest session {n}: wall"] = float(seconds)
    for name, seconds in re.findall(r"^(Default Python: make test|Python 3\.13: [\w ,-]+) took (\d+) s$", output, re.M):
        found[name] = float(seconds)
    return found


def summary(output: str) -> str:
    lines = re.findall(r"^=+ (.*? in [\d.]+s.*?) =+$", output, re.M)
    return lines[-1] if lines else "(no pytest summary)"


def measure(what: str, parent: Path) -> dict[str, object]:
    clone = fresh_clone(parent / what)
    argv = {"test": ["make", "test"], "fast": ["make", "test-fast"], "ci": ["bash", ".ci/run"]}[what]
    print(f"{' '.join(argv)} in a fresh clone ...", file=sys.stderr, flush=True)
    seconds, code, output = run(argv, clone, parent / f"{what}.log", like_ci=what == "ci")
    result: dict[str, object] = {"command": " ".join(argv), "seconds": round(seconds), "exit": code}
    if what == "fast":  # the loop while editing: the same command again, the venv now set up; the target is for it
        result["seconds with set-up"] = result.pop("seconds")
        seconds, code, output = run(argv, clone, parent / f"{what}-again.log")
        result.update({"seconds": round(seconds), "exit": code or result["exit"]})
    result.update(
        {"target_s": TARGETS[what], "within_target": code == 0 and seconds <= TARGETS[what], "pytest": summary(output)}
    )
    result.update({k: round(v, 1) for k, v in phases(output).items()})
    if code != 0:
        print(output[-4000:], file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ci", action="store_true", help="also time .ci/run (both Pythons) on a fresh clone")
    parser.add_argument("--hog", action="store_true", help="under stress-ng --cpu 2 (installed if missing, as root)")
    parser.add_argument("--only", choices=sorted(TARGETS), help="time one command only")
    args = parser.parse_args()
    chosen = [args.only] if args.only else ["test", "fast"] + (["ci"] if args.ci else [])
    figures: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()}",
        "hog": "stress-ng --cpu 2" if args.hog else "idle",
    }
    failed = False
    with tempfile.TemporaryDirectory(prefix="test-time-") as tmp, CpuHog(2) if args.hog else nullcontext():
        for what in chosen:
            (Path(tmp) / what).mkdir()
            result = measure(what, Path(tmp))
            failed |= result["exit"] != 0
            figures.update({f"{what}: {key}": value for key, value in result.items()})
    print_figures(figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
