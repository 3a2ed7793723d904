"""Session-wide rules for every pytest run of the course (unit tests, notebooks, or both).

- Each edition's notebooks run against a state folder of their own in the session's temporary folder, so a test
  run never touches the course a learner has open (`.course/`), and the two editions can run side by side:
  with `pytest -n 2` (pytest-xdist) each edition goes whole, in order, to one worker.
- The learner edition is stored without outputs; nbval gets the outputs each of its cells must produce from
  ``tools/editions.py`` (the instructor's, except where ``tests/learner_outputs.json`` records a difference).
- When the session ends, no process that the course started may be left running.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import psutil
import pytest

from support import course, processes

_notebook_homes: set[Path] = set()
_spec = importlib.util.spec_from_file_location("editions", Path(__file__).parent / "tools" / "editions.py")
editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editions)


def _edition(path: str | Path) -> str | None:
    """`instructor` or `notebooks` for a notebook's path, None for any other test file."""
    path = Path(path)
    return path.parent.name if path.suffix == ".ipynb" else None


def _home_of(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("COURSE_HOME", "")
    except psutil.Error:
        return ""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """With `-n`, hand out work by edition for notebooks (a notebook's cells, and an edition's notebooks, depend on
    the ones before) and by file for everything else."""
    from xdist.scheduler import LoadScopeScheduling

    class ByEdition(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return _edition(path) or path

    return ByEdition(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each cell of a learner notebook (stored clean) the outputs nbval must find when it runs the cell."""
    import nbformat

    expected: dict[Path, dict[str, object]] = {}
    for item in items:
        cell = getattr(item, "cell", None)  # nbval's cell item keeps the notebook's cell here
        if _edition(item.path) != "notebooks" or cell is None or cell.get("outputs"):
            continue
        if item.path not in expected:
            nb = editions.expected_learner(item.path.name, learner_dir=item.path.parent)
            expected[item.path] = {c.id: c for c in nb.cells if c.cell_type == "code"}
        want = expected[item.path].get(cell.get("id"))
        if want is not None and want.execution_count is not None:
            cell.outputs = [nbformat.from_dict(output) for output in want.outputs]
            cell.execution_count = want.execution_count
    for path, cells in expected.items():  # nbval compares nothing in a cell without expected outputs: never all
        if not any(c.execution_count is not None for c in cells.values()):
            raise pytest.UsageError(f"{path.name}: no expected outputs for the learner edition (is the instructor "
                                    "edition executed? python tools/editions.py --execute-instructor)")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Point the notebook's kernel (started in the first cell's set-up) at its edition's state folder."""
    edition = _edition(item.path)
    if edition:
        home = item.config._tmp_path_factory.getbasetemp() / f"course-{edition}"
        os.environ["COURSE_HOME"] = str(home)
        os.environ["COURSE_AUTORUN"] = "1"  # nobody will press Interrupt: the worker notebook stops when idle
        _notebook_homes.add(home)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop what the notebooks left for each other, then fail if any course process of this session (found by the
    state folder in its environment) is still running."""
    for home in sorted(_notebook_homes):
        os.environ["COURSE_HOME"] = str(home)
        course.down()
    os.environ.pop("COURSE_HOME", None)
    tmp = str(session.config._tmp_path_factory.getbasetemp()) + os.sep
    left = [p for p in processes.course_processes() if _home_of(p).startswith(tmp)]
    if left:
        lines = [f"  pid {p.pid}: {' '.join(p.cmdline())[:120]}" for p in left]
        print("\nCourse processes still running after the tests:\n" + "\n".join(lines))
        for proc in left:  # end them (ours, found by their mark) so the machine is clean, and fail the run
            proc.kill()
        session.exitstatus = 1
