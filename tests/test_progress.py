"""Progress (issue 15): real course exercises answered right and wrong, skipped, hinted and fallen back on; the
progress file, ``python -m support progress`` and its export read back exactly; answers only when opted in; and a
check that answers exactly the same when its line cannot be written."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_theme_colours import colours_in

from support import progress
from support.checks import NOTEBOOKS, catalogue, notebook_of
from support.checks.quiz import q1, q2, q3
from support.checks.slow_request import REFERENCE_SORT, ex_sort, q_line
from support.exercises import Exercise, ____, events
from support.services import progress_log

ROOT = Path(__file__).resolve().parent.parent
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state folder of the test's own, with the progress file where a learner's is."""
    home = tmp_path / "course"
    monkeypatch.setenv("COURSE_HOME", str(home))
    monkeypatch.delenv("COURSE_PROGRESS_FILE")
    monkeypatch.delenv("COURSE_RECORD_ANSWERS", raising=False)
    yield home
    progress_log.record_answers(None)


def run_progress(home: Path, *args: str) -> str:
    """``python -m support progress ARGS`` in a real process on that state folder; its output."""
    env = {**os.environ, "COURSE_HOME": str(home)}
    env.pop("COURSE_PROGRESS_FILE", None)
    done = subprocess.run(
        [sys.executable, "-m", "support", "progress", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def a_session() -> None:
    """One learner's session, on real exercises of 01 and 07."""
    assert q_line.check("c").correct  # the right answer: correct at once
    assert not ex_sort.check(____)  # left blank,
    ex_sort.hint(1), ex_sort.hint(2), ex_sort.hint(1)  # two hints (hint 1 seen twice),
    ex_sort.solution()  # the solution,
    assert ex_sort.use(____, quiet=True) == REFERENCE_SORT  # and a later cell falls back: used the reference
    assert [bool(q1.check(a)) for a in ("a", "a c e", "b")] == [False, True, False]  # correct once stays correct
    assert not q2.check("a") and not q2.check(____)  # wrong, then blank again: tried
    q2.hint(1)
    assert not q3.check(____)  # blank only: not attempted


def test_a_session_is_recorded_line_by_line(home: Path) -> None:
    a_session()
    lines = [json.loads(raw) for raw in (home / "progress.jsonl").read_text().splitlines()]
    assert all(TIME.match(line.pop("at")) for line in lines)
    assert [tuple(line.values()) for line in lines] == [
        ("01_slow_request", "Exercise 2", "check", "correct"),
        ("01_slow_request", "Exercise 3", "check", "not attempted"),
        ("01_slow_request", "Exercise 3", "hint", "hint 1"),
        ("01_slow_request", "Exercise 3", "hint", "hint 2"),
        ("01_slow_request", "Exercise 3", "hint", "hint 1"),
        ("01_slow_request", "Exercise 3", "solution", "solution shown"),
        ("01_slow_request", "Exercise 3", "fallback", "used the reference"),
        *[
            ("07_check_for_understanding", "Question 1", "check", outcome)
            for outcome in ("incorrect", "correct", "incorrect")
        ],
        ("07_check_for_understanding", "Question 2", "check", "incorrect"),
        ("07_check_for_understanding", "Question 2", "check", "not attempted"),
        ("07_check_for_understanding", "Question 2", "hint", "hint 1"),
        ("07_check_for_understanding", "Question 3", "check", "not attempted"),
    ]


def test_the_progress_command_prints_each_exercise_with_its_status(home: Path) -> None:
    a_session()
    assert run_progress(home, "01_slow_request") == (
        f"Kept in {home / 'progress.jsonl'} on this machine only; nothing is sent anywhere.\n"
        "01_slow_request\n"
        "  Exercise 1: Time the form yourself  not attempted       hints: 0\n"
        "  Exercise 2: Three users in line     correct             hints: 0\n"
        "  Exercise 3: Background or request?  used the reference  hints: 2   solution shown\n"
        "Total: 1 correct, 1 used the reference, 0 tried, 1 not attempted; 2 hints taken\n"
    )
    whole = run_progress(home).splitlines()
    assert whole[-1] == (
        f"Total: 2 correct, 1 used the reference, 1 tried, {len(catalogue()) - 4} not attempted; 3 hints taken"
    )
    assert [line.split()[0] for line in whole if not line.startswith(("Kept", "Total", " "))] == [
        "01_slow_request",
        "02_redis",
        "03_jobs",
        "04_dashboard",
        "05_when_things_fail",
        "06_scaling_and_scheduling",
        "07_check_for_understanding",
        "08_results_and_progress",
        "09_reliability",
        "10_operations",
        "11_capstone",
        "12_django_tasks",
    ]
    quiz = whole[whole.index("07_check_for_understanding") + 1 :][:4]
    assert quiz == [
        "  Question 1                                                        correct             hints: 0",
        "  Question 2                                                        tried               hints: 1",
        "  Question 3                                                        not attempted       hints: 0",
        "  Question 4                                                        not attempted       hints: 0",
    ]


def test_a_notebook_without_exercises_is_an_error(home: Path) -> None:
    env = {**os.environ, "COURSE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "support", "progress", "03_job"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: No notebook '03_job' has exercises; one of: 01_slow_request, 02_redis, ")


def test_the_export_has_a_row_per_exercise(home: Path, tmp_path: Path) -> None:
    a_session()
    out = tmp_path / "alice.csv"
    assert run_progress(home, "--export", str(out), "--learner", "alice") == (
        f"Wrote {len(catalogue())} rows for alice to {out} (nothing was sent anywhere).\n"
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == len(catalogue()) > 28  # 28 before the five questions on 08 and 09
    touched = [r for r in rows if r["last_at"]]
    untouched = [r for r in rows if not r["last_at"]]
    first_try = {r["exercise"]: r.pop("first_try_at") for r in touched}
    assert all(TIME.match(r.pop("last_at")) for r in touched)
    assert [tuple(r.values()) for r in touched] == [
        ("alice", "01_slow_request", "Exercise 2", "Three users in line", "correct", "1", "0", "no"),
        ("alice", "01_slow_request", "Exercise 3", "Background or request?", "used the reference", "0", "2", "yes"),
        ("alice", "07_check_for_understanding", "Question 1", "", "correct", "3", "0", "no"),
        ("alice", "07_check_for_understanding", "Question 2", "", "tried", "1", "1", "no"),
        ("alice", "07_check_for_understanding", "Question 3", "", "not attempted", "0", "0", "no"),
    ]
    assert TIME.match(first_try["Exercise 2"]) and TIME.match(first_try["Question 1"]) and first_try["Exercise 3"] == ""
    assert {(r["status"], r["tries"], r["hints"], r["first_try_at"]) for r in untouched} == {
        ("not attempted", "0", "0", "")
    }


def test_without_a_name_the_export_uses_one_random_id_kept_in_the_state_folder(home: Path, tmp_path: Path) -> None:
    run_progress(home, "--export", str(tmp_path / "1.csv"))
    run_progress(home, "--export", str(tmp_path / "2.csv"))
    learner = (home / "learner_id").read_text().strip()
    assert re.fullmatch(r"learner-[0-9a-f]{8}", learner)
    for name in ("1.csv", "2.csv"):
        assert {row["learner"] for row in csv.DictReader((tmp_path / name).open())} == {learner}


def test_the_progress_file_and_the_learner_id_are_private(home: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)  # a kernel's usual umask: new files are readable by all unless made private
    try:
        a_session()
        run_progress(home, "--export", str(tmp_path / "mine.csv"))
    finally:
        os.umask(old)
    for name in ("progress.jsonl", "learner_id"):
        assert (home / name).stat().st_mode & 0o777 == 0o600, name


def test_no_answer_is_recorded_unless_the_learner_opts_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def answers() -> list[str | None]:
        return [json.loads(raw).get("answer") for raw in (home / "progress.jsonl").read_text().splitlines()]

    q2.check("a")
    q_line.check("c")
    assert answers() == [None, None]
    monkeypatch.setenv("COURSE_RECORD_ANSWERS", "1")
    q2.check("c")
    monkeypatch.delenv("COURSE_RECORD_ANSWERS")
    progress.record_answers(True)
    q_line.check("b")
    q2.hint(1)  # a hint has no answer
    progress.record_answers(False)
    monkeypatch.setenv("COURSE_RECORD_ANSWERS", "1")  # the call wins over the variable
    q2.check("d")
    recorded = answers()
    assert recorded[2] == "'c'" and recorded[3] == "'b'"
    assert recorded[:2] + recorded[4:] == [None, None, None, None]


# --- a check answers the same whatever happens to its line -------------------------------------------------------


def _answers_of_a_session() -> list[str]:
    return [
        str(q1.check("a c e")),
        str(q2.check("a")),
        str(q3.check(____)),
        str(ex_sort.hint(1)),
        str(ex_sort.solution()),
        repr(ex_sort.use(____, quiet=True)),
    ]


def _progress_file_is_a_folder(home: Path) -> None:
    (home / "progress.jsonl").mkdir(parents=True)


def _disk_is_full(home: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    home.mkdir()
    (home / "progress.jsonl").symlink_to("/dev/full")  # every write: ENOSPC, No space left on device


def _state_folder_is_a_file(home: Path) -> None:
    home.write_text("not a folder")


@pytest.mark.parametrize("break_it", [_progress_file_is_a_folder, _disk_is_full, _state_folder_is_a_file])
def test_a_line_that_cannot_be_written_changes_nothing_in_the_check(home: Path, break_it) -> None:
    expected = _answers_of_a_session()  # written fine
    assert len(progress_log.read()) >= 6
    broken = home.with_name("broken")
    os.environ["COURSE_HOME"] = str(broken)  # restored by the fixture's monkeypatch
    break_it(broken)
    assert progress_log.append("07_check_for_understanding", "Question 1", "check", "correct") is False
    assert _answers_of_a_session() == expected
    assert progress.report("07_check_for_understanding").endswith(
        "0 correct, 0 used the reference, 0 tried, 20 not attempted; 0 hints taken"
    )


def test_a_state_folder_that_even_root_cannot_write(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _answers_of_a_session()
    monkeypatch.setenv("COURSE_HOME", "/proc/course")  # mkdir there fails, as root too
    assert progress_log.append("07_check_for_understanding", "Question 1", "check", "correct") is False
    assert _answers_of_a_session() == expected


def test_a_corrupt_progress_file_is_read_around_and_written_after(home: Path) -> None:
    home.mkdir()
    good = {
        "at": "2026-01-01T00:00:00+00:00",
        "notebook": "07_check_for_understanding",
        "exercise": "Question 3",
        "event": "check",
        "outcome": "incorrect",
    }
    (home / "progress.jsonl").write_bytes(
        b'\x00\xff not json\n[1, 2]\n{"notebook": 3}\n'
        + json.dumps(good).encode()
        + b'\n{"at": "2026-01-01T00:00:01+00:00", "notebook": "07_ch'
    )  # cut short
    expected = str(q1.check("a c e"))
    assert [(line["exercise"], line["outcome"]) for line in progress_log.read()] == [
        ("Question 3", "incorrect"),
        ("Question 1", "correct"),
    ]
    assert expected == "Correct: " + q1.explanations["a"] + " " + q1.explanations["c"] + " " + q1.explanations["e"]
    statuses = {row.exercise: row.status for row in progress.rows("07_check_for_understanding")}
    assert statuses["Question 1"] == "correct" and statuses["Question 3"] == "tried"


def test_a_listener_that_raises_changes_nothing() -> None:
    expected = str(q2.check("a"))

    def broken(event: events.Event) -> None:
        raise RuntimeError("boom")

    events.listeners.insert(0, broken)
    try:
        assert str(q2.check("a")) == expected and str(q2.hint(1)) == "Hint 1/1: " + q2.hints[0]
    finally:
        events.listeners.remove(broken)


# --- which notebook an exercise belongs to -----------------------------------------------------------------------


def test_every_check_module_maps_to_a_notebook_that_imports_it() -> None:
    modules = {path.stem for path in (ROOT / "support" / "checks").glob("[!_]*.py")}  # _*.py: one module's helpers
    assert set(NOTEBOOKS) == modules
    for module, notebook in NOTEBOOKS.items():
        source = (ROOT / "instructor" / f"{notebook}.ipynb").read_text()
        assert f"from support.checks.{module} import" in source, f"{notebook} does not import {module}"


def test_every_exercise_knows_its_notebook_and_its_name_is_unique_there() -> None:
    import importlib

    keys, seen = [], set()
    for module_name, notebook in NOTEBOOKS.items():
        module = importlib.import_module(f"support.checks.{module_name}")
        for value in vars(module).values():
            # declared in this module, or in one of its helpers (support.checks._failures_options for failures)
            if isinstance(value, Exercise) and value.module.startswith(
                ("support.checks." + module_name, "support.checks._" + module_name)
            ):
                if id(value) in seen:
                    continue
                seen.add(id(value))
                assert notebook_of(value) == notebook, value.module
                keys.append((notebook, value.name))
    assert len(keys) == len(set(keys)) == len(catalogue())


def test_an_exercise_declared_outside_the_course_is_not_recorded(home: Path) -> None:
    mine = Exercise("E", expected=1)
    assert mine.module == __name__ and notebook_of(mine) is None
    mine.check(1), mine.hint(), mine.solution()
    assert not (home / "progress.jsonl").exists()


# --- the table in a notebook --------------------------------------------------------------------------------------


def test_show_is_a_widget_that_writes_every_status_in_words_in_the_theme_colours(home: Path) -> None:
    a_session()
    table = progress.show("07_check_for_understanding")
    text = (
        "Your progress: 07_check_for_understanding (a table in JupyterLab; `python -m support progress` prints "
        "it as text)"
    )
    assert repr(table) == table._repr_mimebundle_()["text/plain"] == text  # all nbval compares of a widget
    page = table.value
    assert page.count("<tr>") == 21 and "Question 20" in page
    assert ">✓ correct</span>" in page and ">✗ tried</span>" in page and ">○ not attempted</span>" in page
    everything = progress.show().value
    assert ">↪ used the reference</span>" in everything and "01_slow_request" in everything
    assert "var(--jp-success-color1, " in everything and "var(--jp-ui-font-color1, " in everything
    assert not colours_in(everything)  # no fixed colour outside var(--jp-…, fallback): light and dark themes
