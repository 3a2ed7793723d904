"""What a check returns and how it looks: ``Result`` (correct, incorrect, not attempted), the exceptions a check
function raises, and ``Message`` / ``note()`` for hints, solutions and notes."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal


Kind = Literal["correct", "incorrect", "not_attempted"]
_STYLE = {  # label, text colour, background
    "correct": ("Correct", "#1a7f37", "#e6f4ea"),
    "incorrect": ("Incorrect", "#b42318", "#fdecea"),
    "not_attempted": ("Not attempted", "#555555", "#f0f0f0"),
    "note": ("Note", "#1f4e8c", "#e8f0fb"),
}


def box(kind: str, heading: str, body_html: str) -> str:
    colour, background = _STYLE[kind][1:]
    return (f'<div style="border-left:4px solid {colour};background:{background};padding:6px 10px;'
            f'margin:4px 0"><strong style="color:{colour}">{html.escape(heading)}</strong> {body_html}</div>')


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
