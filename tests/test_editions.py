"""Tests of tools/editions.py: learner sources from instructor notebooks, --check, and executed learner outputs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("editions", REPO_ROOT / "tools" / "editions.py")
editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editions)

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "PLACEHOLDER")


def instructor_notebook() -> nbformat.NotebookNode:
    """A tiny instructor notebook: a value exercise, a function exercise, a %%writefile one, a markdown answer."""
    cells = [
        new_markdown_cell("# Tiny\nWhich work can wait?"),
        new_markdown_cell("Your answer:\n<!-- BEGIN SOLUTION -->\nThe email can wait.\n<!-- END SOLUTION -->"),
        new_markdown_cell("<!-- BEGIN SOLUTION -->\nInstructor note: pause here.\n<!-- END SOLUTION -->"),
        new_code_cell("from support.exercises import ____, Exercise\n"
                      "ex = Exercise('Exercise 1', expected=42, hints=['Six times seven.'], solution='answer = 42')"),
        new_code_cell("# BEGIN SOLUTION\n# PLACEHOLDER: answer = ____\nanswer = 42\n# END SOLUTION"),
        new_code_cell("ex.check(answer)"),
        new_code_cell("value = ex.use(answer)\nvalue"),
        new_code_cell("def double(n):\n    \"\"\"Twice n.\"\"\"\n    # BEGIN SOLUTION\n    return n * 2\n"
                      "    # END SOLUTION"),
        new_code_cell("%%writefile tiny_job.py\nfrom support.exercises import ____\n\n\ndef job(x):\n"
                      "    # BEGIN SOLUTION\n    # PLACEHOLDER: result = ____\n    # PLACEHOLDER: return result\n"
                      "    return x + 1\n    # END SOLUTION"),
        new_code_cell("print('only for the instructor')", metadata={"tags": ["instructor-only"]}),
        new_code_cell("from support.exercises import Choice\n"
                      "q = Choice('Question 1', 'Which can wait?', {'a': 'the page', 'b': 'the email'}, answer='b')\n"
                      "q.widget()"),
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
    learner = editions.learner_source(instructor_notebook(), "01_tiny.ipynb")
    got = sources(learner)
    assert got["cell-1"] == "Your answer:"
    assert "cell-2" not in got  # a markdown cell that was all solution is dropped
    assert "cell-9" not in got  # instructor-only
    assert got["cell-4"] == "answer = ____"
    assert got["cell-7"] == 'def double(n):\n    """Twice n."""\n    ____'
    assert got["cell-8"] == ("%%writefile tiny_job.py\nfrom support.exercises import ____\n\n\ndef job(x):\n"
                             "    result = ____\n    return result")
    assert got["cell-5"] == "ex.check(answer)"  # untouched cells stay as they are, with the same ids
    for text in got.values():
        assert not any(marker in text for marker in MARKERS)
    assert all(cell.outputs == [] for cell in learner.cells if cell.cell_type == "code")


def test_strip_solutions_edge_cases():
    assert editions.strip_solutions("a\n  # BEGIN SOLUTION\n  b\n  # PLACEHOLDER:\n  # END SOLUTION\nc") == "a\nc"
    with pytest.raises(editions.EditionError, match="never closed"):
        editions.strip_solutions("# BEGIN SOLUTION\nx = 1")
    with pytest.raises(editions.EditionError, match="outside a solution region"):
        editions.strip_solutions("x = 1\n# END SOLUTION")
    with pytest.raises(editions.EditionError, match="inside another"):
        editions.strip_solutions("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION")
    nb = new_notebook(cells=[new_code_cell("# BEGIN SOLUTION")])
    with pytest.raises(editions.EditionError, match="bad.ipynb, cell 1"):
        editions.learner_source(nb, "bad.ipynb")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "editions.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_check_passes_when_in_sync_and_fails_when_the_instructor_changes(editions_dirs):
    instructor, learner = editions_dirs
    assert editions.check(instructor, learner) == ["notebooks/01_tiny.ipynb is missing: "
                                                   "run python tools/editions.py 01_tiny.ipynb"]
    assert editions.build(instructor, learner, execute_learner=False, log=lambda _: None) == ["01_tiny.ipynb"]
    assert editions.check(instructor, learner) == []
    nbformat.validate(nbformat.read(learner / "01_tiny.ipynb", as_version=4))
    dirs = ("--instructor", str(instructor), "--learner", str(learner))
    assert run_cli("--check", *dirs).returncode == 0

    nb = nbformat.read(instructor / "01_tiny.ipynb", as_version=4)
    nb.cells[5].source = "ex.check(answer)\nex.hint()"
    nbformat.write(nb, instructor / "01_tiny.ipynb")
    problems = editions.check(instructor, learner)
    assert problems == ["notebooks/01_tiny.ipynb is out of date: cell 5 (code, id cell-5) differs at line 2: "
                        "expected 'ex.hint()', found ''"]
    done = run_cli("--check", *dirs)
    assert done.returncode == 1 and "01_tiny.ipynb" in done.stdout and "cell 5" in done.stdout

    assert run_cli("--no-execute", *dirs).returncode == 0
    assert run_cli("--check", *dirs).returncode == 0
    (learner / "02_orphan.ipynb").write_text(nbformat.writes(new_notebook()))
    done = run_cli("--check", *dirs)
    assert done.returncode == 1 and "02_orphan.ipynb has no instructor/02_orphan.ipynb" in done.stdout


def test_no_execute_keeps_outputs_of_unchanged_cells(editions_dirs):
    instructor, learner = editions_dirs
    editions.build(instructor, learner, execute_learner=False, log=lambda _: None)
    nb = nbformat.read(learner / "01_tiny.ipynb", as_version=4)
    check_cell = next(c for c in nb.cells if c.id == "cell-5")
    check_cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "Not attempted: ..."},
                                                 execution_count=3)]
    nbformat.write(nb, learner / "01_tiny.ipynb")
    assert editions.build(instructor, learner, execute_learner=False, log=lambda _: None) == []
    kept = nbformat.read(learner / "01_tiny.ipynb", as_version=4)
    assert next(c for c in kept.cells if c.id == "cell-5").outputs[0]["data"]["text/plain"] == "Not attempted: ..."


def plain_outputs(nb: nbformat.NotebookNode) -> dict[str, list[str]]:
    return {cell.id: [o.get("data", {}).get("text/plain") or o.get("text") for o in cell.outputs]
            for cell in nb.cells if cell.cell_type == "code"}


def test_executed_editions_store_not_attempted_and_correct(editions_dirs, tmp_path):
    instructor, learner = editions_dirs
    editions.build(instructor, learner, log=lambda _: None)
    nb = nbformat.read(learner / "01_tiny.ipynb", as_version=4)
    out = plain_outputs(nb)
    assert out["cell-5"] == ["Not attempted: replace ____ with your answer, then run the check again."]
    assert out["cell-6"] == ["Using the reference solution for Exercise 1 so you can go on.", "42"]
    assert out["cell-10"] == ["Question 1: Which can wait?\n  a) the page\n  b) the email"]
    assert (learner / "tiny_job.py").exists()  # %%writefile ran with notebooks/ as the working directory
    widget_cell = next(c for c in nb.cells if c.id == "cell-10")
    assert list(widget_cell.outputs[0]["data"]) == ["text/plain"]  # no dangling widget view, no widget state
    assert "widgets" not in nb.metadata and "version" not in nb.metadata.language_info
    assert all("execution" not in c.metadata for c in nb.cells)

    # the stored outputs are what nbval sees when it runs the notebook again
    # (%%writefile says "Writing" the first time and "Overwriting" after: a sanitize rule evens that out)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "sanitize.cfg").write_text("[writefile]\nregex: (Over)?[Ww]riting (\\S+)\nreplace: Writing \\2\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c",
                           str(tmp_path / "pytest.ini"), "--nbval", str(learner / "01_tiny.ipynb"),
                           "--nbval-sanitize-with", str(tmp_path / "sanitize.cfg")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]

    editions.execute_instructor(instructor, log=lambda _: None)
    solved = plain_outputs(nbformat.read(instructor / "01_tiny.ipynb", as_version=4))
    assert solved["cell-5"] == ["Correct: Well done."]
    assert solved["cell-6"] == ["42"]
    assert solved["cell-9"] == ["only for the instructor\n"]


def test_a_failing_cell_stops_the_build_and_names_the_notebook(tmp_path):
    instructor, learner = tmp_path / "instructor", tmp_path / "notebooks"
    instructor.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), instructor / "03_broken.ipynb")
    with pytest.raises(editions.EditionError, match=r"notebooks/03_broken.ipynb failed:(.|\n)*ZeroDivisionError"):
        editions.build(instructor, learner, log=lambda _: None)
    assert not (learner / "03_broken.ipynb").exists()


def test_tidy_keeps_nothing_of_this_machine_in_stored_outputs():
    """A stored traceback loses the frames of installed libraries; this checkout's path becomes COURSE."""
    library = f"File {sys.prefix}/lib/python3.11/site-packages/rq/queue.py:1117, in Queue.enqueue"
    cell = new_code_cell("boom()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"Imports job code from: {editions.REPO_ROOT}/notebooks\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="nope",
                               traceback=["-----", "ValueError  Traceback", "Cell In[2], line 4", library,
                                          "ValueError: nope"]),
    ]
    nb = editions.tidy(editions._node(dict(new_notebook(cells=[cell]))))
    stream, error = nb.cells[0].outputs
    assert stream["text"] == "Imports job code from: COURSE/notebooks\n"
    assert error["traceback"] == ["-----", "ValueError  Traceback", "Cell In[2], line 4",
                                  "(frames inside installed libraries left out)", "ValueError: nope"]
    assert (error["ename"], error["evalue"]) == ("ValueError", "nope")  # what nbval compares stays
