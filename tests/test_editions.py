"""Tests of tools/editions.py and the modules it runs: learner sources from instructor notebooks, --check, and
executed learner outputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import editions
from tools.learner_outputs import comparable, expected_learner, read_learner_outputs, sanitizer, write_learner_outputs
from tools.notebook_files import INSTRUCTOR_DIR, LEARNER_DIR, EditionError, as_node, notebook_names, read
from tools.notebook_run import SHOWN_CHECKOUT, tidy
from tools.solutions import learner_source, strip_solutions

REPO_ROOT = Path(__file__).resolve().parent.parent

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "PLACEHOLDER")


def instructor_notebook() -> nbformat.NotebookNode:
    """A tiny instructor notebook: a value exercise, a function exercise, a %%writefile one, a markdown answer."""
    cells = [
        new_markdown_cell("# Tiny\nWhich work can wait?"),
        new_markdown_cell("Your answer:\n<!-- BEGIN SOLUTION -->\nThe email can wait.\n<!-- END SOLUTION -->"),
        new_markdown_cell("<!-- BEGIN SOLUTION -->\nInstructor note: pause here.\n<!-- END SOLUTION -->"),
        new_code_cell(
            "from support.exercises import ____, Exercise\n"
            "ex = Exercise('Exercise 1', expected=42, hints=['Six times seven.'], solution='answer = 42')"
        ),
        new_code_cell("# BEGIN SOLUTION\n# PLACEHOLDER: answer = ____\nanswer = 42\n# END SOLUTION"),
        new_code_cell("ex.check(answer)"),
        new_code_cell("value = ex.use(answer)\nvalue"),
        new_code_cell('def double(n):\n    """Twice n."""\n    # BEGIN SOLUTION\n    return n * 2\n    # END SOLUTION'),
        new_code_cell(
            "%%writefile tiny_job.py\nfrom support.exercises import ____\n\n\ndef job(x):\n"
            "    # BEGIN SOLUTION\n    # PLACEHOLDER: result = ____\n    # PLACEHOLDER: return result\n"
            "    return x + 1\n    # END SOLUTION"
        ),
        new_code_cell("print('only for the instructor')", metadata={"tags": ["instructor-only"]}),
        new_code_cell(
            "from support.exercises import Choice\n"
            "q = Choice('Question 1', 'Which can wait?', {'a': 'the page', 'b': 'the email'}, answer='b')\n"
            "q.widget()"
        ),
    ]
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index}"
    nb = new_notebook(cells=cells)
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def editions_dirs(tmp_path: Path) -> tuple[Path, Path]:
    instructor, learner = tmp_path / "instructor", tmp_path / "notebooks"
    instructor.mkdir()
    nbformat.write(instructor_notebook(), instructor / "01_tiny.ipynb")
    return instructor, learner


def sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {cell.id: cell.source for cell in nb.cells}


def test_learner_source_has_placeholders_and_no_markers():
    learner = learner_source(instructor_notebook(), "01_tiny.ipynb")
    got = sources(learner)
    assert got["cell-1"] == "Your answer:"
    assert "cell-2" not in got  # a markdown cell that was all solution is dropped
    assert "cell-9" not in got  # instructor-only
    assert got["cell-4"] == "answer = ____"
    assert got["cell-7"] == 'def double(n):\n    """Twice n."""\n    ____'
    assert got["cell-8"] == (
        "%%writefile tiny_job.py\nfrom support.exercises import ____\n\n\ndef job(x):\n"
        "    result = ____\n    return result"
    )
    assert got["cell-5"] == "ex.check(answer)"  # untouched cells stay as they are, with the same ids
    for text in got.values():
        assert not any(marker in text for marker in MARKERS)
    assert all(cell.outputs == [] for cell in learner.cells if cell.cell_type == "code")


def test_strip_solutions_edge_cases():
    assert strip_solutions("a\n  # BEGIN SOLUTION\n  b\n  # PLACEHOLDER:\n  # END SOLUTION\nc") == "a\nc"
    with pytest.raises(EditionError, match="never closed"):
        strip_solutions("# BEGIN SOLUTION\nx = 1")
    with pytest.raises(EditionError, match="outside a solution region"):
        strip_solutions("x = 1\n# END SOLUTION")
    with pytest.raises(EditionError, match="inside another"):
        strip_solutions("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION")
    nb = new_notebook(cells=[new_code_cell("# BEGIN SOLUTION")])
    with pytest.raises(EditionError, match="bad.ipynb, cell 1"):
        learner_source(nb, "bad.ipynb")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "editions.py"), *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_check_passes_when_in_sync_and_fails_when_the_instructor_changes(editions_dirs):
    instructor, learner = editions_dirs
    assert editions.check(instructor, learner) == [
        "notebooks/01_tiny.ipynb is missing: run python tools/editions.py 01_tiny.ipynb"
    ]
    assert editions.build(instructor, learner, execute_learner=False, log=lambda _: None) == ["01_tiny.ipynb"]
    assert editions.check(instructor, learner) == []
    nbformat.validate(nbformat.read(learner / "01_tiny.ipynb", as_version=4))
    dirs = ("--instructor", str(instructor), "--learner", str(learner))
    assert run_cli("--check", *dirs).returncode == 0

    nb = nbformat.read(instructor / "01_tiny.ipynb", as_version=4)
    nb.cells[5].source = "ex.check(answer)\nex.hint()"
    nbformat.write(nb, instructor / "01_tiny.ipynb")
    problems = editions.check(instructor, learner)
    assert problems == [
        "notebooks/01_tiny.ipynb is out of date: cell 5 (code, id cell-5) differs at line 2: "
        "expected 'ex.hint()', found ''"
    ]
    done = run_cli("--check", *dirs)
    assert done.returncode == 1 and "01_tiny.ipynb" in done.stdout and "cell 5" in done.stdout

    assert run_cli("--no-execute", *dirs).returncode == 0
    assert run_cli("--check", *dirs).returncode == 0
    (learner / "02_orphan.ipynb").write_text(nbformat.writes(new_notebook()))
    done = run_cli("--check", *dirs)
    assert done.returncode == 1 and "02_orphan.ipynb has no instructor/02_orphan.ipynb" in done.stdout


def test_no_execute_keeps_the_recorded_outputs_of_unchanged_cells(editions_dirs):
    instructor, learner = editions_dirs
    outputs = learner.parent / "tests" / "learner_outputs.json"
    editions.build(instructor, learner, execute_learner=False, log=lambda _: None)
    recorded = [
        {
            "output_type": "execute_result",
            "data": {"text/plain": "Not attempted: ..."},
            "metadata": {},
            "execution_count": 3,
        }
    ]
    write_learner_outputs({"01_tiny.ipynb": {"cell-5": recorded}}, outputs)
    assert editions.build(instructor, learner, execute_learner=False, log=lambda _: None) == []
    assert read_learner_outputs(outputs)["01_tiny.ipynb"] == {"cell-5": recorded}

    nb = nbformat.read(instructor / "01_tiny.ipynb", as_version=4)  # the check cell changes: its record goes
    next(c for c in nb.cells if c.id == "cell-5").source = "ex.check(answer)  # again"
    nbformat.write(nb, instructor / "01_tiny.ipynb")
    editions.build(instructor, learner, execute_learner=False, log=lambda _: None)
    assert read_learner_outputs(outputs)["01_tiny.ipynb"] == {}


def plain_outputs(nb: nbformat.NotebookNode) -> dict[str, list[str]]:
    return {
        cell.id: [o.get("data", {}).get("text/plain") or o.get("text") for o in cell.outputs]
        for cell in nb.cells
        if cell.cell_type == "code"
    }


@pytest.mark.slow
def test_the_learner_edition_is_stored_clean_and_its_own_outputs_are_recorded(editions_dirs, tmp_path):
    instructor, learner = editions_dirs
    editions.execute_instructor(instructor, log=lambda _: None)
    solved = plain_outputs(nbformat.read(instructor / "01_tiny.ipynb", as_version=4))
    assert solved["cell-5"] == ["Correct: Well done."]
    assert solved["cell-6"] == ["42"]
    assert solved["cell-9"] == ["only for the instructor\n"]

    editions.build(instructor, learner, log=lambda _: None)
    nb = nbformat.read(learner / "01_tiny.ipynb", as_version=4)
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert all("execution" not in c.metadata for c in nb.cells)
    assert (learner / "tiny_job.py").exists()  # %%writefile ran with notebooks/ as the working directory
    assert editions.check(instructor, learner) == []

    # recorded: only where the blank exercise shows; everywhere else the learner printed what the instructor did
    recorded = read_learner_outputs(learner.parent / "tests" / "learner_outputs.json")["01_tiny.ipynb"]
    assert sorted(recorded) == ["cell-5", "cell-6"]
    expected = expected_learner("01_tiny.ipynb", instructor, learner, learner.parent / "tests" / "learner_outputs.json")
    out = plain_outputs(expected)
    assert out["cell-5"] == ["Not attempted: replace ____ with your answer, then run the check again."]
    assert out["cell-6"] == ["Using the reference solution for Exercise 1 so you can go on.", "42"]
    assert out["cell-10"] == ["Question 1: Which can wait?\n  a) the page\n  b) the email"]  # the instructor's
    assert list(next(c for c in expected.cells if c.id == "cell-10").outputs[0]["data"]) == ["text/plain"]

    # those expected outputs are what nbval finds when it runs the learner notebook
    # (%%writefile says "Writing" the first time and "Overwriting" after: a sanitize rule evens that out)
    nbformat.write(nbformat.from_dict(expected), learner / "01_tiny.ipynb")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "sanitize.cfg").write_text("[writefile]\nregex: (Over)?[Ww]riting (\\S+)\nreplace: Writing \\2\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--nbval",
            str(learner / "01_tiny.ipynb"),
            "--nbval-sanitize-with",
            str(tmp_path / "sanitize.cfg"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_failing_cell_stops_the_build_and_names_the_notebook(tmp_path):
    instructor, learner = tmp_path / "instructor", tmp_path / "notebooks"
    instructor.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), instructor / "03_broken.ipynb")
    with pytest.raises(EditionError, match=r"notebooks/03_broken.ipynb failed:(.|\n)*ZeroDivisionError"):
        editions.build(instructor, learner, log=lambda _: None)
    assert not (learner / "03_broken.ipynb").exists()


def test_tidy_keeps_nothing_of_this_machine_in_stored_outputs():
    """A stored traceback loses the frames of installed libraries; this checkout's path becomes a neutral one."""
    library = f"File {sys.prefix}/lib/python3.11/site-packages/rq/queue.py:1117, in Queue.enqueue"
    cell = new_code_cell("boom()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"Imports job code from: {REPO_ROOT}/notebooks\n"),
        nbformat.v4.new_output(
            "error",
            ename="ValueError",
            evalue="nope",
            traceback=["-----", "ValueError  Traceback", "Cell In[2], line 4", library, "ValueError: nope"],
        ),
    ]
    nb = tidy(as_node(dict(new_notebook(cells=[cell]))))
    stream, error = nb.cells[0].outputs
    assert stream["text"] == f"Imports job code from: {SHOWN_CHECKOUT}/notebooks\n"
    assert error["traceback"] == [
        "-----",
        "ValueError  Traceback",
        "Cell In[2], line 4",
        "(frames inside installed libraries left out)",
        "ValueError: nope",
    ]
    assert (error["ename"], error["evalue"]) == ("ValueError", "nope")  # what nbval compares stays


