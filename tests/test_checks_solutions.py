"""The solution text an exercise shows is code that passes its own check.

The checks keep a reference answer (typed, documented, used when a learner skips the exercise) and, apart, the
solution a learner reads (plain, as they would write it). This keeps the two from drifting apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.checks.results import ex_report, ex_status
from support.checks.scaling import ex_order
from support.exercises import Exercise
from support.services import mailcatcher

# exercise, the function its solution defines, what the notebook has defined by then (besides the course's imports).
# 01's and 02's exercises are not here: their requirements tables run each solution shown (Table.reference_source).
CASES = [
    (ex_order, "prediction", dict),
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
