"""The progress table in a notebook (``progress.show()``): HTML in the style of the check boxes, coloured with
JupyterLab's theme variables so it reads in light and dark themes; every status is written out, not only coloured.

It is an ipywidgets HTML widget: nbval compares only its fixed ``text/plain`` form, which does not depend on what the
learner did (the table does); ``python -m support progress`` prints the table as text.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from typing import Any

from ..exercises.results import TEXT  # the theme's font colour, as in the check boxes
from ..services.progress_summary import Row, by_notebook, totals

# status -> (sign, colour): the sign and the colour only repeat what the word says. The colour marks the status's
# left edge; its text is the theme's font colour (a coloured text would fall under 4.5:1 in one of the themes).
STYLE = {
    "correct": ("✓", "var(--jp-success-color1, #388e3c)"),
    "used the reference": ("↪", "var(--jp-info-color1, #0097a7)"),
    "tried": ("✗", "var(--jp-warn-color1, #f57c00)"),
    "not attempted": ("○", "var(--jp-border-color1, #bdbdbd)"),
}
_CELL = "padding:2px 10px;text-align:left;border-bottom:1px solid var(--jp-border-color2, #e0e0e0)"


def _status(status: str) -> str:
    sign, colour = STYLE[status]
    return (
        f'<span style="color:{TEXT};border-left:4px solid {colour};padding-left:4px;font-weight:600">'
        f"{sign} {html.escape(status)}</span>"
    )


def _table(rows: Sequence[Row]) -> str:
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("Exercise", "Status", "Hints", "Solution"))
    body = "".join(
        f'<tr><td style="{_CELL}">{html.escape(r.label)}</td><td style="{_CELL}">{_status(r.status)}</td>'
        f'<td style="{_CELL}">{r.hints}</td><td style="{_CELL}">{"shown" if r.solution_shown else ""}</td></tr>'
        for r in rows
    )
    return f'<table style="border-collapse:collapse;margin:4px 0"><tr>{head}</tr>{body}</table>'


def render(rows: Sequence[Row], heading: str) -> str:
    """The whole box: a heading, a table per notebook, the totals."""
    parts = [f'<strong style="color:var(--jp-ui-font-color0, #000)">{html.escape(heading)}</strong>']
    groups = by_notebook(rows)
    for notebook, group in groups.items():
        if len(groups) > 1:
            parts.append(f'<div style="margin-top:6px;font-weight:600">{html.escape(notebook)}</div>')
        parts.append(_table(group))
    parts.append(f"<div>Total: {html.escape(totals(rows))}</div>" if rows else "<div>No exercises yet.</div>")
    return (
        '<div style="border-left:4px solid var(--jp-brand-color1, #1976d2);'
        f'background:var(--jp-layout-color1, #fff);color:{TEXT};padding:6px 10px;margin:4px 0">'
        + "".join(parts)
        + "</div>"
    )


def view(rows: Sequence[Row], heading: str) -> Any:
    """An ipywidgets HTML widget of the table whose text form is fixed (nbval compares only that for a widget)."""
    text = f"{heading} (a table in JupyterLab; `python -m support progress` prints it as text)"
    return _table_widget_class()(render(rows, heading), text)


@functools.cache
def _table_widget_class() -> type:
    import ipywidgets as w

    class ProgressTable(w.HTML):
        """The progress table; its text/plain form is one fixed line, not the widget's state."""

        def __init__(self, value: str, text: str) -> None:
            super().__init__(value=value)
            self._text = text

        def __repr__(self) -> str:
            return self._text

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            return {**(super()._repr_mimebundle_(**kwargs) or {}), "text/plain": self._text}

    return ProgressTable
