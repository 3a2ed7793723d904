"""Shared fixtures. Every test that starts services gets a state folder of its own (``COURSE_HOME``), so tests
never touch a learner's running course. (The check that no course process is left after a session is in the
top-level conftest.py, so that it also runs when only the notebooks are tested.)

The browser tests (``test_browser*.py``, and ``test_web_access.py``, which asks the same JupyterLab over HTTP) share
one JupyterLab and one Chromium per session: the top-level conftest sends them all to the same pytest-xdist worker.
The JupyterLab serves a copy of the learner edition under JupyterHub's layout (``/user/learner/``), and the browser
reaches nothing but Jupyter's own address: every request to another origin (a course service's own port among them)
is blocked and recorded, as a learner's laptop would find it on a hub.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM_ARGS, NOT_INSTALLED, find_chromium
from browser_traffic import Traffic
from lab_page import LabPage
from lab_server import BASE_URL, REPO, LabServer, copy_notebooks, serving

from support.services import course, inbox, processes, redis_server, state, thoughts_db

BROWSER_SWITCH = "COURSE_BROWSER_TESTS"  # "0": skip the browser tests, saying so (make test BROWSER=0)


@pytest.fixture(autouse=True)
def own_progress_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checks run by tests write their progress lines to a file of the test's own, never to the learner's."""
    path = tmp_path_factory.mktemp("progress") / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


# What stays up between the tests of a worker, emptied: Redis and the mail catcher (a catcher started and stopped
# by every test made the workers race for port 1025, seconds each time). Anything else is stopped after each test.
SHARED = ("redis", "catcher")


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This worker's state folder, shared by its tests that only need the services running (rq's own tests share
    one Redis the same way); everything started in it is stopped at the end of the session."""
    home = tmp_path_factory.mktemp("shared") / "course"
    yield home
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_HOME", str(home))
        mp.delenv("REDIS_URL", raising=False)
        course.down()


def _reset_shared() -> None:
    """Back to a clean course in the shared folder: Redis and the mail catcher running (started if a test stopped
    them), Redis emptied (FLUSHALL), nothing else running, the inbox empty, the app's database and the lessons'
    files gone. A test that needs the catcher down stops it itself."""
    with state.locked():
        for name in list(state.read()):
            if name not in SHARED:  # a worker still busy with a held job gets a second to stop, then SIGKILL
                processes.stop(name, timeout=1.0)
    course.up(*SHARED, quiet=True)
    redis_server.connect().flushall()
    inbox.clear()
    for name in ("code06",):
        state.wipe(name)
    for path in state.home().glob(f"{thoughts_db.FILE_NAME}*"):
        path.unlink()


@pytest.fixture
def shared_course(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The worker's shared state folder, as a clean course: for the tests that use the services without testing how
    they start, stop, crash or keep their files private (those take `course_home`). What the test started besides
    Redis and the catcher is stopped afterwards, and what it stored is emptied, before the next test."""
    monkeypatch.setenv("COURSE_HOME", str(shared_home))
    monkeypatch.delenv("REDIS_URL", raising=False)
    _reset_shared()
    yield shared_home
    monkeypatch.setenv("COURSE_HOME", str(shared_home))  # a test may have pointed it elsewhere
    monkeypatch.delenv("REDIS_URL", raising=False)
    _reset_shared()


@pytest.fixture
def redis_up(shared_course: Path) -> Path:
    """The shared course with Redis running."""
    course.up("redis", quiet=True)
    return shared_course


@pytest.fixture
def services(shared_course: Path) -> Path:
    """The shared course with Redis and the mail catcher running."""
    course.up("redis", "catcher", quiet=True)
    return shared_course


@pytest.fixture
def course_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty state folder for this test alone; everything started in it is stopped afterwards. For the tests of
    starting, stopping, crashing and privacy; the others take `shared_course`."""
    home = tmp_path / "course"
    monkeypatch.setenv("COURSE_HOME", str(home))
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield home
    monkeypatch.setenv("COURSE_HOME", str(home))  # a test may have pointed it elsewhere
    monkeypatch.delenv("REDIS_URL", raising=False)
    course.down()


# --- the browser tests: one Chromium, one JupyterLab ---------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Chromium, started once. Skipped, saying why, with BROWSER=0 or when Chromium is missing (``make
    test`` refuses to start without it unless BROWSER=0 was asked for)."""
    if os.environ.get(BROWSER_SWITCH) == "0":
        pytest.skip("browser tests turned off (make test BROWSER=0)")
    program = find_chromium()
    if program is None:
        pytest.skip(NOT_INSTALLED)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=program, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab under ``/user/learner/`` on a copy of the learner edition; its kernels use a state folder of their
    own. Stopped at the end of the session, with everything its kernels started."""
    scratch = tmp_path_factory.mktemp("lab")
    root = scratch / "root"
    root.mkdir()
    copy_notebooks(REPO / "notebooks", root / "notebooks")
    with serving(LabServer(root=root, home=scratch / "course", scratch=scratch, base_url=BASE_URL)) as server:
        yield server


@pytest.fixture(scope="session")
def browser_context(chromium: Any, lab: LabServer) -> Iterator[tuple[Any, Traffic]]:
    """One browser context for every page, in which only Jupyter's own origin answers."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    origin = f"http://127.0.0.1:{lab.port}"
    traffic = Traffic(origin)
    # Only what leaves the origin reaches Python (and is aborted there): Jupyter's own requests are not held up.
    context.route(re.compile(rf"^(?!{re.escape(origin)}/|data:|blob:|about:)"), traffic.block)
    context.on("response", traffic.response)
    try:
        yield context, traffic
    finally:
        context.close()


@pytest.fixture(scope="session")
def lab_page(browser_context: tuple[Any, Traffic], lab: LabServer) -> LabPage:
    """JupyterLab, loaded once in one page for every browser test."""
    context, _ = browser_context
    return LabPage(context.new_page(), lab).load()


@pytest.fixture
def jupyter(lab_page: LabPage, lab: LabServer) -> Iterator[LabPage]:
    """The JupyterLab page; afterwards its notebooks are closed unsaved and every kernel is shut down (also when the
    test failed: a dialog or a wedged page is replaced by a fresh load)."""
    lab_page.console_errors.clear()
    lab_page.js_dialogs.clear()
    yield lab_page
    try:
        lab_page.close_documents()
        clean = lab_page.dialog() is None
    except Exception:  # noqa: BLE001 - a broken page is replaced below
        clean = False
    lab.shutdown_kernels()
    if not clean:
        lab_page.load()


@pytest.fixture
def traffic(browser_context: tuple[Any, Traffic]) -> Iterator[Traffic]:
    """The session's record of blocked and failed requests, emptied for this test."""
    _, record = browser_context
    record.blocked.clear()
    record.failed.clear()
    record.log.clear()
    yield record
