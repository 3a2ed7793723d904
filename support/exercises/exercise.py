"""One exercise: its check, its hints and solution, and what later cells go on with (``use``)."""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from . import events
from .calls import _is_blank_name_error, blame
from .placeholder import describe, is_placeholder
from .results import Incorrect, Message, NotAttempted, Result, box, correct, incorrect, not_attempted, note

_MISSING: Any = object()


class Exercise:
    """One exercise: a check (function or ``expected`` value), numbered hints, a solution, and what a later cell
    goes on with when the learner's answer will not do: a `reference` value, or a `fallback` that makes one then
    (a job queued now, a failed job requeued), given the extra arguments of ``use``; `fallback_note` is the note
    shown then (default: "Using the reference solution for NAME so you can go on.").

    With `use_after_check`, ``use(value)`` goes on with `value` only when the last check was of it and passed
    (``passed_last_check``), and never checks it itself: for a check that needs more than the value
    (``check(total, parts)``), which ``use`` cannot give it.

    Subclasses may override :meth:`evaluate` instead of passing a check function, and :meth:`accept` when what
    ``use`` goes on with is not the answer itself, or needs less than the full check.
    """

    def __init__(
        self,
        name: str,
        check: Callable[..., Result | str | None] | None = None,
        *,
        title: str = "",
        hints: Sequence[str] = (),
        solution: str = "",
        expected: Any = _MISSING,
        reference: Any = _MISSING,
        fallback: Callable[..., Any] | None = None,
        fallback_note: str = "",
        use_after_check: bool = False,
    ) -> None:
        self.name, self.title, self.hints, self.solution_code = name, title, list(hints), solution.strip("\n")
        self._checker, self.expected = check, expected
        self.reference = expected if reference is _MISSING else reference
        self.fallback = fallback
        self.fallback_note = fallback_note or f"Using the reference solution for {name} so you can go on."
        self.use_after_check = use_after_check
        self._hints_shown = 0
        self.last_result: Result | None = None
        self._last_values: tuple[Any, ...] | None = None
        self.module = _declaring_module()  # e.g. "support.checks.jobs": tells which notebook it belongs to

    @property
    def label(self) -> str:
        return f"{self.name}: {self.title}" if self.title else self.name

    def evaluate(self, *values: Any) -> Result | str | None:
        """The default check: compare a single value with ``expected``."""
        if self._checker is not None:
            return self._checker(*values)
        if self.expected is _MISSING:
            raise TypeError(f"{self.name} has neither a check function nor an expected value")
        (value,) = values
        if value == self.expected:
            return None
        if type(value) is not type(self.expected):
            raise Incorrect(
                f"You gave {describe(value)} (type {type(value).__name__}); "
                f"the answer has type {type(self.expected).__name__}."
            )
        raise Incorrect(f"You gave {describe(value)}, which is not the answer.")

    def check(self, *values: Any) -> Result:
        """Check the learner's answer. Never raises (except KeyboardInterrupt); returns a renderable Result."""
        try:
            if any(is_placeholder(v) for v in values):
                raise NotAttempted()
            outcome = self.evaluate(*values)
            result = outcome if isinstance(outcome, Result) else correct(outcome or "Well done.")
        except Incorrect as exc:
            result = incorrect(str(exc))
        except NotAttempted as exc:
            result = not_attempted(str(exc)) if str(exc) else not_attempted()
        except (Exception, SystemExit) as exc:  # whose fault it is, said: the learner's code, a service, the check
            result = (
                not_attempted() if _is_blank_name_error(exc) else incorrect(blame(exc, self._checker or self.evaluate))
            )
        result = Result(result.kind, result.message, self.label)
        self.last_result, self._last_values = result, values
        events.emit(self, "check", _OUTCOME[result.kind], values)
        return result

    def hint(self, n: int | None = None) -> Message:
        """Show the next hint (or hint ``n``, counting from 1)."""
        total = len(self.hints)
        if n is None:
            if self._hints_shown >= total:
                text = f"No more hints for {self.name}." if total else f"{self.name} has no hints."
                text += " Call .solution() to see the reference solution." if self.solution_code else ""
                return Message(text, box("note", "Hint:", html.escape(text)))
            self._hints_shown += 1
            n = self._hints_shown
        if not 1 <= n <= total:
            text = f"{self.name} has {total} hint{'s' * (total != 1)}; ask for one between 1 and {total}."
            return Message(text, box("note", "Hint:", html.escape(text)))
        heading = f"Hint {n}/{total}:"
        events.emit(self, "hint", f"hint {n}")
        return Message(f"{heading} {self.hints[n - 1]}", box("note", heading, html.escape(self.hints[n - 1])))

    def solution(self) -> Message:
        """Show the reference solution as a code block."""
        code = self.solution_code or "# (no solution text for this exercise)"
        events.emit(self, "solution", "solution shown")
        return Message(
            f"Solution for {self.label}:\n{code}",
            box("note", f"Solution for {self.label}:", f"<pre><code>{html.escape(code)}</code></pre>"),
        )

    def last_check_of(self, value: Any) -> Result:
        """The result of the last check when it was run on this very value, else a new check of it."""
        same = self._last_values is not None and len(self._last_values) == 1 and self._last_values[0] is value
        return self.last_result if same and self.last_result is not None else self.check(value)

    def passed_last_check(self, value: Any) -> bool:
        """Was the last check of this very `value` (its first argument), and did it pass?"""
        last = self._last_values
        return (
            last is not None
            and len(last) > 0
            and last[0] is value
            and self.last_result is not None
            and self.last_result.correct
        )

    def accept(self, value: Any) -> Any:
        """What ``use`` goes on with when the learner's `value` will do; raise :class:`Incorrect` or
        :class:`NotAttempted` when it will not. Here: `value` itself, when it checks as correct (with
        `use_after_check`: when its last check passed)."""
        if self.use_after_check:
            if self.passed_last_check(value):
                return value
            raise Incorrect("not checked as correct")
        result = self.last_check_of(value)
        if not result.correct:
            raise Incorrect(result.message)
        return value

    def use(self, value: Any, *fallback_args: Any, quiet: bool = False) -> Any:
        """What a later cell goes on with: the learner's answer when it will do (see :meth:`accept`), else the
        reference (or what `fallback` makes from `fallback_args`), with a note saying so unless `quiet`."""
        try:
            return self.accept(value)
        except (Incorrect, NotAttempted):
            pass
        if self.fallback is not None:
            reference = self.fallback(*fallback_args)
        elif fallback_args:
            raise TypeError(f"{self.name} has no fallback to hand {len(fallback_args)} argument(s) to")
        elif self.reference is _MISSING:
            raise ValueError(f"{self.name} has no reference solution to fall back to")
        else:
            reference = self.reference
        events.emit(self, "fallback", "used the reference")
        if not quiet:
            note(self.fallback_note)
        return reference


_OUTCOME = {"correct": "correct", "incorrect": "incorrect", "not_attempted": "not attempted"}


def _declaring_module() -> str:
    """The module that declared the exercise: the first caller outside support.exercises."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(__package__ or "support.exercises"):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""
