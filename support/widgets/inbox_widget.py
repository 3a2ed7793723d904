"""A live view of the course's inbox for notebooks: new mail appears in it without re-running the cell.

Create it in a cell (``show_inbox()`` as the cell's last line). A daemon thread looks at the Maildir every 0.3 s
and, when the list of messages changed, sets the ``value`` of the widget's ``HTML`` children; it never prints.

Mail is untrusted: each message's HTML is shown inside ``<iframe sandbox="" srcdoc="...">`` (no scripts, no
forms, no access to the notebook page), and every header is escaped.
"""

from __future__ import annotations

import html
import threading

import ipywidgets as widgets

from ..services import inbox
from .live import LastState, Poller

POLL_SECONDS = 0.3
# Colours are JupyterLab's theme variables (readable in the light and the dark theme); a mail keeps the white
# background of its own frame, as a mail program shows it.
MUTED = "color:var(--jp-ui-font-color2, rgba(0, 0, 0, 0.54))"
BORDER = "var(--jp-border-color1, #bdbdbd)"
MAIL_BACKGROUND = "background:#fff"
FRAME_HEIGHT = "320px"

# Inside each message's frame: nothing may load but inline styles and images (remote images included).
_FRAME_HEAD = (
    '<!doctype html><meta charset="utf-8">'
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline'\">"
)


def render_message(message: inbox.Message, number: int = 1) -> str:
    """One message as HTML that is safe to put into the notebook page; `number` (1: the newest) makes its frame's
    title unique, so a screen reader tells the frames apart."""
    esc = html.escape
    when = message.date.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    head = (
        f'<div style="font-weight:bold">{esc(message.subject or "(no subject)")}</div>'
        f'<div style="font-size:90%;{MUTED}">From: {esc(message.sender or "(unknown)")} &middot; '
        f"To: {esc(', '.join(message.to) or '(nobody)')} &middot; {esc(when)}</div>"
    )
    if message.html:
        document = _FRAME_HEAD + message.inline_html()
        title = f"Mail {number}: {message.subject or '(no subject)'}, to {', '.join(message.to) or '(nobody)'}"
        body = (
            f'<iframe sandbox="" referrerpolicy="no-referrer" title="{esc(title)}" '
            f'srcdoc="{html.escape(document, quote=True)}" '
            f'style="width:100%;height:{FRAME_HEIGHT};border:1px solid {BORDER};{MAIL_BACKGROUND}"></iframe>'
        )
    else:
        body = (
            f'<pre style="white-space:pre-wrap;margin:4px 0;padding:6px;'
            f'background:var(--jp-layout-color2, #eeeeee);color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))">'
            f"{esc(message.text or '(empty message)')}</pre>"
        )
    return f'<div style="border:1px solid {BORDER};border-radius:4px;margin:6px 0;padding:6px 8px">{head}{body}</div>'


class InboxWidget(LastState, widgets.VBox):
    """The inbox, newest first, updated live by a background thread. ``close()`` stops the thread."""

    def __init__(self, limit: int = 10, interval: float = POLL_SECONDS) -> None:
        self.header = widgets.HTML()
        self.body = widgets.HTML()
        super().__init__(children=[self.header, self.body])
        self.add_class("course-inbox")  # a stable hook for the browser test (tests/test_browser.py)
        self.limit = limit
        self.interval = interval
        self.error: str | None = None  # the last error the thread met (shown in the header, never printed)
        self._seen: tuple[str, ...] | None = None
        self._lock = threading.Lock()
        self.refresh(force=True)
        self._poller = Poller(self.refresh, interval, "inbox-widget").start()

    def __repr__(self) -> str:
        # nbval compares this text: it must not depend on the inbox or the time.
        return "InboxWidget(live view of the course's inbox)"

    @property
    def html(self) -> str:
        """Everything the widget shows, as one HTML string."""
        return self.header.value + self.body.value

    def refresh(self, force: bool = False) -> bool:
        """Re-render when the inbox changed (or when `force`); True when it re-rendered."""
        with self._lock:
            try:
                current = tuple(inbox.keys())
                if not force and current == self._seen and self.error is None:
                    return False
                shown = inbox.messages(self.limit)
                self.error = None
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything and never print
                self.error = f"{type(exc).__name__}: {exc}"
                self.header.value = f"<b>Inbox</b> <span>(error: {html.escape(self.error)})</span>"
                return False
            self._seen = current
            total = len(current)
            more = f", showing the newest {len(shown)}" if total > len(shown) else ""
            self.header.value = f"<b>Inbox</b> &middot; {total} message{'s' if total != 1 else ''}{more}"
            self.body.value = (
                "".join(render_message(m, n) for n, m in enumerate(shown, 1))
                if shown
                else f'<div style="{MUTED};font-style:italic">No mail yet. '
                "It shows up here as soon as the mail catcher gets some.</div>"
            )
            return True

    def summary(self) -> str:
        """The shown messages as text, one ``subject — recipients`` line each (deterministic; safe to print)."""
        return "\n".join(inbox.summary_lines(self.limit)) or "(the inbox is empty)"

    def close(self) -> None:
        """Stop watching the inbox and close the widget."""
        self._poller.stop()
        self.header.close()
        self.body.close()
        super().close()


def show_inbox(limit: int = 10) -> InboxWidget:
    """A live inbox widget showing the newest `limit` messages: make it the last line of a cell."""
    return InboxWidget(limit=limit)
