"""The learner's view: the core notebooks run in JupyterLab in a real browser (headless Chromium), and the live
widgets show what the lessons promise. nbval checks the outputs a kernel produces; this checks what a page shows.

One JupyterLab server (on a copy of ``notebooks/``, with a state folder of its own) and one browser page serve
every test here. The notebooks are opened one after another, in order, as a learner works through them: each
one's stored outputs are cleared, it is run with the menu's Run > Run All Cells, then closed unsaved and its
kernel shut down. While it runs, the page is read every quarter second (live widgets change, and the notebooks'
last cells may close them). On a failed check the whole notebook is saved as a picture in ``test-artifacts/``.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped, saying so, only when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest

from browser import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NOT_INSTALLED, REPO, LabPage, LabServer, NotebookPage,
                     copy_notebooks, serving)
from support.processes import Service

CORE_NOTEBOOKS = ["01_slow_request.ipynb", "02_redis.ipynb", "03_jobs.ipynb", "04_dashboard.ipynb"]
AFTER_THE_TUTORIAL = ["08_results_and_progress.ipynb", "09_production_patterns.ipynb"]
RUN_TIMEOUT = 180.0  # seconds for one notebook (01 alone waits ~15 s for its slow requests)
SHARED_SERVICES = {"redis", "catcher", "app", "dashboard"}  # what may stay up between notebooks
KEEP_SCREENSHOTS = os.environ.get("BROWSER_TEST_SCREENSHOTS") == "1"  # also keep pictures of passing runs
# The edition under test: the learner edition, or another folder (BROWSER_TEST_NOTEBOOKS=instructor, say).
EDITION = REPO / os.environ.get("BROWSER_TEST_NOTEBOOKS", "notebooks")


# --- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(NOT_INSTALLED)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on a copy of the learner edition; kernels use a state folder of this test's own."""
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "root"
    root.mkdir()
    if EDITION.is_dir():
        copy_notebooks(EDITION, root / "notebooks")
    with serving(LabServer(root=root, home=scratch / "course", scratch=scratch)) as server:
        yield server


