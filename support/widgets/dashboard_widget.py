"""Watching the queues: rq-dashboard (the Python counterpart of Sidekiq::Web) and an inline dashboard widget.

Three views of the same Redis data:

- ``start()`` runs rq-dashboard, a small Flask site, as a course service on 127.0.0.1 (port 9181 when free). Open
  ``url()`` in a browser on the same machine, or ``embed()`` it in the notebook.
- ``DashboardWidget`` reads RQ directly from the course's Redis inside the kernel, so it works on any Jupyter, also
  a remote one whose browser cannot reach the machine's local ports. Its failed jobs have Requeue/Delete buttons.
- ``rq_info()`` is the output of the ``rq info`` command, for the terminal view.

``snapshot()`` is the plain data the widget shows; ``counts_table()`` and ``failed_table()`` print it as text.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import redis
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from . import processes, queues, recovery, redis_server, state
from .live import Poller
from .processes import HOST, Service, ServiceError

NAME = "dashboard"
PREFERRED_PORT = 9181
POLL_SECONDS = 0.5
BROWSER_POLL_MS = 1000  # how often the rq-dashboard page refreshes itself in the browser

COLUMNS: tuple[str, ...] = ("queued", "started", "finished", "failed", "scheduled", "deferred")

INSTALL_HELP = """\
rq-dashboard is not installed in this Python environment. Install it, then run this again:
  pip install rq-dashboard==0.9.0
(The inline DashboardWidget needs only rq; it works without rq-dashboard.)"""


# --- rq-dashboard as a course service ------------------------------------------------------------------------


def _page_answers(port: int) -> bool:
    """True when the dashboard's page answers 200 (no proxy: an http_proxy setting must not catch 127.0.0.1)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{HOST}:{port}/", timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _page_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def _argv_for(redis_url: str) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return processes.python_argv("rq_dashboard", "--bind", HOST, "--port", str(port),
                                     "--redis-url", redis_url, "--poll-interval", str(BROWSER_POLL_MS))
    return argv


def start(timeout: float = 20.0) -> Service:
    """Start rq-dashboard against the course's Redis (or return the running one) and wait until its page answers.

    A dashboard still pointing at an older Redis URL (Redis came back on another port) is replaced.
    """
    if importlib.util.find_spec("rq_dashboard") is None:
        raise ServiceError(INSTALL_HELP)
    redis_url = redis_server.url()
    with state.locked():
        running = processes.running(NAME)
        if running is not None and running.extra.get("redis_url") != redis_url:
            processes.stop(NAME)
        return processes.ensure(NAME, PREFERRED_PORT, _argv_for(redis_url), url_for=_page_url, ready=_page_answers,
                                timeout=timeout, extra={"redis_url": redis_url})


def stop() -> bool:
    """Stop the dashboard if the course started it. True when a process was stopped."""
    return processes.stop(NAME)


def status() -> Service | None:
    """The running dashboard, or None (never starts it)."""
    return processes.running(NAME)


def url() -> str:
    """The dashboard's address (``http://127.0.0.1:PORT/``), starting it if needed."""
    return start().url


class DashboardFrame:
    """The dashboard page inside the notebook (an iframe); needs a browser that can reach the local port."""

    def __init__(self, src: str, height: int = 500) -> None:
        self.src = src
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe src="{html.escape(self.src, quote=True)}" width="100%" height="{self.height}" '
                f'style="border:1px solid #ccc"></iframe>')

    def __repr__(self) -> str:
        return "DashboardFrame(the rq-dashboard page)"  # nbval compares this text: no port in it


def embed(height: int = 500) -> DashboardFrame:
    """rq-dashboard inside the notebook (starts it if needed). On a remote Jupyter use ``DashboardWidget``."""
    return DashboardFrame(url(), height)


def link() -> Any:
    """A link that opens rq-dashboard in a new browser tab (starts it if needed)."""
    from IPython.display import HTML

    where = html.escape(url(), quote=True)
    return HTML(f'<a href="{where}" target="_blank" rel="noopener">Open the RQ dashboard ({where})</a>')


# --- `rq info` ---------------------------------------------------------------------------------------------------


def _rq_command() -> list[str]:
    script = Path(sys.executable).parent / "rq"
    if script.exists():
        return [str(script)]
    found = shutil.which("rq")
    return [found] if found else [sys.executable, "-m", "rq.cli"]


_WORKER_LINE = re.compile(r"^\S+ \([^()]*\): (?=\w+ )")  # "name (host ip:port pid): idle urgent, ..."