# --- the course's own learner edition ---------------------------------------------------------------------------


def _exercise_calls(source: str) -> set[str]:
    return set(re.findall(r"\b(?:ex|q)_?\w*\.(check|use)\(", source)) | (
        {"summary"} if "summary()" in source else set()
    )


@pytest.mark.parametrize("name", notebook_names(INSTRUCTOR_DIR))
def test_the_learner_edition_differs_only_where_an_exercise_is_left_blank(name: str) -> None:
    """The learner edition is stored clean; run, it must print what the instructor edition printed, except in the
    cells of a blank exercise: the answer cell itself, its check ("Not attempted") and the cells that fall back to
    the reference ("Using the reference solution"). nbval then holds each run to these expectations."""
    learner = read(LEARNER_DIR / name)
    assert not any(cell.get("outputs") for cell in learner.cells), f"{name} is stored with outputs"
    instructor = {c.id: c for c in read(INSTRUCTOR_DIR / name).cells if c.cell_type == "code"}
    recorded = read_learner_outputs().get(name, {})
    sanitize = sanitizer()
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        calls = _exercise_calls(cell.source)
        shown = "\n".join(text for *_, text in comparable(as_node(recorded.get(cell.id, [])), sanitize))
        if cell.id in recorded:
            answer_cell = cell.source != instructor[cell.id].source
            assert answer_cell or calls, f"{name}: cell {cell.id} differs from the instructor's, yet it is no exercise"
        if "check" in calls and "widget" not in cell.source:
            assert shown.startswith("Not attempted"), f"{name}: a blank check must say so, cell {cell.id}: {shown!r}"
        elif "use" in calls:
            assert re.match(r"Using (the|a) reference ", shown), f"{name}: cell {cell.id} must say it falls back"
    assert set(recorded) <= {c.id for c in learner.cells}, f"{name}: recorded outputs of cells that are gone"


def test_stored_outputs_never_carry_a_course_token():
    """Links to the app and the dashboard carry the learner's random token: stored, it becomes TOKEN (the sanitizer
    masks a fresh run's token the same way), so a notebook is the same from run to run and leaks no token."""
    from nbformat.v4 import new_output

    cell = new_code_cell("dashboard.link()")
    cell.outputs = [
        new_output(
            "execute_result",
            data={
                "text/html": '<a href="http://127.0.0.1:9181/?course_token=Ab-9_xY">Open</a>',
                "text/plain": "<HTML>",
            },
            execution_count=1,
        ),
        new_output("stream", name="stdout", text="/proxy/127.0.0.1:1/?course_token=Zz-1\n"),
    ]
    nb = new_notebook(cells=[cell])
    tidied = tidy(nb)
    shown = tidied.cells[0].outputs[0]["data"]["text/html"]
    assert shown == '<a href="http://127.0.0.1:9181/?course_token=TOKEN">Open</a>'
    assert tidied.cells[0].outputs[1]["text"] == "/proxy/127.0.0.1:1/?course_token=TOKEN\n"
    sanitize = sanitizer()
    assert sanitize("?course_token=q-W_e1") == sanitize("?course_token=TOKEN")
