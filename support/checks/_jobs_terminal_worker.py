"""03's Exercise 3 checked: the worker the learner started in a terminal, as Redis and the process table show it.

Requirements: an ``rq worker`` on the course's Redis (it registered there: ``Worker.all``), listening to urgent,
mailers and default in that order (its queues as registered), with ``--with-scheduler`` (its command line: rq worker
reads the flag from nowhere else). A worker already registered is found at once; otherwise the check waits a few
seconds, for the learner who runs it right after pressing Enter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil

from ..exercises import Exercise, Incorrect, NotAttempted
from ..lessons import terminal_worker
from ..lessons.terminal_worker import SeenWorker
from ..rq_helpers import queues

WAIT_SECONDS = 4.0  # how long the check waits for a worker to register
ORDER = " > ".join(queues.QUEUE_NAMES)


def _problem(worker: SeenWorker) -> str | None:
    """What is wrong with one registered worker, or None."""
    if not worker.is_rq_worker:
        return (
            "A worker registered with the course's Redis, but not one started with RQ's own command "
            f"({' '.join(worker.command[:3]) or 'not on this machine'}...). Start it with rq worker, as the "
            "exercise shows."
        )
    if worker.queues != list(queues.QUEUE_NAMES):
        listed = " > ".join(worker.queues)
        if sorted(worker.queues) == sorted(queues.QUEUE_NAMES):
            return (
                f"Your worker listens to {listed}: the right queues in the wrong order. It asks them in the order "
                f"you typed them, so give them by priority: {ORDER}."
            )
        missing = [name for name in queues.QUEUE_NAMES if name not in worker.queues]
        return (
            f"Your worker listens to {listed}. It must listen to all three queues in priority order, {ORDER}: "
            f"jobs in {', '.join(missing) or 'those queues'} would wait for a worker that never comes."
        )
    if not worker.with_scheduler:
        return (
            "Your worker runs without its scheduler: jobs queued to run later (enqueue_in, a Retry's wait) would "
            "never be moved to their queue. Stop it with Ctrl+C and start it again with --with-scheduler."
        )
    if not _settings_given(worker):
        return (
            "Your worker reached the course's Redis through an address you typed: its password is now in your "
            "terminal's history. Stop it with Ctrl+C and start it with "
            f"-c {terminal_worker.SETTINGS_MODULE}, which gives it the address without showing it."
        )
    stops = [arg for arg in worker.command if arg.split("=")[0] in STOPS_BY_ITSELF]
    if stops:
        return (
            f"Your worker was started with {stops[0]}: it stops by itself ({STOPS_BY_ITSELF[stops[0].split('=')[0]]})"
            ", and the jobs queued after that wait for nobody. Leave it running: stop it with Ctrl+C and start it "
            f"again without {stops[0].split('=')[0]}."
        )
    return None


STOPS_BY_ITSELF = {  # rq 3.0.0 rq/cli/workers.py: the options that end a worker without Ctrl+C
    "--burst": "once its queues are empty",
    "-b": "once its queues are empty",
    "--max-jobs": "after that many jobs",
    "--max-idle-time": "after that many seconds without a job",
}


def _settings_given(worker: SeenWorker) -> bool:
    """Was the settings module named, with -c / --config or RQ_CONFIG (rq 3.0.0 rq/cli/helpers.py: the option's
    envvar), rather than the Redis address typed in?"""
    module, command = terminal_worker.SETTINGS_MODULE, worker.command
    for i, arg in enumerate(command):
        if arg in ("-c", "--config") and command[i + 1 : i + 2] == [module]:
            return True
        if arg in (f"--config={module}", f"-c{module}"):
            return True
    try:
        return psutil.Process(worker.pid).environ().get("RQ_CONFIG") == module
    except psutil.Error:
        return False


def check_terminal_worker() -> str:
    """Exercise 3: an rq worker on the course's Redis, urgent > mailers > default, with its scheduler."""
    seen = terminal_worker.wait_for_workers(WAIT_SECONDS)
    if not seen:
        stray = terminal_worker.rq_processes_here(Path.cwd())
        if stray:
            raise Incorrect(
                f"An rq worker runs in this folder, but it has not registered with the course's Redis: it "
                "connected to another one. Stop it with Ctrl+C and start it with "
                f"-c {terminal_worker.SETTINGS_MODULE}, whose REDIS_URL is the course's Redis."
            )
        raise NotAttempted(
            f"No worker has registered with the course's Redis (waited {WAIT_SECONDS:g} s). Type the command in a "
            "terminal opened in this folder, then run this check again. Did the worker end with an error, such as "
            "'HELLO must be called with the client already authenticated' or 'Connection refused'? Then it did not "
            f"reach the course's Redis with its password: -c {terminal_worker.SETTINGS_MODULE} gives it both."
        )
    problems = [problem for worker in seen if (problem := _problem(worker))]
    if problems:
        more = f" ({len(seen)} workers are registered: stop the others with Ctrl+C.)" if len(seen) > 1 else ""
        raise Incorrect(problems[0] + more)
    if len(seen) > 1:
        raise Incorrect(
            f"{len(seen)} workers are registered with the course's Redis (PIDs "
            f"{', '.join(str(worker.pid) for worker in seen)}): start one worker. A second takes jobs beside the "
            "first, so the order the next cells show is no longer one worker's. Keep one: stop the others with Ctrl+C."
        )
    return (
        f"Your worker registered with the course's Redis, listens to {ORDER} and runs its scheduler. Its log is "
        "in your terminal: leave it running."
    )


class TerminalWorkerExercise(Exercise):
    """Exercise 3. ``check()`` looks for the learner's worker; ``use()`` gives the worker later cells go on with:
    theirs when it still does (``terminal_worker.TerminalWorker``), else a worker in a second kernel."""

    def accept(self, value: Any) -> terminal_worker.TerminalWorker:
        seen = terminal_worker.registered_workers()
        if not seen or any(_problem(worker) for worker in seen):
            raise Incorrect("no worker from a terminal that does")
        started = {s.pid: s for s in terminal_worker.processes.running_numbered(terminal_worker.STARTED_PREFIX)}
        return terminal_worker.TerminalWorker(seen[-1], started.get(seen[-1].pid))

    def use(self, value: Any = None, *fallback_args: Any, quiet: bool = False) -> Any:
        """The worker to go on with (nothing to hand over: the worker is in Redis)."""
        return super().use(value, *fallback_args, quiet=quiet)


def worker_in_a_second_kernel() -> Any:
    """The fallback of Exercise 3: the same worker (three queues in order, its scheduler) in a second kernel."""
    from ..lessons import kernels  # jupyter_client: only when needed (see terminal_worker)

    return kernels.start_worker_kernel(cwd=".", log_title=terminal_worker.LOG_TITLE)
