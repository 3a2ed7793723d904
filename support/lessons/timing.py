"""Measuring response times, several users at once, and plotting them: ``01_slow_request`` (one user, three users
at once) and ``03_jobs`` (the same form before and after ``perform_later``)."""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..services import app
from .figures import with_alt


@dataclass
class Visit:
    """One user's request: when it left and when its answer came, in seconds from the start of the test."""

    user: str
    sent: float
    answered: float
    status: int

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


def users_at_once(emails: Sequence[str], thought: str = "Waiting in line") -> list[Visit]:
    """Every user submits the form at the same moment (one thread each); returns their visits, by answer time."""
    visits: list[Visit] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(emails))
    t0 = time.perf_counter()

    def visit(email: str) -> None:
        barrier.wait()
        sent = time.perf_counter() - t0
        result = app.post_thought(email, f"{thought} ({email})")
        with lock:
            visits.append(Visit(email, sent, time.perf_counter() - t0, result["status"]))

    threads = [threading.Thread(target=visit, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(visits, key=lambda v: v.answered)


def plot_visits(visits: Sequence[Visit], title: str = "Three users, one server"):
    """A timeline: one bar per user from sending to answer."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.6 * len(visits)))
    for row, visit in enumerate(visits):
        ax.barh(row, visit.seconds, left=visit.sent, color="tab:red" if visit.seconds > 1 else "tab:green")
        ax.text(visit.answered, row, f"  {visit.seconds:.1f} s", va="center")
    ax.set_yticks(range(len(visits)), [v.user for v in visits])
    ax.set_xlabel("seconds since the three users pressed Submit")
    ax.set_xlim(0, max(v.answered for v in visits) * 1.2)
    ax.set_title(title)
    fig.tight_layout()
    return with_alt(
        fig,
        f"{title}: a timeline with one bar per user, from sending the form to the answer; "
        "each bar is labelled with its seconds, bars over one second in red.",
    )


def plot_before_after(
    before: Sequence[float], after: Sequence[float], labels: tuple[str, str] = ("inline (before)", "background (after)")
):
    """Response times of the same form before and after moving the work to a worker (log scale)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    for y, values in enumerate((before, after)):
        ax.scatter([v * 1000 for v in values], [y] * len(values), s=40, alpha=0.7)
        ax.text(
            statistics.median(values) * 1000,
            y + 0.25,
            f"median {statistics.median(values) * 1000:,.0f} ms",
            ha="center",
        )
    ax.set_xscale("log")
    ax.set_yticks([0, 1], list(labels))
    ax.set_ylim(-0.6, 1.8)
    ax.set_xlabel("response time (ms, log scale)")
    ax.set_title("The same form, before and after perform_later")
    fig.tight_layout()
    return with_alt(
        fig,
        f"Response times of the same form, on a log scale: one row of dots for {labels[0]} and "
        f"one for {labels[1]}, each labelled with its median in milliseconds.",
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]
