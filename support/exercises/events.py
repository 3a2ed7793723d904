"""What happens to an exercise, told to whoever listens: a check's outcome, a hint or the solution shown, a fallback
to the reference. The framework records nothing itself (``support.checks`` subscribes the course's progress log).

A listener that raises is ignored: a check answers exactly the same whatever its listeners do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing that happened to an exercise. `outcome` is what a learner would read: "correct", "incorrect",
    "not attempted", "hint 2", "solution shown", "used the reference". `values` is the learner's answer (checks
    only): a listener decides whether to keep any of it."""

    exercise: Any
    event: str  # "check", "hint", "solution" or "fallback"
    outcome: str
    values: tuple[Any, ...] = ()


listeners: list[Callable[[Event], None]] = []


def emit(exercise: Any, event: str, outcome: str, values: tuple[Any, ...] = ()) -> None:
    """Tell every listener; never raises (except KeyboardInterrupt and the like)."""
    for listener in list(listeners):
        try:
            listener(Event(exercise, event, outcome, values))
        except Exception:  # noqa: BLE001 -- recording must never break a check
            pass
