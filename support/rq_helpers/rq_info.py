"""``rq info``, the terminal's view of the queues: run the real command against the course's Redis, and make its
output stable enough to store in a notebook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..services import redis_server
from .queues import QUEUE_NAMES


def _rq_command() -> list[str]:
    script = Path(sys.executable).parent / "rq"
    if script.exists():
        return [str(script)]
    found = shutil.which("rq")
    return [found] if found else [sys.executable, "-m", "rq.cli"]


_WORKER_LINE = re.compile(r"^\S+ \([^()]*\): (?=\w+ )")  # "name (host ip:port pid): idle urgent, ..."


def rq_info(stable: bool = False, queue_names: Sequence[str] = QUEUE_NAMES, timeout: float = 30.0) -> str:
    """What ``RQ_REDIS_URL=<the URL> rq info urgent mailers default`` prints for the course's Redis.

    With `stable`, the parts that change from run to run are left out: each worker's name, host and PID become
    ``<worker>`` (lines sorted), and the ``Updated:`` time line is dropped.
    """
    argv = [*_rq_command(), "info", *queue_names]  # the URL (with the password) in RQ_REDIS_URL, not on argv
    env = {**os.environ, "RQ_REDIS_URL": redis_server.url()}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"rq info failed ({done.returncode}): {done.stderr.strip()}")
    text = done.stdout
    if not stable:
        return text
    lines = [line for line in text.rstrip("\n").splitlines() if not line.startswith("Updated:")]
    while lines and not lines[-1].strip():
        lines.pop()
    worker_lines = sorted(_WORKER_LINE.sub("<worker>: ", line) for line in lines if _WORKER_LINE.match(line))
    if worker_lines:
        first = next(i for i, line in enumerate(lines) if _WORKER_LINE.match(line))
        lines = [line for line in lines if not _WORKER_LINE.match(line)]
        lines[first:first] = worker_lines
    return "\n".join(lines) + "\n"