def rq_info(stable: bool = False, queue_names: Sequence[str] = queues.QUEUE_NAMES, timeout: float = 30.0) -> str:
    """What ``rq info --url REDIS_URL urgent mailers default`` prints for the course's Redis.

    With `stable`, the parts that change from run to run are left out: each worker's name, host and PID become
    ``<worker>`` (lines sorted), and the ``Updated:`` time line is dropped.
    """
    argv = [*_rq_command(), "info", "--url", redis_server.url(), *queue_names]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
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


# --- the data: one snapshot of the queues, the workers and the failed jobs ------------------------------------


def _state_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def snapshot(connection: redis.Redis | None = None, failed_limit: int | None = None) -> dict[str, Any]:
    """The course's queues right now, as plain data::

        {"queues": {"urgent": {"queued": 0, "started": 0, "finished": 0, "failed": 0, "scheduled": 0,
                               "deferred": 0}, "mailers": {...}, "default": {...}},
         "workers": [{"name": ..., "state": "busy", "current_job": "support.jobs.send_gif_email(...)",
                      "queues": ["urgent", "mailers", "default"]}],
         "failed": [{"id": ..., "queue": "default", "func": "math.sqrt", "description": "math.sqrt(-1)",
                     "error": "ValueError: math domain error"}]}

    Failed jobs come in queue priority order, oldest first; at most `failed_limit` of them. Reading changes nothing
    in Redis (no registry clean-up).
    """
    conn = connection or queues.connection()
    counts: dict[str, dict[str, int]] = {}
    failed: list[dict[str, str]] = []
    for q in queues.all_queues(conn):
        registries = {"started": q.started_job_registry, "finished": q.finished_job_registry,
                      "failed": q.failed_job_registry, "scheduled": q.scheduled_job_registry,
                      "deferred": q.deferred_job_registry}
        row = {"queued": q.count}
        row.update({key: reg.get_job_count(cleanup=False) for key, reg in registries.items()})
        counts[q.name] = {column: row[column] for column in COLUMNS}
        room = None if failed_limit is None else failed_limit - len(failed)
        if room is not None and room <= 0:
            continue
        ids = q.failed_job_registry.get_job_ids(0, -1 if room is None else room - 1, cleanup=False)
        for job_id, job in zip(ids, Job.fetch_many(ids, connection=conn)):
            if job is None:  # its hash expired or was deleted while still listed
                continue
            failed.append({"id": job.id, "queue": q.name, "func": job.func_name or "",
                           "description": job.description or job.func_name or "", "error": recovery.error_line(job)})
    found = []
    for worker in Worker.all(connection=conn):
        try:
            job = worker.get_current_job()
        except NoSuchJobError:
            job = None
        found.append({"name": worker.name, "state": _state_name(worker.get_state()),
                      "current_job": (job.description or "") if job is not None else "",
                      "queues": [q.name for q in worker.queues]})
    found.sort(key=lambda w: w["name"])
    return {"queues": counts, "workers": found, "failed": failed}


def counts_table(snap: dict[str, Any]) -> str:
    """The queue counts of a snapshot as a plain-text table (deterministic: safe to print in a notebook)."""
    width = max([5, *(len(name) for name in snap["queues"])])
    lines = [f"{'queue':<{width}}  " + "  ".join(f"{c:>9}" for c in COLUMNS)]
    for name, row in snap["queues"].items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{row[c]:>9}" for c in COLUMNS))
    return "\n".join(lines)


def failed_table(snap: dict[str, Any]) -> str:
    """The failed jobs of a snapshot as text, one ``queue  description  ->  error`` line each (no job ids)."""
    if not snap["failed"]:
        return "(no failed jobs)"
    return "\n".join(f"{f['queue']:<8} {f['description']}  ->  {f['error']}" for f in snap["failed"])


# --- actions on failed jobs --------------------------------------------------------------------------------------


def requeue_failed(job_id: str, connection: redis.Redis | None = None) -> Job:
    """Put one failed job back on its queue (it leaves the failed registry)."""
    conn = connection or queues.connection()
    job = Job.fetch(job_id, connection=conn)
    return FailedJobRegistry(job.origin, connection=conn).requeue(job)


def delete_failed(job_id: str, connection: redis.Redis | None = None) -> None:
    """Delete one failed job: its data, its result and its place in the failed registry."""
    Job.fetch(job_id, connection=connection or queues.connection()).delete()


def requeue_all_failed(connection: redis.Redis | None = None) -> int:
    """Requeue every failed job of the course's queues; returns how many went back."""
    conn = connection or queues.connection()
    moved = 0
    for q in queues.all_queues(conn):
        registry = q.failed_job_registry
        for job_id in registry.get_job_ids(cleanup=False):
            try:
                registry.requeue(job_id)
                moved += 1
            except (InvalidJobOperation, NoSuchJobError):  # gone meanwhile (another click, another kernel)
                continue
    return moved


# --- the widget ------------------------------------------------------------------------------------------------

