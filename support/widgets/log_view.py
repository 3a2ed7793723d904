"""A live, scrolling log in a widget: lines come from any thread; the newest line is always in view."""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

from .live import LastState

# JupyterLab's theme variables: the log reads in the light and the dark theme.
MUTED = "color:var(--jp-ui-font-color2, rgba(0, 0, 0, 0.54))"
PRE = "background:var(--jp-layout-color2, #eeeeee);color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))"


class LogView(LastState, widgets.HTML):
    """A live, scrolling log: lines are appended from any thread; only the last `max_lines` are shown."""

    def __init__(self, title: str, max_lines: int = 40, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.max_lines = max_lines
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.add_class("course-log")  # a stable hook for the browser test (tests/test_browser.py)
        self._render()

    def append(self, text: str) -> None:
        with self._lock:
            self.lines.extend(text.rstrip("\n").split("\n"))
            self._render()

    def _render(self) -> None:
        # The last lines, like `tail`, in a box without a scroll bar: the newest line is always in view (a scrolled
        # box would jump back to its top each time the widget redraws).
        shown = "\n".join(self.lines[-self.max_lines :]) or "(nothing yet)"
        hidden = len(self.lines) - self.max_lines
        note = f" · the last {self.max_lines} of {len(self.lines)} lines" if hidden > 0 else ""
        self.value = (
            f"<div style='font-weight:bold'>{html.escape(self.title)}"
            f"<span style='font-weight:normal;{MUTED}'>{note}</span></div>"
            f"<pre style='{PRE};padding:6px;margin:0;font-size:12px;white-space:pre-wrap'>"
            f"{html.escape(shown)}</pre>"
        )

    def __repr__(self) -> str:  # nbval compares this; keep it free of log content
        return f"LogView({self.title!r})"
