"""Plots with alt text, for the plots of ``01_slow_request``, ``03_jobs`` and ``06_scaling_and_scheduling``.

JupyterLab shows a figure's ``image/png`` as an ``<img>`` without alt text, so a screen reader says nothing about
it. ``with_alt(fig, text)`` gives a figure its alt text; in IPython a figure that has one is also shown as
``text/html``, an ``<img alt="...">`` of the same PNG, which JupyterLab prefers to the bare ``image/png``. Its
``text/plain`` stays ``<Figure size ...>`` (nbval compares that; ``tests/sanitize.cfg`` masks the PNG's data).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

ALT = "_course_alt_text"  # the attribute of a figure holding its alt text


def with_alt(fig: Any, text: str) -> Any:
    """Give matplotlib figure `fig` the alt text `text` (say what the plot shows); returns `fig`."""
    setattr(fig, ALT, text)
    _register()
    return fig


def as_html(fig: Any) -> str | None:
    """The figure as ``<img alt=... src="data:image/png;base64,...">``, or None when it has no alt text."""
    text = getattr(fig, ALT, None)
    if text is None:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(text, quote=True)}" src="data:image/png;base64,{data}">'


def _register() -> None:
    """Show figures that have alt text as HTML in IPython (once per kernel; nothing outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["text/html"]
    if formatter.type_printers.get(Figure) is not as_html:
        formatter.for_type(Figure, as_html)
