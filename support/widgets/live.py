"""The background refresh behind the course's live widgets (inbox, dashboard).

A widget is created in the main thread; a `Poller` then calls its ``refresh()`` every few tenths of a second in
a daemon thread, which only sets widget values and never prints, so nothing lands in whichever cell runs next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Poller:
    """Calls `refresh` every `interval` seconds in a daemon thread until `stop()`."""

    def __init__(self, refresh: Callable[[], object], interval: float, name: str) -> None:
        self.interval = interval
        self._refresh = refresh
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Poller:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._refresh()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop refreshing and wait (briefly) for the thread to end; safe to call twice or from the thread."""
        self._stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=2)


# --- the last state of the course's widgets, for the website (tools/site.py) ------------------------------------------
# A widget's view is drawn by JavaScript from state that the stored notebook does not keep (tools/notebook_run.py
# drops it; its text/plain is what nbval compares). So each live widget's display carries a key in its output's
# metadata (which nbval does not compare); when a run of the notebook ends, `snapshots()` gives, per key, static HTML
# of what the widget showed last, which the run stores in the notebook's metadata and the website shows in its place.

SNAPSHOT_KEY = "course_widget"  # the output metadata key (tools/site.py reads it)
_latest: dict[int, tuple[str, object]] = {}  # id(widget) -> (key of its latest display, widget)
_frozen: dict[str, str] = {}  # key of an earlier display -> what the widget showed before the cell that showed it again
_before_cell: dict[int, str] = {}  # id(widget) -> what it showed when the cell now running started
_displays = 0
_hooked = False


def _remember_before_cell(*_info: object) -> None:
    """IPython's pre_run_cell event: what each displayed course widget shows as a cell starts."""
    for ident, (_key, widget) in list(_latest.items()):
        _before_cell[ident] = _snapshot(widget)


def _hook() -> None:
    global _hooked
    if not _hooked:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.events.register("pre_run_cell", _remember_before_cell)
        _hooked = True


class LastState:
    """Mixed into a course widget (before the ipywidgets class): each display of it carries a key of its own in its
    output's metadata. A display's snapshot is what the widget showed as the cell that displays it again started (so
    a form shown, used, then used and shown again keeps its first answer in its first display), or at the end of the
    run. The widget displays itself (IPython's ``_ipython_display_``), as a display_data output with that metadata
    (nbval compares neither an output's type nor its metadata); what it displays is ipywidgets' own bundle."""

    def _ipython_display_(self) -> None:
        global _displays
        from IPython.display import display

        data = self._repr_mimebundle_()  # type: ignore[attr-defined]
        if not data:
            return
        _hook()
        if id(self) in _latest:
            _frozen[_latest[id(self)][0]] = _before_cell.get(id(self)) or _snapshot(self)
        _displays += 1
        key = f"{type(self).__name__}-{_displays}"
        _latest[id(self)] = (key, self)
        display(data, raw=True, metadata={SNAPSHOT_KEY: key})


def static_html(widget: object) -> str:
    """What `widget` shows now, as HTML without scripts: HTML values as they are, text fields read-only, buttons
    disabled, boxes as boxes."""
    import html

    import ipywidgets as w

    esc = html.escape
    if isinstance(widget, w.HTML):
        return str(widget.value)
    if isinstance(widget, (w.Text, w.Textarea)):
        label = esc(widget.description or widget.placeholder or "Field")
        value = esc(str(widget.value))
        field = (
            f'<textarea readonly rows="3" cols="40">{value}</textarea>'
            if isinstance(widget, w.Textarea)
            else f'<input type="text" readonly value="{value}">'
        )
        return f'<div class="course-field"><label>{label} {field}</label></div>'
    if isinstance(widget, w.Button):
        return f'<button type="button" disabled>{esc(widget.description or widget.tooltip or "Button")}</button>'
    if isinstance(widget, w.Box):
        if getattr(widget.layout, "display", None) == "none":
            return ""
        inner = "".join(static_html(child) for child in widget.children)
        flex = "display:flex;gap:8px;align-items:center" if isinstance(widget, w.HBox) else ""
        return f'<div style="{flex}">{inner}</div>' if flex else f"<div>{inner}</div>"
    return ""


def _snapshot(widget: object) -> str:
    classes = " ".join(getattr(widget, "_dom_classes", ()))
    return f'<div class="course-static {classes}">{static_html(widget)}</div>'


def snapshots() -> dict[str, str]:
    """Key -> static HTML of what each display of a course widget in this process showed last."""
    return {**_frozen, **{key: _snapshot(widget) for key, widget in _latest.values()}}
