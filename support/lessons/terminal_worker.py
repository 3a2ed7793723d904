"""The worker a learner starts in a terminal with RQ's own command, for ``03_jobs`` (the Rails lesson's
``bundle exec sidekiq``).

``TERMINAL_STEPS`` are the lines to type in a JupyterLab terminal whose folder is the repository's ``notebooks/``
(the browser test types them; the worker keeps running until Ctrl+C). ``rq worker -c worker_settings`` imports the
settings module ``worker_settings.py`` that 03 writes beside the notebook, and connects to its ``REDIS_URL``
(rq 3.0.0 ``rq/cli/helpers.py`` ``read_config_file``, ``CliConfig.connection``): the course's Redis, password
included, which nobody types or sees.

``registered_workers()`` is what the notebook sees of such a worker: its record in Redis (``Worker.all``) and its
process (the command line it was started with). ``start_as_typed()`` runs the same command as a course process,
for a run with nobody at the keyboard (the instructor edition under the tests); ``worker_in_use`` and
``stop_worker`` give later cells one worker to show and stop, whichever kind it is.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
from rq import Worker
from rq.worker import BaseWorker

from ..exercises import note
from ..rq_helpers import queues
from ..services import processes, state
from ..services.processes import Service

if TYPE_CHECKING:
    from ..widgets.log_view import LogView
    from ..widgets.worker_kernel import WorkerKernel

# The widgets (ipywidgets, jupyter_client) are imported when used: support.checks.jobs imports this module, and the
# reference job classes there are imported by every worker and by the Work-It app, which must stay quick to start.

RQ_PROGRAM = "../.venv/bin/rq"  # the course's rq, seen from notebooks/ (make lab installs it in .venv)
SETTINGS_MODULE = "worker_settings"  # rq worker -c imports it by this name, from the folder it runs in
COMMAND = f"{RQ_PROGRAM} worker -c {SETTINGS_MODULE} {' '.join(queues.QUEUE_NAMES)} --with-scheduler"
TERMINAL_STEPS: list[str] = [COMMAND]

LOG_TITLE = "Worker log"  # the same for every kind of worker: later cells show it alike
STARTED_PREFIX = "rq-worker-"  # an `rq worker` the course started (start_as_typed): make down stops it
COURSE_NAMES = (
    "kernel-worker-",
    "course-",
    "notebook-",
)  # (worker_kernel.KERNEL_PREFIX is the first)  # workers the course names itself: never the learner's
SCHEDULER_FLAGS = ("--with-scheduler", "-s")


@dataclass
class SeenWorker:
    """A worker registered with the course's Redis, as the notebook sees it."""

    name: str
    queues: list[str]
    pid: int
    command: list[str] = field(default_factory=list)  # its process's command line; empty when not on this machine

    @property
    def is_rq_worker(self) -> bool:
        """Started with RQ's command, ``rq worker`` (``.venv/bin/rq``, ``rq`` on the PATH, ``python -m rq.cli``)."""
        args = self.command
        for i, arg in enumerate(args[:-1]):
            if (Path(arg).name == "rq" or arg == "rq.cli") and args[i + 1] == "worker":
                return True
        return False

    @property
    def with_scheduler(self) -> bool:
        """Started with ``--with-scheduler`` (``-s``): rq worker reads it from its command line only."""
        return any(arg in SCHEDULER_FLAGS for arg in self.command)


def _command_of(worker: BaseWorker) -> list[str] | None:
    """The command line of `worker`'s process when it runs on this machine, [] when it runs elsewhere, None when
    its process is gone (a record left behind)."""
    if worker.hostname != socket.gethostname() or not worker.pid:
        return []
    try:
        return psutil.Process(worker.pid).cmdline()
    except psutil.Error:
        return None


def registered_workers() -> list[SeenWorker]:
    """Every live worker registered with the course's Redis that the course did not start under a name of its own,
    oldest first."""
    found = []
    for worker in sorted(Worker.all(connection=queues.connection()), key=lambda w: w.birth_date or 0):
        command = _command_of(worker)
        if command is None or worker.name.startswith(COURSE_NAMES):
            continue
        found.append(SeenWorker(worker.name, worker.queue_names(), worker.pid or 0, command))
    return found


def wait_for_workers(timeout: float) -> list[SeenWorker]:
    """``registered_workers()`` as soon as there is one, waiting at most `timeout` seconds."""
    seen: list[SeenWorker] = []

    def any_seen() -> bool:
        seen[:] = registered_workers()
        return bool(seen)

    processes.wait_until(any_seen, timeout, 0.1)
    return seen


