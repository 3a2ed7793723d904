"""Work-It on Django's Tasks, for ``12_django_tasks``: Django set up in the kernel, the worker a learner starts in a
terminal with Django's management command ``rqworker`` (django-rq), the database backend's ``db_worker``
(django-tasks-db), the form submitted to the project's view, and the time from ``enqueue()`` to the inbox.

``TERMINAL_STEPS`` are the lines to type in a JupyterLab terminal opened in ``notebooks/`` (the browser test types
them); ``start_as_typed()`` runs the same command as a course process, for a run with nobody at the keyboard.
Both workers run in the notebook's folder with ``--pythonpath .``, so that they import the learner's
``workit_tasks.py`` by the dotted path stored with each task.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from rq import Worker
from rq.worker import BaseWorker

from ..rq_helpers import queues
from ..services import inbox, processes, state
from ..services.processes import Service

SETTINGS = "support.workit.django_app.settings"
QUEUES = ["urgent", "mailers", "default"]
DJANGO_ADMIN = "../.venv/bin/django-admin"  # the course's django-admin, seen from notebooks/
COMMAND = (
    f"{DJANGO_ADMIN} rqworker --settings {SETTINGS} --pythonpath . --job-class django_tasks_rq.Job "
    f"{' '.join(QUEUES)} --with-scheduler"
)
TERMINAL_STEPS: list[str] = [COMMAND]
DB_COMMAND = f"{DJANGO_ADMIN} db_worker --settings {SETTINGS} --pythonpath . --backend database --queue-name *"
RQ_PREFIX, DB_PREFIX = "django-rqworker-", "django-dbworker-"


def setup() -> None:
    """Django in this kernel: the project's settings, the apps loaded, the SQLite tables of the database backend."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    # A Jupyter kernel runs an asyncio event loop, so Django takes every ORM call here for one made from async code
    # and raises SynchronousOnlyOperation; Django's documentation names this variable for notebooks.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def django_admin() -> str:
    """The django-admin program of the Python running this kernel (``.venv/bin/django-admin`` under ``make lab``)."""
    return str(Path(sys.executable).parent / "django-admin")


def _argv(command: str) -> list[str]:
    return [django_admin(), *command.split()[1:]]


def django_rqworkers() -> list[tuple[BaseWorker, list[str]]]:
    """Live workers on the course's Redis started with Django's ``rqworker`` on this machine, with their command
    lines, oldest first."""
    found = []
    for worker in sorted(Worker.all(connection=queues.connection()), key=lambda w: w.birth_date or 0):
        try:
            command = list(psutil.Process(worker.pid).cmdline()) if worker.pid else []
        except psutil.Error:
            continue
        if "rqworker" in command:
            found.append((worker, command))
    return found


def wait_for_worker(timeout: float = 10.0) -> list[str]:
    """The queues of a Django rqworker once one has registered (waiting at most `timeout` s), else []."""
    seen: list[tuple[BaseWorker, list[str]]] = []

    def any_seen() -> bool:
        seen[:] = django_rqworkers()
        return bool(seen)

    processes.wait_until(any_seen, timeout, 0.1)
    return seen[0][0].queue_names() if seen else []


def start_as_typed(timeout: float = 20.0) -> Service:
    """Run ``COMMAND`` as a course process in this kernel's folder (nobody types under the tests); the one started
    before when it still runs. ``stop_workers`` and ``make down`` stop it."""
    running = processes.running_numbered(RQ_PREFIX)
    if running:
        return running[0]
    conn = queues.connection()

    def registered(service: Service) -> bool:
        return any(w.pid == service.pid for w in Worker.all(connection=conn))

    return processes.start_numbered(RQ_PREFIX, lambda name: (_argv(COMMAND), {}), registered, "rqworker", timeout)


def start_db_worker(timeout: float = 20.0) -> Service:
    """``db_worker`` for the database backend, as a course process: ready once its log says it started."""
    running = processes.running_numbered(DB_PREFIX)
    if running:
        return running[0]

    def starts(name: str) -> int:
        log = state.log_path(name)
        return log.read_text(errors="replace").count("Starting worker") if log.exists() else 0

    before = starts(processes.free_name(DB_PREFIX))  # the log is appended to, run after run

    def started(service: Service) -> bool:
        return starts(service.name) > before

    argv = [*_argv(DB_COMMAND), "--no-startup-delay", "--no-reload", "--interval", "0.2"]
    return processes.start_numbered(DB_PREFIX, lambda name: (argv, {}), started, "db_worker", timeout)


def stop_workers() -> int:
    """Stop the workers this notebook started (rqworker, db_worker); a worker in your terminal is yours."""
    return sum(
        processes.stop(s.name, timeout=10.0) for p in (RQ_PREFIX, DB_PREFIX) for s in processes.running_numbered(p)
    )


