"""A live view of one queue's numbers (``support.rq_helpers.metrics``): a small table and two sparklines (jobs
waiting, age of the oldest job) that a daemon thread redraws every quarter second while a batch runs.

The thread only sets the ``value`` of an ``HTML`` widget and appends to ``history``; it never prints, so nothing
lands in whichever cell runs next. The widget's repr (what nbval compares) does not depend on the numbers.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets
from rq import Queue

from ..rq_helpers import metrics
from .live import LastState, Poller

POLL_SECONDS = 0.25
TEXT = "color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))"
MUTED = "color:var(--jp-ui-font-color2, rgba(0, 0, 0, 0.54))"
BORDER = "var(--jp-border-color1, #bdbdbd)"
LINE = "var(--jp-brand-color1, #1976d2)"
WIDTH, HEIGHT = 260, 48


def _fmt(value: float | None, unit: str = " s") -> str:
    return "—" if value is None else f"{value:.2f}{unit}"


def sparkline(values: list[float], label: str) -> str:
    """An SVG line of `values` (the newest on the right), scaled to its largest value; `label` is its title."""
    top = max(values + [1e-9])
    step = WIDTH / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{HEIGHT - 2 - (v / top) * (HEIGHT - 4):.1f}" for i, v in enumerate(values))
    return (
        f'<svg role="img" aria-label="{html.escape(label)}" width="{WIDTH}" height="{HEIGHT}" '
        f'style="border:1px solid {BORDER};border-radius:3px"><title>{html.escape(label)}</title>'
        f'<polyline points="{points}" style="fill:none;stroke:{LINE};stroke-width:2"/></svg>'
    )


def render(reading: metrics.Metrics, history: list[metrics.Metrics], name: str) -> str:
    """The table of one reading and the sparklines of the history, as HTML."""
    rate = reading.failure_rate
    rows = [
        ("Jobs waiting", str(reading.queued)),
        ("Age of the oldest waiting job", _fmt(reading.oldest_age)),
        ("Running", str(reading.running)),
        ("Finished / failed", f"{reading.finished} / {reading.failed}"),
        ("Failure rate", "—" if rate is None else f"{rate:.0%}"),
        ("Duration p50 / p95", f"{_fmt(reading.p50)} / {_fmt(reading.p95)}"),
    ]
    cells = "".join(
        f'<tr><td style="padding:1px 10px 1px 0;{MUTED}">{html.escape(k)}</td>'
        f'<td style="{TEXT}">{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    waiting = sparkline([float(m.queued) for m in history], f"Jobs waiting on {name} over time")
    age = sparkline([m.oldest_age or 0.0 for m in history], f"Age of the oldest waiting job on {name} over time")
    return (
        f'<div style="border:1px solid {BORDER};border-radius:4px;padding:6px 8px;{TEXT}">'
        f"<b>Queue {html.escape(name)}</b> (live)<table>{cells}</table>"
        f'<div style="display:flex;gap:12px"><div><div style="{MUTED}">Jobs waiting</div>{waiting}</div>'
        f'<div><div style="{MUTED}">Age of the oldest</div>{age}</div></div></div>'
    )


class MetricsView(LastState, widgets.VBox):
    """The numbers of `queue`, read and redrawn by a background thread until ``stop()``; ``history`` keeps every
    reading."""

    def __init__(self, queue: Queue, interval: float = POLL_SECONDS) -> None:
        self.body = widgets.HTML()
        super().__init__(children=[self.body])
        self.queue = queue
        self.history: list[metrics.Metrics] = []
        self.error: str | None = None  # the last error the thread met (shown, never printed)
        self._lock = threading.Lock()
        self.refresh()
        self._poller = Poller(self.refresh, interval, "metrics-view").start()

    def refresh(self) -> None:
        """Read the queue once, keep the reading, redraw."""
        with self._lock:
            try:
                reading = metrics.read(self.queue)
            except Exception as exc:  # noqa: BLE001 -- shown in the widget, never raised in the thread
                self.error = f"{type(exc).__name__}: {exc}"
                self.body.value = f'<div style="{MUTED}">Could not read the queue: {html.escape(self.error)}</div>'
                return
            self.history.append(reading)
            self.body.value = render(reading, self.history, self.queue.name)

    def stop(self) -> list[metrics.Metrics]:
        """Stop the thread, take one last reading, and return the history."""
        self._poller.stop()
        self.refresh()
        return self.history

    def __repr__(self) -> str:
        # nbval compares this text: it must not depend on the numbers or the time.
        return f"MetricsView(live numbers of the queue {self.queue.name!r})"
