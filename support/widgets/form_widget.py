"""The Work-It form as a notebook widget: it posts to the real app over HTTP and shows how long the answer took."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..services import app
from .live import LastState


class WorkItForm(LastState, widgets.VBox):
    """Email, thought, Submit; below it the app's answer and the measured response time.

    Click Submit, press Enter in the Email field, or call ``form.submit("ada@example.com", "coffee")`` from code:
    all take the same path. With the keyboard alone: Tab from field to field, Enter in Email (or on Submit) sends.
    Every answer is kept in ``form.results`` (each a dict with ``status``, ``seconds``, ``ok``, ...).
    """

    def __init__(self) -> None:
        self.email = widgets.Text(
            description="Email", placeholder="you@example.com", tooltip="Your email address (Enter sends the form)"
        )
        self.thought = widgets.Textarea(
            description="Thought",
            placeholder="What's on your mind?",
            tooltip="Your thought",
            layout=widgets.Layout(width="28em", height="4em"),
        )
        self.button = widgets.Button(
            description="Submit", button_style="primary", icon="paper-plane", tooltip="Send the form to the Work-It app"
        )
        self.answer = widgets.HTML(value="<i>Fill in the form and press Submit.</i>")
        self.results: list[dict[str, Any]] = []
        self.button.on_click(lambda _button: self._press())
        self.email.on_msg(self._on_text_message)  # Enter in a Text widget sends {"event": "submit"}
        # The CSS class is a stable hook for the browser test (tests/test_browser.py).
        super().__init__([self.email, self.thought, self.button, self.answer], _dom_classes=("course-form",))

    def submit(self, email: str, thought: str) -> dict[str, Any]:
        """Fill in the fields and press Submit; returns the app's answer with its timing."""
        self.email.value, self.thought.value = email, thought
        return self._press()

    def _on_text_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        """Enter pressed in the Email field: send the form, as a click on Submit would."""
        if content.get("event") == "submit" and not self.button.disabled:
            self._press()

    def _press(self) -> dict[str, Any]:
        self.button.disabled = True
        self.button.description = "Sending..."
        self.answer.value = "<b>&#9203; The request is running: the page waits for the server...</b>"
        try:
            result = app.post_thought(self.email.value, self.thought.value)
        except Exception as exc:  # the app is down, a timeout...: say so in the form, never raise into a click
            result = {"ok": False, "status": 0, "seconds": 0.0, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            self.button.disabled = False
            self.button.description = "Submit"
        self.results.append(result)
        self.answer.value = describe(result, html_=True)
        return result

    def __repr__(self) -> str:  # nbval compares this; keep it free of what was typed
        return "WorkItForm(email, thought, Submit)"


def describe(result: dict[str, Any], html_: bool = False) -> str:
    """One line about an answer: the message or the error, the HTTP status, the time."""
    if result.get("ok"):
        text = f"Answered in {result['seconds']:.2f} s (HTTP {result['status']}): {result.get('message', '')}"
        accent = "var(--jp-success-color1, #388e3c)"
    elif result.get("status"):
        text = f"Refused (HTTP {result['status']}): {result.get('error', '')}"
        accent = "var(--jp-error-color1, #d32f2f)"
    else:
        text = f"No answer from the app: {result.get('error', '')}"
        accent = "var(--jp-error-color1, #d32f2f)"
    # The theme's font colour (readable in light and dark themes); the accent only colours the left border.
    style = f"color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87));border-left:4px solid {accent};padding-left:6px"
    return f"<span style='{style}'>{html.escape(text)}</span>" if html_ else text
