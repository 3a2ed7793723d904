"""The requirements tables themselves (issue 28), without services: every course exercise has exactly one table;
each requirement is quoted from its notebook; each table has a requirement and two right answers that differ from
the reference; every mutant listed as equivalent is still one ``tests/mutants.py`` makes. The multiple-choice
questions' generic tables (``exercise_table.choice_table``) are run here too: their checks need no service."""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

import pytest
from exercise_table import ROOT, Case, Table, choice_tables, course_exercises, quoted_in_notebook
from mutants import exercise_key, key, load_tables, mutants_of, table_modules

from support.checks import notebook_of


@cache
def declared_tables() -> tuple[Table, ...]:
    """Every table the test modules declare (``TABLES``), then the multiple-choice ones: duplicates kept."""
    import importlib

    tables = [t for name in table_modules() for t in getattr(importlib.import_module(name), "TABLES", ())]
    return (*tables, *choice_tables())


@cache
def notebook_text(notebook: str) -> str:
    """All the text of an instructor notebook: its markdown and its code cells' sources."""
    cells = json.loads((ROOT / "instructor" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells)


def _normal(source: str) -> str:
    """An answer with layout, comments and quotes aside: its syntax tree, or its words if it is not Python."""
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return " ".join(source.split())


def test_every_exercise_has_exactly_one_table():
    counts: dict[int, int] = {}
    for table in declared_tables():
        counts[id(table.exercise)] = counts.get(id(table.exercise), 0) + 1
    label = lambda ex: f"{exercise_key(ex)} ({notebook_of(ex)}'s {ex.name})"  # noqa: E731
    missing = [label(ex) for ex in course_exercises() if id(ex) not in counts]
    twice = [label(ex) for ex in course_exercises() if counts.get(id(ex), 0) > 1]
    assert not missing and not twice, (
        f"{len(missing)} exercises have no requirements table (TABLES in tests/test_checks_<module>.py):\n  "
        + "\n  ".join(missing or ["none"])
        + f"\n{len(twice)} have more than one:\n  "
        + "\n  ".join(twice or ["none"])
    )


def test_requirements_are_quoted_from_the_notebook():
    unquoted = []
    for table in declared_tables():
        if table.choice:  # the options' own texts, shown by the question's widget
            continue
        text = notebook_text(notebook_of(table.exercise) or "")
        unquoted += [f"{table.name}: {r.text!r}" for r in table.requirements if not quoted_in_notebook(table, r, text)]
    assert not unquoted, "requirements not quoted from the exercise's notebook:\n  " + "\n  ".join(unquoted)


def test_tables_have_a_requirement_and_two_right_answers_unlike_the_reference():
    thin = []
    for table in declared_tables():
        reference = _normal(table.reference_source)
        answers = [_normal(source) for source in table.right]
        same = [n for n, answer in enumerate(answers, start=1) if answer == reference]
        if same:
            thin.append(f"{table.name}: right answer(s) {same} are the reference written again")
        if len(set(answers) - {reference}) < 2:
            thin.append(f"{table.name}: {len(set(answers) - {reference})} distinct right answers (two are needed)")
        if not table.requirements:
            thin.append(f"{table.name}: no requirement")
    assert not thin, "\n".join(thin)


def test_equivalent_mutants_are_still_made():
    stale = []
    for table in declared_tables():
        made = {mutant.id for mutant in mutants_of(table)}
        stale += [f"{table.name}: {mutant!r}" for mutant in table.equivalent if mutant not in made]
    assert not stale, (
        "Table.equivalent names mutants tests/mutants.py no longer makes (the reference changed: take them out, "
        "see `.venv/bin/python tests/mutants.py --exercise NAME --list`):\n  " + "\n  ".join(stale)
    )


def test_keys_name_one_table_each():
    """The names tests/mutants.py and its record use (``jobs.ex_route_urgent``) are unique."""
    tables = declared_tables()
    assert len(load_tables()) == len({key(t) for t in tables}) == len({id(t.exercise) for t in tables})


CHOICE_CASES = [case for table in choice_tables() for case in table.cases()]


@pytest.mark.parametrize("case", CHOICE_CASES, ids=[case.id for case in CHOICE_CASES])
def test_choice_table(case: Case, tmp_path: Path) -> None:
    """Each multiple-choice question: its answer accepted in every form, each answer one option away rejected with
    that option's own feedback."""
    case.run()
