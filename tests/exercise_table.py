"""An exercise's requirements table: the format every ``tests/test_checks_*.py`` module uses for its exercises.

Each requirement is quoted from the exercise's own text (the instructor notebook's markdown before the exercise),
with one wrong answer that breaks only that requirement: the check must reject it with a message that names the
requirement. Beside them, at least two right answers written differently from the reference: the check must accept
them. Answers are source text, run as the notebook runs a learner's cell (``submit``), so the same path serves the
table, the reference solution and its mutants (``tests/mutants.py``, ``make mutants``).

A test module declares ``TABLES = [Table(...), ...]`` and ends with ``test_requirements_table = table_test(TABLES)``.
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support.exercises import Choice, Exercise
from support.exercises.results import Result

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Requirement:
    """One requirement of an exercise: `text` quoted from the exercise's text, an answer (`wrong`, source text) that
    breaks only it, and `names`, words the check's message must contain when it rejects that answer."""

    text: str
    wrong: str
    names: str


@dataclass(frozen=True)
class Table:
    """An exercise's requirements and right answers, and how an answer's source is run against the real check.

    `submit(source)` runs `source` as the learner's cell would (defines what the exercise asks for, writes the file
    it asks for, ...) and returns the check's Result. `setup()` starts what the check needs (services, a worker...)
    in the test's state folder, which is fresh or reset (conftest's ``shared_course``). `reference` is the
    exercise's solution text unless given: the source the mutants are made from."""

    exercise: Exercise
    submit: Callable[[str], Result]
    requirements: Sequence[Requirement]
    right: Sequence[str]
    setup: Callable[[], Any] = lambda: None
    reference: str = ""
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant id -> why it behaves as the reference does
    choice: bool = False  # a multiple-choice question's generic table (choice_table): its mutants are its wrong answers

    @property
    def name(self) -> str:
        return f"{self.exercise.module.rsplit('.', 1)[-1]}.{self.exercise.name}"

    @property
    def reference_source(self) -> str:
        return self.reference or self.exercise.solution_code

    def cases(self) -> Iterator[Case]:
        yield Case(self, "reference", self.reference_source, None)
        for n, source in enumerate(self.right, start=1):
            yield Case(self, f"right-{n}", source, None)
        for n, requirement in enumerate(self.requirements, start=1):
            yield Case(self, f"requirement-{n}", requirement.wrong, requirement)


@dataclass(frozen=True)
class Case:
    """One answer of a table: accepted (`requirement` is None) or rejected naming its requirement."""

    table: Table
    label: str
    source: str
    requirement: Requirement | None

    @property
    def id(self) -> str:
        return f"{self.table.name}:{self.label}"

    def run(self) -> Result:
        self.table.setup()
        result = self.table.submit(self.source)
        if self.requirement is None:
            assert result.correct, f"{self.id}: a right answer was rejected: {result}\n{self.source}"
        else:
            assert result.kind == "incorrect", (
                f"{self.id}: an answer that breaks {self.requirement.text!r} was not rejected: {result}\n{self.source}"
            )
            assert self.requirement.names.lower() in result.message.lower(), (
                f"{self.id}: the message does not name the requirement ({self.requirement.names!r}): {result.message}"
            )
        return result


def define(source: str, name: str, namespace: dict[str, Any] | None = None) -> Any:
    """Run `source` in `namespace` (what the notebook has defined by then) and return what it named `name`; a
    source that does not define it gives the check a blank placeholder, as an untouched cell would."""
    from support.exercises import ____

    space: dict[str, Any] = dict(namespace or {})
    filename = f"<answer {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # its lines in messages
    exec(compile(source, filename, "exec"), space)
    return space.get(name, ____)


def table_test(tables: Sequence[Table]) -> Callable[..., None]:
    """A parametrized test running every case of `tables` in the shared state folder (conftest's fixture)."""
    cases = [case for table in tables for case in table.cases()]

    @pytest.mark.slow
    @pytest.mark.parametrize("case", cases, ids=[case.id for case in cases])
    def test(shared_course: Path, case: Case) -> None:
        case.run()

    return test


def choice_table(exercise: Choice) -> Table:
    """The generic table of a multiple-choice question (``Choice``, ``ManyChoice``): the right answer accepted in
    every form the notebook allows (a letter in any case, with a bracket or spaces, letters separated by commas or
    spaces, a list or a set as the widget gives); every answer that differs from it by one option rejected with that
    option's own feedback (one other option alone, for a question with one right answer; one option added or left
    out, for several); and two letters rejected where one is right. The requirements' texts are the options' texts."""
    from support.checks._quiz_many_choice import ManyChoice

    answer = sorted(exercise.answer)
    right = [repr(" ".join(answer).upper()), repr(", ".join(f" {k})" for k in reversed(answer))), repr(answer[::-1])]
    requirements = []
    for key, text in exercise.options.items():
        picks = sorted(set(answer) ^ {key})
        if len(answer) == 1:
            picks = [key]
        if not picks or picks == answer:
            continue
        if key in exercise.answer:  # left out of several right ones
            names = "1 more belongs" if isinstance(exercise, ManyChoice) else "wrong or missing"
        else:
            names = exercise.explanations.get(key) or ("wrong or missing" if len(answer) > 1 else "Think again")
        requirements.append(Requirement(text, repr(" ".join(picks)), names))
    if len(answer) == 1:
        other = next(k for k in exercise.options if k not in exercise.answer)
        requirements.append(Requirement("one right answer", repr(f"{answer[0]} {other}"), "Pick one letter"))

    def submit(source: str) -> Result:
        return exercise.check(ast.literal_eval(source))

    return Table(exercise, submit, requirements, right, reference=repr(" ".join(answer)), choice=True)


def course_exercises() -> list[Exercise]:
    """Every exercise declared in support/checks (its helper modules too), once each, in module order."""
    import importlib
    import pkgutil

    import support.checks as checks

    found: dict[int, Exercise] = {}
    for info in sorted(pkgutil.iter_modules(checks.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{checks.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Exercise) and checks.notebook_of(value) is not None:
                found.setdefault(id(value), value)
    return list(found.values())


def choice_tables() -> list[Table]:
    """The generic table of every multiple-choice question of the course."""
    return [choice_table(ex) for ex in course_exercises() if isinstance(ex, Choice)]


def quoted_in_notebook(table: Table, requirement: Requirement, notebook_text: str) -> bool:
    """Is the requirement quoted from the notebook's text (whitespace and markdown backticks aside)?"""
    squash = lambda text: " ".join(text.replace("`", "").split()).lower()  # noqa: E731
    return squash(requirement.text) in squash(notebook_text)