def rq_processes_here(folder: str | Path = ".") -> list[psutil.Process]:
    """This user's ``rq worker`` processes running in `folder` (registered with a Redis or not)."""
    folder, me = Path(folder).resolve(), psutil.Process().username()
    found = []
    for proc in psutil.process_iter(["cmdline", "username"]):
        try:
            if proc.info["username"] != me or proc.pid == os.getpid():
                continue
            if SeenWorker("", [], proc.pid, proc.info["cmdline"] or []).is_rq_worker and Path(proc.cwd()) == folder:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def rq_program() -> str:
    """The rq command of the Python running this kernel (``.venv/bin/rq`` under ``make lab``)."""
    return str(Path(sys.executable).parent / "rq")


def start_as_typed(timeout: float = 20.0) -> Service:
    """Run ``COMMAND`` as a course process in this kernel's folder, as the terminal would (nobody types under the
    tests); returns once it has registered, or the one it started before and still runs. ``stop_worker``,
    ``stop_workers_started_here`` and ``make down`` stop it."""
    running = processes.running_numbered(STARTED_PREFIX)
    if running:
        return running[0]
    conn, before = queues.connection(), {w.name for w in Worker.all(connection=queues.connection())}

    def command(name: str) -> tuple[list[str], dict[str, object]]:
        return [rq_program(), *COMMAND.split()[1:]], {"queues": list(queues.QUEUE_NAMES)}

    def registered(service: Service) -> bool:
        return any(w.pid == service.pid and w.name not in before for w in Worker.all(connection=conn))

    return processes.start_numbered(STARTED_PREFIX, command, registered, "rq worker", timeout)


def _log_view() -> LogView:
    from ..widgets.log_view import LogView

    return LogView(LOG_TITLE, max_lines=24)


@dataclass
class TerminalWorker:
    """The worker from a terminal that later cells go on with: its log (the course's process's log file, or a line
    pointing to the learner's own terminal) and how to stop it."""

    seen: SeenWorker
    service: Service | None = None  # set when the course started it (start_as_typed)
    log: LogView = field(default_factory=lambda: _log_view())

    def __post_init__(self) -> None:
        if self.service is None:
            self.log.append("This worker writes its log in its terminal: look there.")
            return
        threading.Thread(target=self._follow, args=(state.log_path(self.service.name),), daemon=True).start()

    def _follow(self, path: Path) -> None:
        """Copy the log file's lines into the widget while the process runs (like ``tail -f``)."""
        assert self.service is not None
        with open(path, errors="replace") as log:
            earlier = log.read()  # the file is appended to, run after run: show this process's lines only
            start = earlier.rfind("\n", 0, max(0, earlier.rfind(f"started with PID {self.service.pid},"))) + 1
            pending = earlier[start:]
            while True:
                pending += log.read()
                lines, _, pending = pending.rpartition("\n")
                if lines:
                    self.log.append(lines)
                elif not self.service.alive():
                    return
                else:
                    time.sleep(0.2)

    def stop(self) -> bool:
        """Stop it when the course started it (SIGTERM: a warm shutdown); a worker of your own is yours."""
        if self.service is None:
            return False
        return processes.stop(self.service.name, timeout=10.0)

    def __repr__(self) -> str:
        return f"TerminalWorker(queues={self.seen.queues!r})"


def stop_worker(worker: TerminalWorker | WorkerKernel | None) -> bool:
    """Stop the notebook's worker, whichever kind: the second kernel, or an rq worker the course started; True when
    it ran. A worker you started in a terminal stays: press Ctrl+C there (the note says so)."""
    from . import kernels

    if isinstance(worker, TerminalWorker) and worker.service is None:
        note("Your worker runs in your terminal: press Ctrl+C there to stop it (a warm shutdown).")
        return False
    if isinstance(worker, kernels.WorkerKernel):
        return kernels.stop_worker_kernel()
    return worker.stop() if worker is not None else False


def stop_workers_started_here() -> int:
    """Stop the workers an earlier run of the notebook started (its second kernel, an rq worker the course ran for
    it); returns how many ran. A worker you started in a terminal is yours: it keeps running."""
    from . import kernels

    stopped = sum(processes.stop(s.name, timeout=10.0) for s in processes.running_numbered(STARTED_PREFIX))
    return stopped + kernels.stop_worker_kernel()
