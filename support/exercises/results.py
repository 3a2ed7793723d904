"""What a check returns and how it looks: ``Result`` (correct, incorrect, not attempted), the exceptions a check
function raises, and ``Message`` / ``note()`` for hints, solutions and notes."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["correct", "incorrect", "not_attempted"]
# label, accent colour: JupyterLab's theme variables (a fallback for other front ends). The accent colours only the
# box's left border; the text is the theme's font colour, which reads in the light and the dark theme alike.
_STYLE = {
    "correct": ("Correct", "var(--jp-success-color1, #388e3c)"),
    "incorrect": ("Incorrect", "var(--jp-error-color1, #d32f2f)"),
    "not_attempted": ("Not attempted", "var(--jp-border-color1, #bdbdbd)"),
    "note": ("Note", "var(--jp-info-color1, #0097a7)"),
}
TEXT = "var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87))"
BACKGROUND = "var(--jp-layout-color2, #eeeeee)"


def box(kind: str, heading: str, body_html: str) -> str:
    """A result or message box: a coloured left border, the heading in bold, the body; theme-aware colours."""
    accent = _STYLE[kind][1]
    return (
        f'<div style="border-left:4px solid {accent};background:{BACKGROUND};color:{TEXT};padding:6px 10px;'
        f'margin:4px 0"><strong>{html.escape(heading)}</strong> {body_html}</div>'
    )


@dataclass(frozen=True)
class Result:
    """The outcome of a check. Truthy when correct; renders as HTML and a one-line text form."""

    kind: Kind
    message: str
    title: str = ""

    @property
    def correct(self) -> bool:
        return self.kind == "correct"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"{_STYLE[self.kind][0]}: {self.message}"

    __repr__ = __str__

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        heading = f"{_STYLE[self.kind][0]}" + (f" ({self.title})" if self.title else "") + ":"
        return {"text/plain": str(self), "text/html": box(self.kind, heading, html.escape(self.message))}


def correct(message: str = "Well done.") -> Result:
    return Result("correct", message)


def incorrect(message: str) -> Result:
    return Result("incorrect", message)


def not_attempted(message: str = "replace ____ with your answer, then run the check again.") -> Result:
    return Result("not_attempted", message)


class Incorrect(Exception):
    """Raise inside a check function: the answer is wrong, and the message says what the learner produced."""


class NotAttempted(Exception):
    """Raise inside a check function when there is nothing to check yet."""


class Message:
    """A note, hint or solution: deterministic ``text/plain`` plus a styled HTML form."""

    def __init__(self, text: str, html_body: str) -> None:
        self.text, self._html = text, html_body

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self._html}


def note(text: str) -> Message:
    """Show `text` as a note under the cell (a blue box in JupyterLab; the text alone elsewhere) and return it."""
    message = Message(text, box("note", "Note:", html.escape(text)))
    from IPython.display import display  # outside IPython this prints str(message)

    display(message)
    return message