@pytest.fixture(scope="module")
def lab_page(browser: Any, lab: LabServer) -> Iterator[LabPage]:
    """JupyterLab, loaded once in one browser page for all the tests here."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    try:
        yield LabPage(context.new_page(), lab).load()
    finally:
        context.close()  # nothing is saved: the copies on disk keep their stored outputs


@pytest.fixture
def jupyter(lab_page: LabPage, lab: LabServer) -> Iterator[LabPage]:
    """The JupyterLab page; afterwards its notebooks are closed unsaved and every kernel is shut down."""
    lab_page.console_errors.clear()
    lab_page.js_dialogs.clear()
    yield lab_page
    try:
        lab_page.close_documents()
        clean = lab_page.dialog() is None
    except Exception:  # noqa: BLE001 - a broken page is replaced below
        clean = False
    lab.shutdown_kernels()
    if not clean:  # a dialog or a wedged page must not spoil the next test: start over
        lab_page.load()


@contextmanager
def picture_on_failure(notebook: NotebookPage, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        try:
            print(f"Screenshot of the page: {notebook.screenshot(name)}")
        except Exception as exc:  # noqa: BLE001 - the picture must not hide the real failure
            print(f"(no screenshot: {exc})")
        logs = notebook.lab.home / "logs"
        if logs.is_dir():  # the services' logs (Redis, catcher, app, workers) as they were at the failure
            kept = ARTIFACTS / f"{name}-logs"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(logs, kept)
            print(f"Service logs: {kept}")
        if notebook.history:
            print("The page while the notebook ran (last looks):\n  " + "\n  ".join(notebook.history[-25:]))
        if notebook.console_errors:
            print("Browser console errors:\n  " + "\n  ".join(notebook.console_errors[-15:]))
        raise
    if KEEP_SCREENSHOTS:
        print(f"Screenshot of the page: {notebook.screenshot(name)}")


# --- what is watched while a notebook runs ------------------------------------------------------------------


class Watch:
    """Everything the page showed while the notebook ran (read every tick)."""

    def __init__(self, notebook: NotebookPage) -> None:
        self.notebook = notebook
        self.ticks = 0
        self.max_widget_views = 0
        self.broken_widget = False
        self.form_answers: list[str] = []
        self.inbox_frames: list[dict[str, Any]] = []
        self.gif_widths: list[int] = []
        self.log_sizes: list[int] = []
        self.log_job_ok = False
        self.dashboard_states: list[str] = []

    def __call__(self, snap: dict[str, Any]) -> None:
        self.ticks += 1
        self.max_widget_views = max(self.max_widget_views, snap.get("widgetViews", 0))
        self.broken_widget |= bool(snap.get("brokenWidget"))
        for text in snap.get("forms", []):
            answer = re.search(r"Answered in [0-9.]+ s[^\n]*", text)
            if answer and answer.group(0) not in self.form_answers:
                self.form_answers.append(answer.group(0))
        frames = snap.get("inboxFrames", [])
        if frames:
            self.inbox_frames = frames
            if any(f["gif"] for f in frames) and not any(self.gif_widths):
                self.gif_widths = self.notebook.gif_widths()
        logs = snap.get("logs", [])
        if logs:
            self.log_sizes.append(sum(len(text) for text in logs))
            self.log_job_ok |= any("Job OK" in text for text in logs)
        for state in snap.get("dashboards", []):
            if state and (not self.dashboard_states or self.dashboard_states[-1] != state):
                self.dashboard_states.append(state)

    def summary(self) -> str:
        parts = [f"{self.ticks} looks", f"up to {self.max_widget_views} widgets"]
        if self.form_answers:
            parts.append(f"form: {self.form_answers[0]!r}" + (f" (+{len(self.form_answers) - 1})"
                                                              if len(self.form_answers) > 1 else ""))
        if self.inbox_frames:
            parts.append(f"inbox: {len(self.inbox_frames)} mail frames, GIF widths {self.gif_widths}")
        if self.log_sizes:
            parts.append(f"worker log: {min(self.log_sizes)} -> {max(self.log_sizes)} chars, Job OK {self.log_job_ok}")
        if self.dashboard_states:
            parts.append(f"dashboard: {len(self.dashboard_states)} states, last non-zero "
                         f"{nonzero_counts(self.dashboard_states[-1])}")
        return "; ".join(parts)


def nonzero_counts(state: str) -> list[str]:
    """``"default: queued=2 default: started=0 ..."`` -> the non-zero entries."""
    return [f"{key}={value}" for key, value in re.findall(r"([\w-]+: \w+)=(\d+)", state) if value != "0"]


def check_cells(name: str, cells: list[dict[str, Any]], snap: dict[str, Any]) -> None:
    """Every code cell ran; errors only where the notebook expects them (cells tagged raises-exception)."""
    errors = {c["index"]: c["errors"] for c in cells if c["errors"]}
    expected = {c["index"] for c in cells if "raises-exception" in c["tags"]}
    unexpected = {i: e for i, e in errors.items() if i not in expected}
    assert not unexpected, f"{name}: error outputs in cells not tagged raises-exception: {unexpected}"
    not_run = [c["index"] for c in cells if c["source"].strip() and c["count"] is None]
    assert not not_run, f"{name}: cells {not_run} (0-based, markdown included) did not run"
    silent = sorted(expected - set(errors))
    assert not silent, f"{name}: cells {silent} are tagged raises-exception but raised nothing in the browser run"
    assert snap.get("running") == 0 and snap.get("kernel") == "idle", f"{name}: still busy: {snap}"


def check_left_running(lab: LabServer, name: str) -> None:
    """A notebook stops what it started besides the shared services (workers, second kernels)."""
    path = lab.home / "state.json"
    entries = json.loads(path.read_text()) if path.exists() else {}
    left = [key for key, entry in entries.items()
            if key not in SHARED_SERVICES and (s := Service.from_entry(key, entry)) is not None and s.alive()]
    assert not left, f"{name}: still running after its last cell: {left} (a notebook stops what it started)"


# --- the tests -----------------------------------------------------------------------------------------------


# `browser` comes first in each test's arguments: without Chromium the test is skipped before JupyterLab starts.
@pytest.mark.parametrize("name", CORE_NOTEBOOKS + AFTER_THE_TUTORIAL)
def test_core_notebook_in_the_browser(browser: Any, lab: LabServer, jupyter: LabPage, name: str) -> None:
    """Run All Cells in JupyterLab: every cell runs, widgets are live, and each lesson's live view moves."""
    source = EDITION / name
    assert source.exists(), f"{source} is missing (a notebook of the course)"
    copied = lab.root / "notebooks" / name
    assert copied.exists(), f"notebooks/{name} appeared after JupyterLab started; run the test again"
    notebook = jupyter.notebook(f"notebooks/{name}")
    watch = Watch(notebook)
    with picture_on_failure(notebook, f"browser-{Path(name).stem}"):
        began = time.monotonic()
        notebook.open()
        opened = time.monotonic()
        final = notebook.run_all(RUN_TIMEOUT, on_tick=watch)
        print(f"{name}: opened with an idle kernel in {opened - began:.1f} s, ran in {time.monotonic() - opened:.1f} s"
              + (f" (Run All clicked {notebook.run_all_clicks} times)" if notebook.run_all_clicks > 1 else ""))
        print(f"  seen: {watch.summary()}")
        cells = notebook.cells()
        check_cells(name, cells, final)

        # Widgets are live: none stuck loading, none broken, and the widget outputs did render.
        assert not watch.broken_widget, f"{name}: a widget showed 'Error displaying widget' / 'model not found'"
        assert not final.get("loadingWidget"), f"{name}: a widget still says 'Loading widget...'"
        widget_outputs = sum(c["widgets"] for c in cells)
        assert widget_outputs == 0 or watch.max_widget_views > 0, f"{name}: no widget rendered"

        if name.startswith("01_"):
            assert watch.max_widget_views > 0, f"{name}: no widget rendered"
            assert watch.form_answers, f"{name}: the Work-It form never showed 'Answered in ... s'"
            assert watch.inbox_frames, f"{name}: the inbox widget showed no message"
            assert all(f["sandbox"] == "" for f in watch.inbox_frames), f"{name}: a mail frame is not sandboxed"
            assert any(f["gif"] for f in watch.inbox_frames), f"{name}: no email in the inbox carries its GIF"
            assert any(w > 0 for w in watch.gif_widths), \
                f"{name}: the GIF inside the email did not render (naturalWidth {watch.gif_widths})"
        if name.startswith("03_"):
            if watch.form_answers:  # the same form as in 01, now with background delivery: answered at once
                seconds = [float(re.search(r"[0-9.]+", a).group(0)) for a in watch.form_answers]
                assert min(seconds) < 1, f"{name}: the form never answered in under a second: {watch.form_answers}"
            sizes = [s for s in watch.log_sizes if s]
            assert sizes, f"{name}: no worker log widget was shown"
            assert max(sizes) > sizes[0], f"{name}: the worker log never grew while the notebook ran"
            assert watch.log_job_ok, f"{name}: the worker log never said 'Job OK'"
        if name.startswith("04_"):
            states = watch.dashboard_states
            assert states, f"{name}: no dashboard widget was shown"
            assert len(states) >= 2, f"{name}: the dashboard's counts never changed while it was shown: {states}"
            assert any(nonzero_counts(s) for s in states), f"{name}: the dashboard only ever showed zeros"
            pages = notebook.rq_dashboard_texts()
            assert pages, f"{name}: no rq-dashboard page is embedded in the notebook"
            assert all("Queues" in text for text in pages), f"{name}: the embedded rq-dashboard did not load: {pages}"
        assert not jupyter.js_dialogs, f"{name}: the page opened a dialog: {jupyter.js_dialogs}"
        check_left_running(lab, name)


