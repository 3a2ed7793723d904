"""Session-wide rules for every pytest run of the course (unit tests, notebooks, or both, as ``make test`` runs them
in one session).

- **The notebooks run as one chain, in one state folder of their own:** the learner edition first, *last notebook
  first* (as a learner who opens them out of order), from an empty state folder; then the instructor edition in the
  usual order, on whatever the learner edition left behind (so every notebook also runs a second time, on used
  state). The folder is in the session's temporary folder: a test run never touches the course a learner has open
  (``.course/``). Under pytest-xdist the chain goes whole, in that order, to one worker; the browser tests go whole
  to one worker (they share one JupyterLab and one Chromium); every other test file goes to whichever is free.
- The learner edition is stored without outputs; nbval gets the outputs each of its cells must produce from
  ``tools/learner_outputs.py`` (the instructor's, except where ``tests/learner_outputs.json`` records a difference).
- **Every cell runs:** when an edition's folder is tested whole, each code cell of each of its notebooks on disk
  must have run and passed under nbval; the browser test reports the cells it ran, and each notebook it covers must
  have run whole there too.
- **Cost stays visible:** the summary says how long each phase took (the two editions, the browser, the rest).
- When the session ends, no process that the course started may be left running.
- **Ctrl+C works as in a learner's terminal:** a session started with SIGINT ignored (from a script's ``cmd &``)
  passes the ignore on to every process it starts, JupyterLab's terminals included, where Ctrl+C then stops nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil
import pytest

from support.services import course, processes
from tools.learner_outputs import expected_learner

ROOT = Path(__file__).resolve().parent
EDITIONS = ("notebooks", "instructor")  # the order of the chain: the learner edition first
BROWSER_CELLS = "browser_cells"  # the user property in which the browser test reports the cells it ran

_notebook_homes: set[Path] = set()  # the notebook chain's state folder, once made (one per process)
_temp_roots: set[Path] = set()  # pytest's temporary folder of this process, once a test asked for it
_saved_env: dict[str, str | None] = {}
_began = time.monotonic()
_began_at = time.time()  # the session's start, as process create times count
_phase_seconds: Counter[str] = Counter()
_nbval_passed: dict[str, set[int]] = defaultdict(set)  # "notebooks/01_slow_request.ipynb" -> cell numbers
_browser_ran: dict[str, set[int]] = defaultdict(set)  # "01_slow_request.ipynb" -> code cell numbers


def _edition(path: str | Path) -> str | None:
    """`instructor` or `notebooks` for a notebook's path, None for any other test file."""
    path = Path(path)
    return path.parent.name if path.suffix == ".ipynb" and path.parent.name in EDITIONS else None


def _browser_file(path: str) -> bool:
    """The test files that share the session's JupyterLab (and Chromium): tests/conftest.py's `lab` fixture."""
    name = Path(path).name
    return Path(path).parent.name == "tests" and (name.startswith("test_browser") or name == "test_web_access.py")


# The tests that make throwaway Unix users and open the folders above the checkout and its Python to them while
# they run (test_two_learners.reachable_by_others): one after the other, so that one does not close a folder that
# the other's users still need.
UNIX_USER_FILES = ("test_two_learners.py", "test_hub.py")


def _unix_user_file(path: str) -> bool:
    return Path(path).parent.name == "tests" and Path(path).name in UNIX_USER_FILES