_TABLE = 'style="border-collapse:collapse;margin:4px 0 10px 0;font-size:13px"'
_CELL = "padding:2px 10px;border-bottom:1px solid #e5e5e5"
_COLOURS = {"queued": "#1f6feb", "started": "#bf8700", "finished": "#1a7f37", "failed": "#cf222e",
            "scheduled": "#8250df", "deferred": "#57606a"}


def render_counts(snap: dict[str, Any]) -> str:
    """The queue table as HTML. Each number cell has ``title="QUEUE: COLUMN"``."""
    head = "".join(f'<th style="{_CELL};text-align:right">{c}</th>' for c in COLUMNS)
    rows = []
    for name, row in snap["queues"].items():
        cells = []
        for column in COLUMNS:
            value = row[column]
            colour = f"color:{_COLOURS[column]};font-weight:bold" if value else "color:#999"
            cells.append(f'<td title="{name}: {column}" style="{_CELL};text-align:right;{colour}">{value}</td>')
        rows.append(f'<tr><td style="{_CELL}"><b>{html.escape(name)}</b></td>{"".join(cells)}</tr>')
    return f'<table {_TABLE}><tr><th style="{_CELL};text-align:left">queue</th>{head}</tr>{"".join(rows)}</table>'


def render_workers(snap: dict[str, Any]) -> str:
    """The workers as HTML: name, busy/idle, the job it runs, its queues."""
    if not snap["workers"]:
        return ('<div style="color:#777;font-style:italic;margin:4px 0 10px 0">No worker is running: '
                "queued jobs wait until one starts.</div>")
    rows = []
    for w in snap["workers"]:
        colour = "#bf8700" if w["state"] == "busy" else "#57606a"
        job = html.escape(w["current_job"]) if w["current_job"] else '<span style="color:#999">-</span>'
        rows.append(f'<tr><td style="{_CELL}"><code>{html.escape(w["name"])}</code></td>'
                    f'<td style="{_CELL};color:{colour};font-weight:bold">{html.escape(w["state"])}</td>'
                    f'<td style="{_CELL}">{job}</td>'
                    f'<td style="{_CELL}">{html.escape(" > ".join(w["queues"]))}</td></tr>')
    head = "".join(f'<th style="{_CELL};text-align:left">{h}</th>' for h in ("worker", "state", "job", "queues"))
    return f"<table {_TABLE}><tr>{head}</tr>{''.join(rows)}</table>"


def render_failed(job: dict[str, str]) -> str:
    """One failed job as a line of HTML: short id, queue, description, and the last line of its exception."""
    return (f'<code>{html.escape(job["id"][:8])}</code> <span style="color:#57606a">[{html.escape(job["queue"])}]'
            f'</span> {html.escape(job["description"])} &rarr; '
            f'<span style="color:#cf222e">{html.escape(job["error"])}</span>')


