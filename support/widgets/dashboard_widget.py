"""The inline dashboard for notebooks 04 and 05: the course's queues, workers and failed jobs, live, with
Requeue/Delete buttons. It reads RQ directly from the course's Redis inside the kernel, so it works on any
Jupyter, also a remote one whose browser cannot reach the machine's local ports (rq-dashboard's page needs that).

The data it shows is ``support.rq_helpers.snapshot``; its buttons call ``support.rq_helpers.failed_jobs``.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import redis

from ..rq_helpers.failed_jobs import delete_failed, requeue_all_failed, requeue_failed
from ..rq_helpers.snapshot import COLUMNS, snapshot
from ..services import redis_server
from ..services.processes import ServiceError
from .live import LastState, Poller

POLL_SECONDS = 0.5

_TABLE = 'style="border-collapse:collapse;margin:4px 0 10px 0;font-size:13px"'
_CELL = "padding:2px 10px;border-bottom:1px solid var(--jp-border-color2, #e0e0e0)"
# Colours are JupyterLab's theme variables, so the widget reads in the light and the dark theme. Text is always the
# theme's font colour; a state's colour only underlines a non-zero count (the column heading names the state).
TEXT = "color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))"
MUTED = "color:var(--jp-ui-font-color2, rgba(0, 0, 0, 0.54))"
_COLOURS = {
    "queued": "var(--jp-info-color1, #0097a7)",
    "started": "var(--jp-warn-color1, #f57c00)",
    "finished": "var(--jp-success-color1, #388e3c)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "scheduled": "var(--jp-brand-color1, #1976d2)",
    "deferred": "var(--jp-border-color1, #bdbdbd)",
}


def render_counts(snap: dict[str, Any]) -> str:
    """The queue table as HTML. Each number cell has ``title="QUEUE: COLUMN"``."""
    head = "".join(f'<th style="{_CELL};text-align:right">{c}</th>' for c in COLUMNS)
    rows = []
    for name, row in snap["queues"].items():
        cells = []
        for column in COLUMNS:
            value = row[column]
            colour = f"{TEXT};font-weight:bold;box-shadow:inset 0 -3px 0 {_COLOURS[column]}" if value else MUTED
            cells.append(f'<td title="{name}: {column}" style="{_CELL};text-align:right;{colour}">{value}</td>')
        rows.append(f'<tr><td style="{_CELL}"><b>{html.escape(name)}</b></td>{"".join(cells)}</tr>')
    return f'<table {_TABLE}><tr><th style="{_CELL};text-align:left">queue</th>{head}</tr>{"".join(rows)}</table>'


def render_workers(snap: dict[str, Any]) -> str:
    """The workers as HTML: name, busy/idle, the job it runs, its queues."""
    if not snap["workers"]:
        return (
            f'<div style="{MUTED};font-style:italic;margin:4px 0 10px 0">No worker is running: '
            "queued jobs wait until one starts.</div>"
        )
    rows = []
    for w in snap["workers"]:
        colour = TEXT if w["state"] == "busy" else MUTED
        job = html.escape(w["current_job"]) if w["current_job"] else f'<span style="{MUTED}">-</span>'
        rows.append(
            f'<tr><td style="{_CELL}"><code>{html.escape(w["name"])}</code></td>'
            f'<td style="{_CELL};{colour};font-weight:bold">{html.escape(w["state"])}</td>'
            f'<td style="{_CELL}">{job}</td>'
            f'<td style="{_CELL}">{html.escape(" > ".join(w["queues"]))}</td></tr>'
        )
    head = "".join(f'<th style="{_CELL};text-align:left">{h}</th>' for h in ("worker", "state", "job", "queues"))
    return f"<table {_TABLE}><tr>{head}</tr>{''.join(rows)}</table>"


def render_failed(job: dict[str, str]) -> str:
    """One failed job as a line of HTML: short id, queue, description, and the last line of its exception."""
    return (
        f'<code>{html.escape(job["id"][:8])}</code> <span style="{MUTED}">[{html.escape(job["queue"])}]'
        f"</span> {html.escape(job['description'])} &rarr; "
        f'<span style="{TEXT};font-weight:bold">{html.escape(job["error"])}</span>'
    )


class DashboardWidget(LastState, widgets.VBox):
    """The course's queues, workers and failed jobs, updated live by a daemon thread. ``close()`` stops it.

    The thread only sets values of widgets made in ``__init__`` (it never prints and never creates widgets): the
    failed-job rows are a fixed set of `max_failed` rows, re-labelled only when the set of failed jobs changes.
    """

    def __init__(
        self, connection: redis.Redis | None = None, interval: float = POLL_SECONDS, max_failed: int = 10
    ) -> None:
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
        self.requeue_all_button = widgets.Button(
            description="Requeue all failed",
            icon="redo",
            tooltip="Requeue every failed job",
            layout=widgets.Layout(width="auto"),
        )
        self.requeue_all_button.on_click(lambda _: self._act(requeue_all_failed, None))
        self.status = widgets.HTML()
        self.failed_labels: list[widgets.HTML] = []
        self.requeue_buttons: list[widgets.Button] = []
        self.delete_buttons: list[widgets.Button] = []
        self.failed_rows: list[widgets.HBox] = []
        self._row_ids: list[str | None] = [None] * max_failed
        for index in range(max_failed):
            label = widgets.HTML(layout=widgets.Layout(flex="1 1 auto"))
            # Each button's text names its job ("Requeue 1a2b3c4d"): its accessible name says which job it acts on.
            requeue = widgets.Button(description="Requeue", layout=widgets.Layout(width="150px"))
            delete = widgets.Button(description="Delete", button_style="danger", layout=widgets.Layout(width="150px"))
            requeue.on_click(lambda _, i=index: self._act(requeue_failed, i))
            delete.on_click(lambda _, i=index: self._act(delete_failed, i))
            self.failed_labels.append(label)
            self.requeue_buttons.append(requeue)
            self.delete_buttons.append(delete)
            self.failed_rows.append(widgets.HBox([requeue, delete, label], layout=widgets.Layout(display="none")))
        self._shown_failed: tuple[tuple[str, str], ...] | None = None
        self._lock = threading.RLock()
        self._failed_bar = widgets.HBox([self.failed_header, self.requeue_all_button])
        super().__init__(
            children=[self.header, self.counts, self.workers, self._failed_bar, *self.failed_rows, self.status]
        )
        self.add_class("course-dashboard")  # a stable hook for the browser test (tests/test_browser.py)
        self._poller: Poller | None = None  # refresh() below runs before the poller exists
        self.refresh()
        self._poller = Poller(self.refresh, interval, "dashboard-widget").start()

    def __repr__(self) -> str:
        return "DashboardWidget(live view of the course's queues)"  # nbval compares this text

    @property
    def html(self) -> str:
        """Everything the widget shows, as one HTML string."""
        rows = [label.value for label, row in zip(self.failed_labels, self.failed_rows) if row.layout.display != "none"]
        return "".join(
            [
                self.header.value,
                self.counts.value,
                self.workers.value,
                self.failed_header.value,
                *rows,
                self.status.value,
            ]
        )

    def _connection(self) -> redis.Redis:
        if self._conn is None:  # lost: find the course's Redis again, but never start one from the thread
            service = redis_server.status()
            if service is None:
                raise ServiceError("the course's Redis is not running (start it: redis_server.start())")
            self._conn = redis.Redis.from_url(redis_server.client_url(service))
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
                self.header.value = (
                    f'<b>RQ dashboard</b> <span style="{TEXT}">'
                    f"(error: cannot read Redis: {html.escape(self.error)})</span>"
                )
                return False
            self.error = None
            self.last = snap
            live = "stopped" if self._poller and self._poller.stopped else f"live, every {self.interval:g} s"
            self.header.value = f'<b>RQ dashboard</b> <span style="{MUTED}">&middot; {live}</span>'
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
                        short = job["id"][:8]
                        self.requeue_buttons[index].description = f"Requeue {short}"
                        self.requeue_buttons[index].tooltip = f"Requeue failed job {short} ({job['description']})"
                        self.delete_buttons[index].description = f"Delete {short}"
                        self.delete_buttons[index].tooltip = f"Delete failed job {short} ({job['description']})"
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
                self.status.value = f'<span style="{TEXT}">{html.escape(message)}</span>'
            except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised into a cell
                error = html.escape(f"{type(exc).__name__}: {exc}")
                self.status.value = f'<span style="{TEXT}"><b>Error:</b> {error}</span>'
            self.refresh()

    def close(self) -> None:
        """Stop the live updates and close the widget."""
        if self._poller is not None:
            self._poller.stop()
        for child in [
            self.header,
            self.counts,
            self.workers,
            self.failed_header,
            self.requeue_all_button,
            self._failed_bar,
            self.status,
            *self.failed_labels,
            *self.requeue_buttons,
            *self.delete_buttons,
            *self.failed_rows,
        ]:
            child.close()
        super().close()


def show_dashboard(interval: float = POLL_SECONDS) -> DashboardWidget:
    """A live dashboard widget: make it the last line of a cell."""
    return DashboardWidget(interval=interval)
