"""The solution text an exercise shows is code that passes its own check.

The checks keep a reference answer (typed, documented, used when a learner skips the exercise) and, apart, the
solution a learner reads (plain, as they would write it). This keeps the two from drifting apart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from support.checks.redis_basics import ex_send, ex_take
from support.checks.results import ex_report, ex_status
from support.checks.scaling import ex_order
from support.checks.slow_request import TOO_SLOW, ex_time_form
from support.exercises import Exercise
from support.services import app, mailcatcher

# exercise, the function its solution defines, what the notebook has defined by then (besides the course's imports)
CASES = [
    (ex_time_form, "time_form", lambda: {"time": time, "app": app, "TOO_SLOW": TOO_SLOW}),
    (ex_order, "prediction", dict),
    (ex_send, "send", dict),
    (ex_take, "take", dict),
    (ex_report, "report", dict),
    (ex_status, "export_status", dict),
]


@pytest.mark.slow
@pytest.mark.parametrize("exercise, name, names", CASES, ids=[case[1] for case in CASES])
def test_the_solution_shown_passes_its_check(shared_course: Path, exercise: Exercise, name: str, names: Any) -> None:
    mailcatcher.start()
    namespace = names()
    exec(exercise.solution_code, namespace)  # what a learner gets when they paste .solution() into a cell
    result = exercise.check(namespace[name])
    assert result.kind == "correct", result.message