def fresh_submission(who: str = "you") -> tuple[str, str]:
    """An address and a thought of their own: no other email in the inbox holds them."""
    tag = uuid.uuid4().hex[:8]
    return f"{who}-{tag}@example.com", f"Django's tasks ({tag})"


@dataclass
class Submitted:
    """A form submission: the view's answer, how long it took, and the email it led to (when waited for)."""

    answer: dict[str, Any]
    seconds: float
    email: str
    thought: str


def submit(email: str, thought: str) -> Submitted:
    """POST the form to ``/thoughts/`` through Django (its test client: the request goes through the URLs, the
    middleware and the view as a server would hand it over)."""
    from django.test import Client

    start = time.perf_counter()
    response = Client().post("/thoughts/", {"email": email, "thought": thought})
    seconds = time.perf_counter() - start
    answer = response.json() if response.headers.get("Content-Type") == "application/json" else {}
    return Submitted({"http": response.status_code, **answer}, seconds, email, thought)


def seconds_to_inbox(email: str, thought: str, since: float, timeout: float = 15.0) -> float | None:
    """Seconds from `since` (a ``time.perf_counter()``) until the email to `email` holding `thought` is caught."""
    wanted = email.lower()

    def arrived(message: inbox.Message) -> bool:
        return wanted in [a.lower() for a in message.to] and thought in message.text

    try:
        inbox.wait_for(1, match=arrived, timeout=timeout)
    except (TimeoutError, AssertionError):
        return None
    return time.perf_counter() - since


@dataclass
class Measured:
    backend: str
    enqueue_ms: float
    inbox_s: float | None
    status: str


def measure(task: Any, backend: str) -> Measured:
    """Enqueue `task` on `backend` once: the time enqueue() took, and the time until its email was in the inbox."""
    email, thought = fresh_submission(backend)
    start = time.perf_counter()
    result = task.using(backend=backend).enqueue(email, thought)
    enqueue_ms = (time.perf_counter() - start) * 1000
    return Measured(backend, enqueue_ms, seconds_to_inbox(email, thought, start), str(result.status))


def email_arrived(email: str, thought: str, timeout: float = 15.0) -> bool:
    """Has the email to `email` holding `thought` been caught (waiting at most `timeout` seconds)?"""
    return seconds_to_inbox(email, thought, time.perf_counter(), timeout) is not None


def finished_result(task: Any, result_id: str, timeout: float = 10.0) -> Any:
    """``task.get_result(result_id)`` once the task has finished (or failed), waiting at most `timeout` seconds."""
    found: list[Any] = []

    def finished() -> bool:
        found[:] = [task.get_backend().get_result(result_id)]  # whichever task the view queued
        return str(found[0].status) in ("SUCCESSFUL", "FAILED")

    processes.wait_until(finished, timeout, 0.1)
    return found[0]


def in_seconds(seconds: float) -> Any:
    """An aware datetime `seconds` from now (what run_after needs with USE_TZ)."""
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(seconds=seconds)


def drop_job(job: Any) -> None:
    """Take a job off its queue or the scheduled registry, and delete it: nobody wants its email."""
    from rq.registry import ScheduledJobRegistry

    queue = queues.queue(job.origin)
    queue.remove(job.id)
    ScheduledJobRegistry(queue=queue).remove(job)
    job.delete()


def started_workers() -> list[Service]:
    """The workers this notebook started that still run."""
    return [*processes.running_numbered(RQ_PREFIX), *processes.running_numbered(DB_PREFIX)]


def tasks_holding(*values: str) -> list[Any]:
    """The RQ jobs in the course's Redis (queued, scheduled, or in any registry) whose arguments, positional or by
    name, hold every one of `values` (fresh values of a check's own: nobody else's job holds them)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    conn = queues.connection()
    prefix = Job.redis_job_namespace_prefix
    found = []
    for key in conn.scan_iter(match=f"{prefix}*", count=1000):
        job_id = (key.decode() if isinstance(key, bytes) else key)[len(prefix) :]
        if ":" in job_id:
            continue
        try:
            job = Job.fetch(job_id, connection=conn)
            shown = repr((job.args, job.kwargs))
        except (NoSuchJobError, Exception):  # noqa: BLE001 -- a job this process cannot read is not the check's
            continue
        if all(value in shown for value in values):
            found.append(job)
    return found


def called_with(job: Any) -> tuple[Any, ...]:
    """(email, thought) as a job of send_gif_email(email, thought) got them, positionally or by name."""
    named = dict(zip(("email", "thought"), job.args))
    named.update(job.kwargs or {})
    return named.get("email"), named.get("thought")
