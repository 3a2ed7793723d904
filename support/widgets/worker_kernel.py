"""A worker in a second Jupyter kernel, started from a notebook, with its log shown live in a widget.

The notebook you work in is one process; the worker must be another. ``WorkerKernel`` starts a fresh kernel (as
opening a second notebook would), runs an RQ worker in it, and copies everything the worker prints into a widget
in your notebook. ``stop()`` interrupts the worker (RQ's warm shutdown: it finishes the current job first) and
shuts the kernel down. The kernel is recorded in the state folder, so ``python -m support down`` stops it too; and
it ends by itself when the kernel that started it ends (Jupyter's parent check), so restarting your notebook's kernel
leaves no worker behind.

From a notebook cell, use ``support.lessons.kernels.start_worker_kernel()``: running that cell again reuses (or
replaces) the worker it started before instead of adding a second one.
"""

from __future__ import annotations

import os
import queue as queue_module
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import psutil
import redis
from jupyter_client import KernelManager
from jupyter_client.provisioning import LocalProvisioner
from rq.worker import BaseWorker

from ..rq_helpers import queues, workers
from ..services import processes, state
from .log_view import LogView

KERNEL_PREFIX = "kernel-worker-"


class WorkerKernel:
    """An RQ worker running in a second kernel of its own."""

    def __init__(
        self,
        queue_names: Sequence[str] = queues.QUEUE_NAMES,
        *,
        cwd: str | Path | None = None,
        simple: bool = False,
        with_scheduler: bool = True,
        log_title: str = "Worker log (second kernel)",
    ) -> None:
        self.queue_names = list(queue_names)
        self.cwd = Path(cwd or os.getcwd()).resolve()
        self.simple = simple
        self.with_scheduler = with_scheduler
        self.log = LogView(log_title, max_lines=24)
        self.name = ""
        self._km: KernelManager | None = None
        self._stop_reading = threading.Event()
        self._reader: threading.Thread | None = None
        self._done = threading.Event()
        self.rq_name = ""

    def start(self, timeout: float = 30.0) -> WorkerKernel:
        """Start the kernel and the worker in it; returns once the worker waits for jobs (registered in Redis, with
        its Ctrl+C handling in place, so that ``stop()`` right after is a clean warm shutdown)."""
        conn = queues.connection()
        with state.locked():
            self.name = processes.free_name(KERNEL_PREFIX)
            env = processes.course_env()
            env[processes.SERVICE_MARK] = self.name
            self._km = KernelManager(kernel_name="python3")
            # The kernel's own output (start-up warnings, a crash) goes to its log file, not into your notebook;
            # what the worker prints comes through the kernel's messages, into the log widget.
            with open(state.log_path(self.name), "ab") as kernel_log:
                self._km.start_kernel(cwd=str(self.cwd), env=env, stdout=kernel_log, stderr=kernel_log)
            provisioner = self._km.provisioner
            # the kernel is a local process (python3's kernelspec), started just now
            assert isinstance(provisioner, LocalProvisioner) and provisioner.process is not None
            processes.register(self.name, psutil.Process(provisioner.process.pid), queues=self.queue_names)
        client = self._km.client()
        client.start_channels()
        client.wait_for_ready(timeout=timeout)
        rq_name = self.rq_name = f"{self.name}-{uuid.uuid4().hex[:6]}"  # unique, also beside a crashed one's record
        code = (
            f"from support.rq_helpers.workers import run_worker\n"
            f"run_worker({self.queue_names!r}, simple={self.simple}, with_scheduler={self.with_scheduler}, "
            f"path={str(self.cwd)!r}, name={rq_name!r})"
        )
        client.execute(code, store_history=False)
        self._client = client
        self._reader = threading.Thread(target=self._read_output, name=f"{self.name}-log", daemon=True)
        self._reader.start()
        ok = processes.wait_until(lambda: self._waiting_for_jobs(conn) or self._done.is_set(), timeout, 0.05)
        if not ok or self._done.is_set():
            self.stop()
            raise processes.ServiceError(
                "The worker in the second kernel did not start:\n" + "\n".join(self.log.lines[-10:])
            )
        return self

    def _record(self, conn: redis.Redis) -> BaseWorker | None:
        """This worker's record in Redis, or None."""
        return workers.record(self.rq_name, conn)

    def _waiting_for_jobs(self, conn: redis.Redis) -> bool:
        # RQ registers a worker first and installs its Ctrl+C handling after; "idle" or "busy" come after both.
        record = self._record(conn)
        if record is None:
            return False
        status = record.get_state()
        return str(getattr(status, "value", status)) in ("idle", "busy")

    def _read_output(self) -> None:
        """Copy the kernel's output into the log widget until the worker's cell ends."""
        while not self._stop_reading.is_set():
            try:
                msg = self._client.get_iopub_msg(timeout=0.2)
            except queue_module.Empty:
                continue
            except Exception:  # the channels were closed under us
                break
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                self.log.append(content["text"])
            elif kind == "error":
                self.log.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))
            elif (
                kind == "status"
                and content.get("execution_state") == "idle"
                and msg.get("parent_header", {}).get("msg_type") == "execute_request"
            ):
                self._done.set()

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown: interrupt the worker (it finishes its current job), then shut the kernel down."""
        if self._km is None:
            return
        if self._km.is_alive():
            self._km.interrupt_kernel()
            self._done.wait(timeout)
        self._stop_reading.set()
        if self._reader is not None:
            self._reader.join(2)
        try:
            self._client.stop_channels()
        except Exception:
            pass
        self._km.shutdown_kernel(now=not self._done.is_set())
        self._km = None
        state.remove(self.name)
        self._forget_record()

    def _forget_record(self) -> None:
        """A worker that ends normally removes its record from Redis; one that was cut short leaves it behind, where
        dashboards would list it as a worker until it expires. Remove it."""
        if not self.rq_name:
            return
        try:
            record = self._record(queues.connection())
            if record is not None:
                record.register_death()
        except (redis.RedisError, processes.ServiceError):
            pass  # Redis is gone: so is the record

    @property
    def running(self) -> bool:
        return self._km is not None and self._km.is_alive() and not self._done.is_set()

    def __enter__(self) -> WorkerKernel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self) -> tuple:
        """What the worker was started with (two kernels with the same settings are interchangeable)."""
        return settings_key(self.queue_names, self.cwd, self.simple, self.with_scheduler)

    def __repr__(self) -> str:
        return f"WorkerKernel(queues={self.queue_names!r})"


def settings_key(queue_names: Sequence[str], cwd: str | Path | None, simple: bool, with_scheduler: bool) -> tuple:
    return tuple(queue_names), Path(cwd or os.getcwd()).resolve(), bool(simple), bool(with_scheduler)
