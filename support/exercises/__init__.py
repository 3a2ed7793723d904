"""Exercise checks for the course notebooks: a placeholder, results that render, hints, solutions, fallbacks.

An exercise cell in the learner edition holds the placeholder ``____``; the check cell under it calls
``exercise.check(answer)``. A check never raises into the cell: it returns a :class:`Result` that renders as a
green, red or grey box in JupyterLab and as a one-line ``text/plain`` form that nbval compares::

    from support.exercises import ____, Exercise, Incorrect

    def _check(n):
        if n != 3:
            raise Incorrect(f"You counted {n} slow steps. Look at the timings above again.")

    ex_steps = Exercise("Exercise 1", _check, title="Count the slow steps",
                        hints=["Each step printed its own timing."], solution="steps = 3", reference=3)

    ex_steps.check(____)         # Not attempted: replace ____ with your answer, then run the check again.
    ex_steps.check(2)            # Incorrect: You counted 2 slow steps. Look at the timings above again.
    steps = ex_steps.use(____)   # returns 3 and says "Using the reference solution for Exercise 1 ..."

A later cell that needs the answer calls ``ex.use(answer)``: the answer when it checks as correct, else the
reference (a value, or what the exercise's ``fallback`` makes now), with a note saying so (``note(text)``).

A check function receives the learner's value(s) and either returns ``None`` (correct), a string (correct,
with that message) or a :class:`Result` (``correct()``, ``incorrect()``, ``not_attempted()``), or raises
:class:`Incorrect` / :class:`NotAttempted`. Any other exception becomes an incorrect result naming it.

The parts: ``placeholder`` (the blank), ``results`` (what a check returns, notes), ``calls`` (running the learner's
code), ``exercise`` (``Exercise``), ``choice`` (``Choice``), ``module_files`` (``load_module_from``), ``events``
(each check, hint, solution and fallback told to listeners: ``support.checks`` subscribes the progress log). The
exercises
themselves live in ``support/checks/<notebook>.py``.
"""

from .calls import call, call_with_deadline, require_function
from .choice import Choice
from .exercise import Exercise
from .module_files import ModuleLoadError, load_module_from
from .placeholder import Placeholder, ____, describe, is_placeholder
from .results import Incorrect, Message, NotAttempted, Result, correct, incorrect, not_attempted, note

__all__ = [
    "____",
    "Placeholder",
    "is_placeholder",
    "Result",
    "correct",
    "incorrect",
    "not_attempted",
    "Incorrect",
    "NotAttempted",
    "Exercise",
    "Choice",
    "call",
    "call_with_deadline",
    "require_function",
    "describe",
    "load_module_from",
    "ModuleLoadError",
    "Message",
    "note",
]
