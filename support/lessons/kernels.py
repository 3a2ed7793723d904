"""One worker kernel per notebook, for ``03_jobs``: ``start_worker_kernel()`` in a cell that may run twice.

The worker kernel itself (a second Jupyter kernel running an RQ worker, its log shown live) is
``support.widgets.worker_kernel.WorkerKernel``; this module remembers the one that this process started.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..rq_helpers import queues
from ..widgets.log_view import LogView
from ..widgets.worker_kernel import KERNEL_PREFIX, WorkerKernel, settings_key

__all__ = ["KERNEL_PREFIX", "LogView", "WorkerKernel", "start_worker_kernel", "stop_worker_kernel"]

_current: WorkerKernel | None = None  # the worker kernel that start_worker_kernel() started in this process


def start_worker_kernel(
    queue_names: Sequence[str] = queues.QUEUE_NAMES,
    *,
    cwd: str | Path | None = None,
    simple: bool = False,
    with_scheduler: bool = True,
    timeout: float = 30.0,
    log_title: str = "Worker log (second kernel)",
) -> WorkerKernel:
    """Start a worker in a second kernel, or return the one this process already runs with the same settings.

    Made for a notebook cell that may run twice: it never leaves two workers behind. A worker kernel that an
    earlier call started with other settings, or that has stopped, is stopped (cleaned up) and replaced.
    `log_title` heads its log widget.
    """
    global _current
    old = _current
    if old is not None:
        if old.running and old.settings() == settings_key(queue_names, cwd, simple, with_scheduler):
            return old
        _current = None
        old.stop()
    kernel = WorkerKernel(queue_names, cwd=cwd, simple=simple, with_scheduler=with_scheduler, log_title=log_title)
    _current = kernel.start(timeout)
    return _current


def stop_worker_kernel() -> bool:
    """Stop the worker kernel that ``start_worker_kernel`` started; True when one was running."""
    global _current
    old, _current = _current, None
    if old is None:
        return False
    was_running = old.running
    old.stop()
    return was_running