PAYLOAD_THOUGHT = ('Hello {marker} <script>window.__pwned=1;alert(1)</script> '
                   '<img src=x onerror="window.__pwned=2;alert(2)">')
HOSTILE_SUBJECT = '<img src=x onerror="window.__pwned=3;alert(3)"> Hostile {marker}'
HOSTILE_HTML = ('<p>Raw HTML {marker}</p><script>window.__pwned=4;alert(4)</script>'
                '<img src=x onerror="window.__pwned=5;alert(5)"><a href="javascript:window.__pwned=6">link</a>'
                '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>')


def scratch_notebook(path: Path, marker: str) -> None:
    """A notebook that mails the payloads to the catcher of the test's state folder and shows the inbox."""
    hostile = (f"from email.message import EmailMessage\n"
               f"msg = EmailMessage()\n"
               f"msg['Subject'] = {HOSTILE_SUBJECT.format(marker=marker)!r}\n"
               f"msg['From'] = 'mallory@example.com'\n"
               f"msg['To'] = 'eve@example.com'\n"
               f"msg.set_content('plain part')\n"
               f"msg.add_alternative({HOSTILE_HTML.format(marker=marker)!r}, subtype='html')\n"
               f"mailer.send(msg)")
    cells = [
        "from support import course, mailer\nfrom support.inbox_widget import show_inbox\n"
        "course.up('catcher', quiet=True);",
        f"message_id = mailer.deliver('eve@example.com', {PAYLOAD_THOUGHT.format(marker=marker)!r}, delay=0)",
        hostile,
        "inbox = show_inbox()\ninbox",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


def test_inbox_shows_hostile_mail_as_text(browser: Any, lab: LabServer, jupyter: LabPage) -> None:
    """Mail with scripts in its thought, subject and HTML runs nothing in the page or in the mail frames."""
    marker = f"xss-{secrets.token_hex(4)}"
    scratch_notebook(lab.root / "xss_check.ipynb", marker)
    page = jupyter.page
    notebook = jupyter.notebook("xss_check.ipynb")
    with picture_on_failure(notebook, "browser-xss"):
        notebook.open()
        notebook.run_all(60)
        check_cells("xss_check.ipynb", notebook.cells(), notebook.snapshot())

        def frames_with_marker() -> list[Any]:
            found = []
            for frame in notebook.srcdoc_frames():
                try:
                    if marker in frame.evaluate("() => document.body ? document.body.innerText : ''"):
                        found.append(frame)
                except Exception:  # noqa: BLE001 - a frame replaced by a re-render
                    continue
            return found

        deadline = time.monotonic() + 15
        while len(frames_with_marker()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        frames = frames_with_marker()
        assert len(frames) == 2, f"the inbox shows {len(frames)} of the 2 hostile messages"
        time.sleep(1.0)  # time for any onerror handler or nested frame to run, if one could

        assert page.evaluate("typeof window.__pwned") == "undefined", "a script ran in the notebook page"
        for frame in page.frames:
            try:
                ran = frame.evaluate("typeof window.__pwned")
            except Exception:  # noqa: BLE001 - detached
                continue
            assert ran == "undefined", f"a script ran in a frame ({frame.url})"
        assert not jupyter.js_dialogs, f"a script opened a dialog: {jupyter.js_dialogs}"

        texts = [frame.evaluate("() => document.body.innerText") for frame in frames]
        thought = next((t for t in texts if "Hello " + marker in t), "")
        assert "<script>window.__pwned=1;alert(1)</script>" in thought, f"the thought is not shown as text: {thought!r}"
        assert '<img src=x onerror="window.__pwned=2;alert(2)">' in thought
        inbox_text = page.evaluate("() => [...document.querySelectorAll('.course-inbox')].map(e => e.textContent)"
                                   ".join('\\n')")
        assert HOSTILE_SUBJECT.format(marker=marker) in inbox_text, "the hostile subject is not shown as text"
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0, \
            "markup from a mail reached the notebook page"