class DashboardWidget(widgets.VBox):
    """The course's queues, workers and failed jobs, updated live by a daemon thread. ``close()`` stops it.

    The thread only sets values of widgets made in ``__init__`` (it never prints and never creates widgets): the
    failed-job rows are a fixed set of `max_failed` rows, re-labelled only when the set of failed jobs changes.
    """

    def __init__(self, connection: redis.Redis | None = None, interval: float = POLL_SECONDS,
                 max_failed: int = 10) -> None:
        self._own_connection = connection is None
        self._conn: redis.Redis | None = connection or redis_server.connect()
        self.interval = interval
        self.max_failed = max_failed
        self.last: dict[str, Any] | None = None  # the snapshot shown now
        self.error: str | None = None  # the last error the thread met (shown, never printed)
        self.header = widgets.HTML()
        self.counts = widgets.HTML()
        self.workers = widgets.HTML()
        self.failed_header = widgets.HTML()
        self.requeue_all_button = widgets.Button(description="Requeue all failed", icon="redo",
                                                 layout=widgets.Layout(width="auto"))
        self.requeue_all_button.on_click(lambda _: self._act(requeue_all_failed, None))
        self.status = widgets.HTML()
        self.failed_labels: list[widgets.HTML] = []
        self.requeue_buttons: list[widgets.Button] = []
        self.delete_buttons: list[widgets.Button] = []
        self.failed_rows: list[widgets.HBox] = []
        self._row_ids: list[str | None] = [None] * max_failed
        for index in range(max_failed):
            label = widgets.HTML(layout=widgets.Layout(flex="1 1 auto"))
            requeue = widgets.Button(description="Requeue", button_style="info", layout=widgets.Layout(width="90px"))
            delete = widgets.Button(description="Delete", button_style="danger", layout=widgets.Layout(width="90px"))
            requeue.on_click(lambda _, i=index: self._act(requeue_failed, i))
            delete.on_click(lambda _, i=index: self._act(delete_failed, i))
            self.failed_labels.append(label)
            self.requeue_buttons.append(requeue)
            self.delete_buttons.append(delete)
            self.failed_rows.append(widgets.HBox([requeue, delete, label], layout=widgets.Layout(display="none")))
        self._shown_failed: tuple[tuple[str, str], ...] | None = None
        self._lock = threading.RLock()
        self._failed_bar = widgets.HBox([self.failed_header, self.requeue_all_button])
        super().__init__(children=[self.header, self.counts, self.workers, self._failed_bar, *self.failed_rows,
                                   self.status])
        self.add_class("course-dashboard")  # a stable hook for the browser test (tests/test_browser.py)
        self._poller: Poller | None = None  # refresh() below runs before the poller exists
        self.refresh()
        self._poller = Poller(self.refresh, interval, "dashboard-widget").start()

    def __repr__(self) -> str:
        return "DashboardWidget(live view of the course's queues)"  # nbval compares this text

    @property
    def html(self) -> str:
        """Everything the widget shows, as one HTML string."""
        rows = [label.value for label, row in zip(self.failed_labels, self.failed_rows)
                if row.layout.display != "none"]
        return "".join([self.header.value, self.counts.value, self.workers.value, self.failed_header.value,
                        *rows, self.status.value])

    def _connection(self) -> redis.Redis:
        if self._conn is None:  # lost: find the course's Redis again, but never start one from the thread
            service = redis_server.status()
            if service is None:
                raise ServiceError("the course's Redis is not running (start it: redis_server.start())")
            self._conn = redis.Redis.from_url(service.url)
        return self._conn

    def refresh(self) -> bool:
        """Read Redis once and update what the widget shows. False when Redis could not be read."""
        with self._lock:
            try:
                snap = snapshot(self._connection(), failed_limit=self.max_failed)
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything and never print
                self.error = f"{type(exc).__name__}: {exc}"
                if self._own_connection:
                    self._conn = None
                self.header.value = ('<b>RQ dashboard</b> <span style="color:#cf222e">'
                                     f"(cannot read Redis: {html.escape(self.error)})</span>")
                return False
            self.error = None
            self.last = snap
            live = "stopped" if self._poller and self._poller.stopped else f"live, every {self.interval:g} s"
            self.header.value = f'<b>RQ dashboard</b> <span style="color:#777">&middot; {live}</span>'
            self.counts.value = render_counts(snap)
            self.workers.value = render_workers(snap)
            total = sum(row["failed"] for row in snap["queues"].values())
            more = f" (showing {len(snap['failed'])})" if total > len(snap["failed"]) else ""
            self.failed_header.value = f"<b>Failed jobs: {total}</b>{more}"
            self.requeue_all_button.disabled = total == 0
            shown = tuple((f["id"], f["error"]) for f in snap["failed"])
            if shown != self._shown_failed:  # re-label the rows only when the failed set changed
                self._shown_failed = shown
                for index, row in enumerate(self.failed_rows):
                    job = snap["failed"][index] if index < len(snap["failed"]) else None
                    self._row_ids[index] = job["id"] if job else None
                    if job:
                        self.failed_labels[index].value = render_failed(job)
                    row.layout.display = "flex" if job else "none"
            return True

    def _act(self, action: Callable[..., Any], index: int | None) -> None:
        """Run a button's action (requeue, delete, requeue all), then show the new state at once."""
        with self._lock:
            job_id = self._row_ids[index] if index is not None else None
            if index is not None and job_id is None:
                return
            try:
                conn = self._connection()
                if job_id is None:
                    moved = action(conn)
                    message = f"Requeued {moved} failed job{'s' if moved != 1 else ''}."
                else:
                    action(job_id, conn)
                    verb = "Requeued" if action is requeue_failed else "Deleted"
                    message = f"{verb} job {job_id[:8]}."
                self.status.value = f'<span style="color:#1a7f37">{html.escape(message)}</span>'
            except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised into a cell
                error = html.escape(f"{type(exc).__name__}: {exc}")
                self.status.value = f'<span style="color:#cf222e">{error}</span>'
            self.refresh()

    def close(self) -> None:
        """Stop the live updates and close the widget."""
        if self._poller is not None:
            self._poller.stop()
        for child in [self.header, self.counts, self.workers, self.failed_header, self.requeue_all_button,
                      self._failed_bar, self.status, *self.failed_labels, *self.requeue_buttons, *self.delete_buttons,
                      *self.failed_rows]:
            child.close()
        super().close()


def show_dashboard(interval: float = POLL_SECONDS) -> DashboardWidget:
    """A live dashboard widget: make it the last line of a cell."""
    return DashboardWidget(interval=interval)
