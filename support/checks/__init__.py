"""The exercises of each notebook, one module per notebook (``support.checks.<notebook>``), built from
``support.exercises``. Notebooks import them by these paths: ``from support.checks.jobs import ex_write_job``.

Importing this package subscribes the progress log (``support/services/progress_log.py``) to every exercise
declared here: each check, hint, solution and fallback becomes a line, under the notebook that ``NOTEBOOKS``
gives for the exercise's module (a test checks that it names every module here and a notebook that imports it).

Imports: anything else in ``support`` (this is the top layer); only notebooks, tests and ``support.progress``
import a check module.
"""

from __future__ import annotations

import importlib
import inspect

from ..exercises import Exercise, events, placeholder
from ..services import progress_log

NOTEBOOKS: dict[str, str] = {  # the check module -> the notebook whose exercises it holds, in course order
    "slow_request": "01_slow_request",
    "redis_basics": "02_redis",
    "jobs": "03_jobs",
    "controller": "03_jobs",
    "dashboard": "04_dashboard",
    "failures": "05_when_things_fail",
    "scaling": "06_scaling_and_scheduling",
    "quiz": "07_check_for_understanding",
    "quiz_after": "07_check_for_understanding",
    "quiz_code": "07_check_for_understanding",
    "results": "08_results_and_progress",
    "production": "09_reliability",
    "operations": "10_operations",
    "capstone": "11_capstone",
    "django_tasks": "12_django_tasks",
}


def notebook_of(exercise: Exercise) -> str | None:
    """The notebook of a course exercise; None for one declared elsewhere (a test's own). An exercise declared in a
    check module's helper (``_failures_options``) belongs to that check module's notebook (``failures``)."""
    package, _, module = getattr(exercise, "module", "").rpartition(".")
    if package != __name__:
        return None
    if module.startswith("_"):
        owners = [name for name in NOTEBOOKS if module[1:].startswith(name + "_")]
        module = max(owners, key=len, default=module)
    return NOTEBOOKS.get(module)


def catalogue() -> list[tuple[str, str, str]]:
    """Every course exercise as (notebook, name, title), in course order (imports every check module)."""
    found: dict[tuple[str, str], str] = {}
    for module_name, notebook in NOTEBOOKS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        for value in vars(module).values():
            if isinstance(value, Exercise) and notebook_of(value) == notebook:
                found.setdefault((notebook, value.name), value.title)
    order = list(dict.fromkeys(NOTEBOOKS.values()))
    number = lambda name: int("".join(c for c in name if c.isdigit()) or 0)  # noqa: E731  Exercise 2 before 10
    ranked = sorted(found.items(), key=lambda item: (order.index(item[0][0]), number(item[0][1])))
    return [(notebook, name, title) for (notebook, name), title in ranked]


def _answer_text(values: tuple[object, ...]) -> str:
    """The learner's answer as text, for the opt-in record: a function's source, else a short description."""
    parts = []
    for value in values:
        try:
            parts.append(inspect.getsource(value) if inspect.isfunction(value) else placeholder.describe(value))
        except (OSError, TypeError):
            parts.append(placeholder.describe(value))
    return "\n".join(parts)


def _record(event: events.Event) -> None:
    notebook = notebook_of(event.exercise)
    if notebook is not None:
        answer = _answer_text(event.values) if event.values and progress_log.recording_answers() else None
        progress_log.append(notebook, event.exercise.name, event.event, event.outcome, answer)


if _record not in events.listeners:
    events.listeners.append(_record)