def _phase(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    edition = _edition(path)
    if edition == "notebooks":
        return "learner edition under nbval (last notebook first)"
    if edition == "instructor":
        return "instructor edition under nbval (after the learner edition)"
    if _browser_file(path):
        return "browser (one JupyterLab, one Chromium)"
    return "unit tests"


def _home_of(proc: psutil.Process) -> str:
    try:
        return proc.environ().get("COURSE_HOME", "")
    except psutil.Error:
        return ""


def _is_controller(config: pytest.Config) -> bool:
    """True in the process that reports (pytest-xdist's controller, or the only process without xdist)."""
    return not hasattr(config, "workerinput")


def _chain_key(item: pytest.Item) -> tuple:
    """Sort key: the learner edition's notebooks last first, then the instructor edition's in order (a notebook's
    cells keep their order), then the browser tests, then the tests with Unix users, then everything else as
    collected."""
    edition = _edition(item.path)
    if edition == "notebooks":
        return (0, tuple(-ord(c) for c in item.path.name))
    if edition == "instructor":
        return (1, item.path.name)
    if _browser_file(item.nodeid.split("::", 1)[0]):
        return (2,)
    if _unix_user_file(item.nodeid.split("::", 1)[0]):
        return (2, 1)
    return (3,)


@pytest.hookimpl(optionalhook=True)
def pytest_configure(config: pytest.Config) -> None:
    """Ctrl+C back to Python's default, if this session was started with it ignored: a process started in the
    background by a non-interactive shell ignores SIGINT, every process it starts inherits that, and jupyter_server
    installs its own handler only when its stdin is a terminal, so the shells of its terminals ignore Ctrl+C too
    (tests/test_browser_controls.py presses it). A learner's ``make lab``, started from a terminal, has the default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """With `-n`, hand out work in the order of collection (see ``pytest_collection_modifyitems``): the notebooks as
    one unit, the browser tests as one unit, the tests with Unix users as one unit, every other test on its own.
    (xdist's public way, ``xdist_group`` marks with ``--dist loadgroup``, does nothing under pytest 9.2: xdist 3.8
    renames ``item._nodeid``, which pytest no longer reads, so each cell went to whichever worker was free.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByChain(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if _edition(path):
                return "notebooks"
            if _unix_user_file(path):
                return "unix users"
            return "browser" if _browser_file(path) else nodeid

    config.option.loadscopereorder = False  # keep our order: the longest units first
    return ByChain(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the items in the chain's order, and give each cell of a learner notebook (stored clean) the outputs nbval
    must find when it runs the cell."""
    import nbformat

    items.sort(key=_chain_key)  # a stable sort: cells, and tests within a file, keep their order
    expected: dict[Path, dict[str, object]] = {}
    for item in items:
        cell = getattr(item, "cell", None)  # nbval's cell item keeps the notebook's cell here
        if _edition(item.path) != "notebooks" or cell is None or cell.get("outputs"):
            continue
        if item.path not in expected:
            nb = expected_learner(item.path.name, learner_dir=item.path.parent)
            expected[item.path] = {c.id: c for c in nb.cells if c.cell_type == "code"}
        want = expected[item.path].get(cell.get("id"))
        if want is not None and want.execution_count is not None:
            cell.outputs = [nbformat.from_dict(output) for output in want.outputs]
            cell.execution_count = want.execution_count
    for path, cells in expected.items():  # nbval compares nothing in a cell without expected outputs: never all
        if not any(c.execution_count is not None for c in cells.values()):
            raise pytest.UsageError(
                f"{path.name}: no expected outputs for the learner edition (is the instructor "
                "edition executed? python tools/editions.py --execute-instructor)"
            )


def notebooks_home() -> Path:
    """The state folder of the notebook chain (both editions): a temporary folder of this process, made on first use
    and removed when the session ends."""
    if not _notebook_homes:
        _notebook_homes.add(Path(tempfile.mkdtemp(prefix="course-notebooks-")) / "course")
    return next(iter(_notebook_homes))


@pytest.fixture(scope="session", autouse=True)
def _session_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Remember this process's temporary folder: where the tests' state folders are (see pytest_sessionfinish)."""
    _temp_roots.add(tmp_path_factory.getbasetemp())
    return tmp_path_factory.getbasetemp()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Point the notebook's kernel (started in the first cell's set-up) at the chain's state folder; the variables
    are put back after the cell, so the unit tests that follow on the same worker see the environment as it was."""
    if _edition(item.path):
        home = notebooks_home()
        for name, value in (("COURSE_HOME", str(home)), ("COURSE_AUTORUN", "1")):
            _saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value  # COURSE_AUTORUN: nobody will press Interrupt, the worker notebook stops idle


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _edition(item.path):
        for name, value in _saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _saved_env.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each phase's time, each nbval cell that passed and each cell the browser test ran."""
    _phase_seconds[_phase(report.nodeid)] += report.duration
    path, _, name = report.nodeid.partition("::")
    if report.when == "call" and report.passed and _edition(path) and name.startswith("Cell "):
        _nbval_passed[path].add(int(name.split()[1]))
    for key, value in report.user_properties:
        if key == BROWSER_CELLS:
            for notebook, cells in json.loads(value).items():
                _browser_ran[notebook].update(cells)


def _code_cells(path: Path) -> int:
    import nbformat

    return sum(cell.cell_type == "code" for cell in nbformat.read(path, as_version=4).cells)


def cells_not_run(config: pytest.Config) -> list[str]:
    """Against the notebooks on disk: for each edition folder given whole on the command line, the cells that did not
    pass under nbval; and for each notebook the browser test ran, the cells it did not run (which notebooks the
    browser runs, and why not the others, is ``tests/test_browser.py``'s to say, and its own test's to check)."""
    missing = []
    given = {(config.invocation_params.dir / arg).resolve() for arg in config.args}
    for edition in EDITIONS:
        if (ROOT / edition).resolve() not in given:
            continue
        for path in sorted((ROOT / edition).glob("*.ipynb")):
            key = f"{edition}/{path.name}"
            lost = sorted(set(range(_code_cells(path))) - _nbval_passed.get(key, set()))
            if lost:
                missing.append(f"{key}: code cells {lost} did not pass under nbval")
    for name in sorted(_browser_ran):
        lost = sorted(set(range(_code_cells(ROOT / "notebooks" / name))) - _browser_ran.get(name, set()))
        if lost:
            missing.append(f"notebooks/{name}: code cells {lost} did not run in the browser")
    return missing


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop what the notebooks left for each other, then fail if any course process of this session (found by the
    state folder in its environment) is still running; the controller also fails if a cell was never run."""
    for home in sorted(_notebook_homes):
        os.environ["COURSE_HOME"] = str(home)
        course.down()
    os.environ.pop("COURSE_HOME", None)
    ours = tuple(f"{folder}{os.sep}" for folder in (*_temp_roots, *(home.parent for home in _notebook_homes)))
    left = [p for p in processes.course_processes() if ours and _home_of(p).startswith(ours)]
    if left:
        lines = [f"  pid {p.pid}: {' '.join(p.cmdline())[:120]}" for p in left]
        print("\nCourse processes still running after the tests:\n" + "\n".join(lines))
        for proc in left:  # end them (ours, found by their mark) so the machine is clean, and fail the run
            proc.kill()
        session.exitstatus = 1
    for home in _notebook_homes:
        shutil.rmtree(home.parent, ignore_errors=True)
    if _is_controller(session.config):
        _fail_on_strays_in_the_repositorys_state_folder(session)
    if _is_controller(session.config) and exitstatus == 0:
        missing = cells_not_run(session.config)
        if missing:
            print("\nNotebook cells that no test ran:\n  " + "\n  ".join(missing))
            session.exitstatus = 1


def _fail_on_strays_in_the_repositorys_state_folder(session: pytest.Session) -> None:
    """A test never uses the learner's own state folder (the repository's .course/): any course process there that
    started during this session came from code a test ran without a state folder of its own (course_home or
    shared_course). It is ended, by PID, and the run fails naming it."""
    mine = str(ROOT / ".course")
    strays = []
    for proc in processes.course_processes():
        try:
            if _home_of(proc) == mine and proc.create_time() >= _began_at - 1:
                strays.append(proc)
        except psutil.Error:
            continue
    if strays:
        lines = [f"  pid {p.pid}: {' '.join(p.cmdline())[:120]}" for p in strays]
        print(
            "\nCourse processes started in the repository's own .course/ during the tests (a test ran course code "
            "without course_home or shared_course):\n" + "\n".join(lines)
        )
        for proc in strays:
            proc.kill()
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    """How long each phase took: the time its tests took, added up over the workers, and the session's wall time."""
    if not _is_controller(config) or not _phase_seconds:
        return
    write = terminalreporter.write_line  # type: ignore[attr-defined]
    write("")
    write(f"Time by phase (summed over the workers), in a session of {time.monotonic() - _began:.0f} s:")
    for phase, seconds in sorted(_phase_seconds.items(), key=lambda kv: -kv[1]):
        write(f"  {seconds:7.1f} s  {phase}")
    ran = sum(len(cells) for cells in _nbval_passed.values())
    if ran:
        write(f"  nbval: {ran} notebook cells passed")
    if _browser_ran:
        write(f"  browser: {sum(map(len, _browser_ran.values()))} cells ran in {len(_browser_ran)} notebooks")
