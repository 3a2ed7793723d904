"""``support.progress``: what a learner sees of their progress, gathered under one short name.

- ``show(notebook=None)``: the table in a notebook, for one notebook ("03_jobs") or all
- ``report(notebook=None)``: the same as text (``python -m support progress`` prints it)
- ``export(path, learner=None)``: one CSV row per exercise, for an instructor who collects them
- ``path()``: where it is kept (``<state folder>/progress.jsonl``)
- ``record_answers(True)``: also write the answers checked from now on (off unless asked, or
  ``$COURSE_RECORD_ANSWERS=1``)

The file and the rules: ``support/services/progress_log.py`` (where it is kept, what a line holds) and
``support/services/progress_summary.py`` (how lines become correct / used the reference / tried / not attempted).
Nothing is sent anywhere.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .checks import NOTEBOOKS, catalogue
from .services import progress_log
from .services.progress_log import path, record_answers
from .services.progress_summary import CSV_COLUMNS, Row, summarize
from .services.progress_summary import report as _report
from .widgets import progress_view

__all__ = ["export", "path", "record_answers", "report", "rows", "show"]


def rows(notebook: str | None = None) -> list[Row]:
    """Every exercise of the course (or of `notebook`) with what this learner did with it."""
    if notebook is not None and notebook not in NOTEBOOKS.values():
        known = ", ".join(sorted(set(NOTEBOOKS.values())))
        raise ValueError(f"No notebook {notebook!r} has exercises; one of: {known}")
    return summarize(progress_log.read(), catalogue(), notebook)


def report(notebook: str | None = None) -> str:
    return _report(rows(notebook))


def show(notebook: str | None = None) -> Any:
    """The progress table as a widget, for the last line of a cell: ``progress.show("03_jobs")`` or ``progress.show()``
    (every notebook)."""
    return progress_view.view(rows(notebook), f"Your progress: {notebook}" if notebook else "Your progress")


def export(path: str | Path, learner: str | None = None) -> tuple[str, int]:
    """Write the CSV (columns ``CSV_COLUMNS``); return the learner id used and the number of rows."""
    learner = learner or progress_log.learner_id()
    table = rows()
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(row.as_csv(learner) for row in table)
    return learner, len(table)
