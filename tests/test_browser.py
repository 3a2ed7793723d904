"""The learner's view: the notebooks run in JupyterLab in a real browser (headless Chromium), as on a JupyterHub.

nbval checks the outputs a kernel produces; this checks what a page shows. One JupyterLab (on a copy of the learner
edition, under ``/user/learner/``, with a state folder of its own) and one browser page serve every test here, and
the browser reaches nothing but Jupyter's own address (``tests/conftest.py``). The notebooks are opened one after
another, in order, as a learner works through them: each one's stored outputs are cleared, it is run with the
menu's Run > Run All Cells, then closed unsaved and its kernel shut down. While it runs, the page is read every
quarter second (live widgets change, and the notebooks' last cells may close them). Then, on the same open notebook:

- the lesson's live views did move (01's form and inbox, 03's worker log, 04's dashboard);
- the course's web pages open through Jupyter's proxy and work with the keyboard alone (01: the Work-It page;
  04: the embedded rq-dashboard with its stylesheets and scripts; 08: the export page, opened while its job holds
  at step 2, advancing its progress bar to the result);
- the worker notebook (``worker.ipynb``) runs as a learner uses it: its worker cell runs until Interrupt (■) is
  pressed; a job queued meanwhile shows in its log, and after Interrupt the cell ends with RQ's warm shutdown, and
  no worker is left registered or running;
- 02 and 03's terminal steps are typed into a JupyterLab terminal (``lab_terminal.py``) before the cell that checks
  them: 02's Redis command lines, 03's ``rq worker``, which runs the notebook's jobs and is stopped with Ctrl+C after
  the notebook's last cell; the check says Correct;
- axe-core (from the ``axe-playwright-python`` wheel) finds no serious or critical violation in the course's
  outputs, in JupyterLab's light and dark themes (violations in JupyterLab's own chrome are listed, not failed);
  pictures of 01 in both themes go to ``test-artifacts/``.

Each notebook test reports the cells it ran; the top-level conftest.py holds them to the notebooks on disk.
Needs Chromium (``make test`` says how to install it; ``make test BROWSER=0`` skips these, saying so).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_traffic import Traffic
from lab_page import ARTIFACTS, LabPage, NotebookPage
from lab_server import BASE_URL, REPO, LabServer
from lab_terminal import LabTerminal, venv_as_in_a_clone

from support.services.processes import Service

pytestmark = pytest.mark.slow  # a real browser and a JupyterLab: not in make test-fast

# The notebooks the browser runs, in the course's order, and why each other notebook is left to nbval alone.
BROWSER_NOTEBOOKS = [
    "01_slow_request.ipynb",
    "02_redis.ipynb",
    "03_jobs.ipynb",
    "04_dashboard.ipynb",
    "05_when_things_fail.ipynb",
    "06_scaling_and_scheduling.ipynb",
    "07_check_for_understanding.ipynb",
    "08_results_and_progress.ipynb",
    "09_reliability.ipynb",
    "10_operations.ipynb",
    "11_capstone.ipynb",
    "12_django_tasks.ipynb",
    "worker.ipynb",  # its worker cell runs until Interrupt is pressed: see run_worker_notebook
]
NOT_IN_BROWSER: dict[str, str] = {}  # a notebook the browser does not run, with the reason (none today)
BROWSER_CELLS = "browser_cells"  # the user property the top-level conftest.py reads
RUN_TIMEOUT = 240.0  # seconds for one notebook (01 alone waits ~15 s for its slow requests)
SHARED_SERVICES = {"redis", "catcher", "app", "dashboard"}  # what may stay up between notebooks
KEEP_SCREENSHOTS = os.environ.get("BROWSER_TEST_SCREENSHOTS") == "1"  # also keep pictures of passing runs
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
FAILING_IMPACTS = {"serious", "critical"}

# For each node axe reports: is it inside the course's own outputs (an output area or a widget view)?
OURS_JS = """(targets) => targets.map(target => {
  const node = target.length === 1 ? document.querySelector(target[0]) : null;
  return !!(node && node.closest('.jp-OutputArea-output, .jupyter-widgets, .widget-box'));
})"""


# The terminal steps (issue 24): the lines a notebook asks the learner to type in a terminal, as its lesson module
# exposes them, and the cell before which the browser test types them: the first code cell whose source has
# TERMINAL_MARKER (the check cell after the step), else the first code cell with ".check(" after the first cell that
# shows the first line to type or names TERMINAL_STEPS.
TERMINAL_MARKER = "# after the terminal step"


@dataclass(frozen=True)
class TerminalStep:
    module: str  # its TERMINAL_STEPS: list[str], one line typed each, in a terminal opened in notebooks/
    keeps_running: bool  # the first line starts a program that runs until Ctrl+C (03's worker)
    ready: str  # what the terminal shows once that program is ready ("" for a command line that is typed into)


TERMINAL_STEPS = {
    "02_": TerminalStep("support.lessons.redis_tour", keeps_running=False, ready=""),
    "03_": TerminalStep("support.lessons.terminal_worker", keeps_running=True, ready="Listening on"),
    "12_": TerminalStep("support.lessons.django_tasks", keeps_running=True, ready="Listening on"),
}


@contextmanager
def course_home(home: Path) -> Iterator[None]:
    """This process on the lab's state folder (as its kernels and terminals are), for the block."""
    saved = {name: os.environ.get(name) for name in ("COURSE_HOME", "REDIS_URL")}
    os.environ["COURSE_HOME"] = str(home)
    os.environ.pop("REDIS_URL", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def lesson_steps(module_name: str, lab: LabServer) -> list[str]:
    """The lines to type, looked up when the test runs: the module's ``terminal_steps()`` for this set-up when it has
    one (02: the command line found, the lab's state folder), else its ``TERMINAL_STEPS``."""
    module = importlib.import_module(module_name)
    steps = getattr(module, "TERMINAL_STEPS", None)
    assert isinstance(steps, list) and steps and all(isinstance(line, str) for line in steps), (
        f"{module_name}.TERMINAL_STEPS (a list of the lines a learner types) is missing: the browser test types it"
    )
    adapt = getattr(module, "terminal_steps", None)
    if callable(adapt):
        with course_home(lab.home):
            steps = adapt()
    return list(steps)


def terminal_cell(cells: list[dict[str, Any]], shown: str) -> int:
    """The index (0-based, markdown included) of the cell before which the terminal step is typed (see
    TERMINAL_MARKER); `shown` is the first line the notebook shows to type."""
    code = [c for c in cells if c["type"] == "code"]
    marked = [c["index"] for c in code if TERMINAL_MARKER in c["source"]]
    if marked:
        return marked[0]
    showing = [c["index"] for c in cells if shown in c["source"]] or [
        c["index"] for c in cells if "TERMINAL_STEPS" in c["source"]
    ]
    assert showing, f"no cell carries {TERMINAL_MARKER!r}, and none shows the line to type ({shown!r})"
    after = [c["index"] for c in code if c["index"] > showing[0] and ".check(" in c["source"]]
    assert after, f"no cell carries {TERMINAL_MARKER!r}, and no check follows the cell that shows {shown!r}"
    return after[0]


def at_prompt(line: str) -> Any:
    """A predicate on a terminal's text: after the last `line` typed, a command line's prompt (``...>``) is back."""

    def back(text: str) -> bool:
        after = text.rsplit(line, 1)[-1].splitlines()[1:]
        return any(row.rstrip().endswith(">") for row in after)

    return back


def type_steps(terminal: LabTerminal, steps: list[str], step: TerminalStep | None = None) -> None:
    """Type `steps` as a learner does. A program that keeps running (03's worker): its line, then wait until it says
    it is ready. A command line (02): its first line opens it; each next line is typed once its prompt is back; the
    last leaves it, and the shell's prompt comes back."""
    if step is not None and step.keeps_running:
        terminal.type_lines(steps)
        terminal.wait_for(step.ready, 60, f"{step.ready!r} from {steps[0]!r}")
        return
    terminal.type_line(steps[0])
    terminal.wait_for(at_prompt(steps[0]), 60, f"the prompt of {steps[0]!r}")
    for line in steps[1:-1]:
        terminal.type_line(line)
        terminal.wait_for(at_prompt(line), 30, f"the prompt after {line!r}")
    terminal.type_line(steps[-1])
    terminal.wait_quiet(1.0)  # keys typed while the command line ends are read by it (and lost): wait, then ask
    terminal.run(":", timeout=30)  # the shell answers again: the command line has ended


def rq_workers_under(lab: LabServer) -> list[str]:
    """``rq worker`` processes the lab's terminals (or kernels) still run."""
    assert lab.proc is not None
    found = []
    for child in psutil.Process(lab.proc.pid).children(recursive=True):
        try:
            args = child.cmdline()
            if child.status() != psutil.STATUS_ZOMBIE and any(
                Path(a).name == "rq" and i + 1 < len(args) and args[i + 1] == "worker" for i, a in enumerate(args)
            ):
                found.append(f"pid {child.pid}: {' '.join(args)[:120]}")
        except psutil.Error:
            continue
    return found


def run_with_terminal_step(
    jupyter: LabPage, lab: LabServer, notebook: NotebookPage, name: str, watch: Any
) -> tuple[dict[str, Any], str]:
    """Run the notebook up to the cell that checks its terminal step, type the step into a JupyterLab terminal
    opened in notebooks/, run the rest; the check must say Correct. A program that keeps running (03's worker) is
    stopped with Ctrl+C after the notebook's last cell, and no ``rq worker`` may be left. Returns the last snapshot
    and the terminal's text (before Ctrl+C)."""
    step = TERMINAL_STEPS[name[:3]]
    shown = importlib.import_module(step.module).TERMINAL_STEPS[0]
    index = terminal_cell(notebook.all_cells(), shown)
    notebook.run_before(index, RUN_TIMEOUT, on_tick=watch)
    venv_as_in_a_clone(lab.root)
    steps = lesson_steps(step.module, lab)
    terminal = LabTerminal(jupyter.page, lab).open("notebooks")
    try:
        type_steps(terminal, steps, step)
        final = notebook.run_rest(RUN_TIMEOUT, on_tick=watch)
        checked = " ".join(notebook.output_text(index).split())
        print(f"{name}: typed {len(steps)} line(s) in a terminal before cell {index}; the check: {checked[:160]!r}")
        assert "Correct" in checked and "Incorrect" not in checked and "Not attempted" not in checked, (
            f"{name}: the check after the terminal step did not pass: {checked!r}\nthe terminal:\n{terminal.text()}"
        )
        text = terminal.text()
        if step.keeps_running:
            for attempt in range(3):  # a warm shutdown: the worker finishes its job, then the shell's prompt is back
                terminal.interrupt(keyboard=attempt == 0)  # again, into the session, if the page lost the key
                try:
                    terminal.wait_for(lambda now: now != text, 15, "the worker's answer to Ctrl+C")
                    break
                except AssertionError:
                    if attempt == 2:
                        raise
            terminal.wait_quiet(1.0, timeout=60)
            terminal.run(":", timeout=60)
            left = rq_workers_under(lab)
            assert not left, f"{name}: an rq worker still runs after Ctrl+C in its terminal: {left}"
        return final, text
    finally:
        terminal.close()


# --- the worker notebook: a cell that runs until Interrupt -----------------------------------------------------

WORKER_CELL = "run_in_notebook("  # the worker notebook's cell that runs a worker in its kernel
WORKER_READY = "*** Listening on"  # RQ's line once the worker waits for jobs
WARM_SHUTDOWN = "warm shut down requested"  # RQ's line when SIGINT (Interrupt) reaches an idle or busy worker
WORKER_STARTED = re.compile(r"Worker (notebook-[0-9a-f-]+): started with PID (\d+)")


def workers_on_lab_redis(lab: LabServer) -> list[str]:
    """The names of the workers registered in the lab's Redis (rq's ``Worker.all``)."""
    from rq import Worker

    from support.services import redis_server

    with course_home(lab.home):
        return sorted(w.name for w in Worker.all(connection=redis_server.connect()))


def live_children(pid: int) -> list[str]:
    """The processes still running under `pid` (a forking worker's work horse), zombies left out."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.append(f"pid {child.pid}: {' '.join(child.cmdline())[:120]}")
        except psutil.Error:
            continue
    return found


def run_worker_notebook(lab: LabServer, notebook: NotebookPage, name: str, watch: Any) -> tuple[dict[str, Any], str]:
    """The worker notebook, as a learner uses it: run the cells above its worker cell, run the rest; once the worker
    cell shows RQ's "Listening on", queue a job on the lab's Redis (as another notebook would) and see its log line
    appear in the cell; the worker is still running well past the idle limit the course's tests give it
    (``COURSE_AUTORUN``, absent from the kernel's environment here); press the toolbar's Interrupt (■). The cell
    must end with RQ's warm shutdown, the kernel idle, the worker gone from rq's list of workers (its death recorded)
    and no work horse left.
    Returns the last snapshot and the worker cell's text."""
    from support import demo_jobs
    from support.rq_helpers import queues, rq_internals
    from support.rq_helpers.workers import AUTORUN_IDLE_SECONDS
    from support.services import redis_server

    index = next(c["index"] for c in notebook.all_cells() if c["type"] == "code" and WORKER_CELL in c["source"])
    notebook.run_before(index, RUN_TIMEOUT, on_tick=watch)
    notebook.start_rest()
    shown = notebook.wait_for_output(index, WORKER_READY, 60, on_tick=watch)
    listening = time.monotonic()
    started = WORKER_STARTED.search(shown)
    assert started, f"{name}: the worker's log names no worker and PID:\n{shown}"
    rq_name, pid = started.group(1), int(started.group(2))
    kernel = psutil.Process(pid)  # run_in_notebook runs the worker in the kernel's own process
    assert "COURSE_AUTORUN" not in kernel.environ(), f"{name}: the kernel has COURSE_AUTORUN: its worker stops idle"
    assert rq_name in workers_on_lab_redis(lab), f"{name}: {rq_name} is not registered in the lab's Redis"

    with course_home(lab.home):
        job = queues.queue("default", redis_server.connect()).enqueue(demo_jobs.noop)
    shown = notebook.wait_for_output(
        index, lambda text: any("Job OK" in line and job.id in line for line in text.splitlines()), 60, on_tick=watch
    )
    with course_home(lab.home):
        assert job.get_status(refresh=True) == "finished", f"{name}: the job is {job.get_status()}"

    still = AUTORUN_IDLE_SECONDS + 1 - (time.monotonic() - listening)  # past the idle limit of the tests' runs
    if still > 0:
        notebook.page.wait_for_timeout(still * 1000)
    snap = notebook.snapshot()
    shown = notebook.output_text(index)
    assert snap.get("modelRunning") == 1 and "quitting" not in shown, (
        f"{name}: the worker stopped by itself before Interrupt was pressed:\n{shown}"
    )

    status = notebook.interrupt()
    assert status == 204, f"{name}: Jupyter answered the Interrupt with HTTP {status}"
    final = notebook.wait_done(60, on_tick=watch)
    shown = notebook.output_text(index)
    after = shown.split(WARM_SHUTDOWN, 1)
    assert len(after) == 2, f"{name}: the worker cell shows no {WARM_SHUTDOWN!r} after Interrupt:\n{shown}"
    assert f"unsubscribing from channel rq:pubsub:{rq_name}" in after[1], (
        f"{name}: the worker did not finish its warm shutdown:\n{shown}"
    )
    assert "cold shut down" not in shown, f"{name}: the worker had a cold shutdown:\n{shown}"
    assert rq_name not in workers_on_lab_redis(lab), f"{name}: {rq_name} is still registered after Interrupt"
    with course_home(lab.home):  # RQ keeps a stopped worker's hash for 60 s, with the time of its death
        death = redis_server.connect().hget(rq_internals.worker_key(rq_name), "death")
    assert death, f"{name}: {rq_name} did not register its death in Redis after Interrupt"
    assert kernel.is_running(), f"{name}: the kernel went away with its worker"
    left = live_children(pid) + rq_workers_under(lab)
    assert not left, f"{name}: worker processes still run after Interrupt: {left}"
    print(
        f"{name}: {rq_name} listened, ran job {job.id}, and stopped on Interrupt (warm shutdown) "
        f"{time.monotonic() - listening:.1f} s after it listened"
    )
    return final, shown


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
            parts.append(
                f"form: {self.form_answers[0]!r}"
                + (f" (+{len(self.form_answers) - 1})" if len(self.form_answers) > 1 else "")
            )
        if self.inbox_frames:
            parts.append(f"inbox: {len(self.inbox_frames)} mail frames, GIF widths {self.gif_widths}")
        if self.log_sizes:
            parts.append(f"worker log: {min(self.log_sizes)} -> {max(self.log_sizes)} chars, Job OK {self.log_job_ok}")
        if self.dashboard_states:
            parts.append(
                f"dashboard: {len(self.dashboard_states)} states, last non-zero "
                f"{nonzero_counts(self.dashboard_states[-1])}"
            )
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
    left = [
        key
        for key, entry in entries.items()
        if key not in SHARED_SERVICES and (s := Service.from_entry(key, entry)) is not None and s.alive()
    ]
    assert not left, f"{name}: still running after its last cell: {left} (a notebook stops what it started)"


@contextmanager
def picture_on_failure(notebook: NotebookPage, name: str) -> Iterator[None]:
    """On a failure: a picture of the whole notebook, the services' logs, the last looks and console errors."""
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


# --- axe and the keyboard --------------------------------------------------------------------------------------


def set_theme(page: Any, theme: str, timeout: float = 30.0) -> None:
    """Switch JupyterLab's theme as Settings > Theme does, and wait until the page shows it."""
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    page.wait_for_function(
        "(theme) => document.body.dataset.jpThemeName === theme", arg=theme, timeout=timeout * 1000, polling=100
    )
    page.wait_for_timeout(1000)  # the theme's stylesheet is applied; let the page restyle before anyone reads colours


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core on the whole page (frames skipped: mail frames are sandboxed); each violation's nodes get
    ``ours``: whether the element is inside the course's outputs."""
    page.evaluate(Axe().axe_script)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations'], iframes: false})")
    for violation in results["violations"]:
        flags = page.evaluate(OURS_JS, [node["target"] for node in violation["nodes"]])
        for node, ours in zip(violation["nodes"], flags):
            node["ours"] = ours
    return results["violations"]


def serious_on_its_own(page: Any) -> list[str]:
    """axe on a page of its own (a course web page): its serious or critical violations."""
    page.evaluate(Axe().axe_script)
    violations = page.evaluate("() => axe.run(document)")["violations"]
    return [f"{v['id']} ({v['impact']})" for v in violations if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]], ours: bool) -> list[str]:
    """One line per violation and side (the course's outputs, or JupyterLab's chrome), with examples."""
    lines = []
    for v in violations:
        nodes = [n for n in v["nodes"] if n["ours"] == ours]
        if nodes:
            example = nodes[0]["html"].replace("\n", " ")[:160]
            summary = (nodes[0].get("failureSummary") or "").replace("\n", " ")[:200]
            lines.append(f"{v['id']} ({v['impact']}): {len(nodes)} element(s), e.g. {example} -- {summary}")
    return lines


def axe_in_both_themes(jupyter: LabPage, notebook: NotebookPage, name: str) -> list[str]:
    """axe in the light and the dark theme (and pictures of 01 in each); the serious or critical violations in the
    course's outputs. The page goes back to the light theme."""
    failures = []
    try:
        for label, theme in THEMES.items():
            set_theme(jupyter.page, theme)
            violations = run_axe(jupyter.page)
            ours, chrome = describe(violations, ours=True), describe(violations, ours=False)
            print(
                f"{name}, {label} theme: {len(ours)} rule(s) violated in the course's outputs, "
                f"{len(chrome)} in JupyterLab's chrome"
            )
            print(
                "".join(f"  OURS   {line}\n" for line in ours) + "".join(f"  CHROME {line}\n" for line in chrome),
                end="",
            )
            if name.startswith("01_"):
                print(f"Screenshot: {notebook.screenshot(f'browser-01-{label}')}")
            serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
            failures += [f"{label}: {line}" for line in describe(serious, ours=True)]
    finally:
        set_theme(jupyter.page, THEMES["light"])
    return failures


def press_tab_until(page: Any, script: str, limit: int = 400) -> int:
    """Press Tab until `script` (a JS predicate on document.activeElement) holds; returns the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!(e && ({script})); }}"):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached the element ({script})")


# --- the course's web pages, through Jupyter's proxy --------------------------------------------------------------


def open_link(jupyter: LabPage, lab: LabServer, text: str) -> Any:
    """Click the notebook's link whose text has `text`; the page it opens, checked to be behind Jupyter's proxy."""
    link = jupyter.page.locator("a", has_text=text).first
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{BASE_URL}proxy/127.0.0.1:"), f"the link {text!r} does not go through Jupyter: {href}"
    with jupyter.page.context.expect_page() as opened:
        link.click()
    page = opened.value
    page.wait_for_load_state()
    assert page.url.startswith(lab.url("proxy/127.0.0.1:")), page.url
    return page


def work_it_by_keyboard(jupyter: LabPage, lab: LabServer) -> None:
    """01's *Open the Work-It app* link, then the form with the keyboard alone: Tab to each field, type, Tab to the
    button, Enter; axe on the answer; then Enter in a filled-in email field sends the form too."""
    href = jupyter.page.locator(".course-links a", has_text="Work-It").first.get_attribute("href") or ""
    assert "course_token=" in href, f"the Work-It link carries no token: {href}"
    page = open_link(jupyter, lab, "Work-It")
    try:
        assert "course_token" not in page.url, "the token stays in the address bar"
        form_url = page.url
        press_tab_until(page, "e.id === 'email'")
        page.keyboard.type("ada@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("coffee, by keyboard, through Jupyter")
        press_tab_until(page, "e.tagName === 'BUTTON'", limit=3)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Thanks! Check your email", timeout=60_000)  # the inline mailer takes its 5 s
        assert page.url.startswith(lab.url("proxy/127.0.0.1:")), page.url
        assert not serious_on_its_own(page), serious_on_its_own(page)

        page.goto(form_url)  # the browser's implicit submission: Enter in the email field
        press_tab_until(page, "e.id === 'thought'")
        page.keyboard.type("tea")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type("bob@example.com")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Thanks! Check your email", timeout=60_000)
    finally:
        page.close()


def dashboard_frame_is_styled(jupyter: LabPage, lab: LabServer) -> None:
    """04's embedded rq-dashboard came through Jupyter's proxy: it lists the queues, its stylesheet applies and its
    scripts run; no frame shows an error page."""
    frames = [f for f in jupyter.page.frames if "/proxy/127.0.0.1:" in f.url]
    assert frames, f"no page through Jupyter's proxy in a frame: {[f.url for f in jupyter.page.frames]}"
    frame = frames[0]
    assert frame.url.startswith(lab.url("proxy/127.0.0.1:")), frame.url
    frame.wait_for_function("() => document.querySelectorAll('#queues tbody tr').length > 0", timeout=30_000)
    assert "Queues" in frame.evaluate("() => document.body.innerText")
    styled = frame.evaluate("() => getComputedStyle(document.querySelector('.navbar')).display")
    assert styled == "flex", f"bootstrap's stylesheet did not apply (navbar display {styled!r})"
    assert frame.evaluate("() => typeof window.jQuery") == "function", "its scripts did not load"
    errors = []
    for other in jupyter.page.frames[1:]:
        try:
            text = other.evaluate("() => document.body ? document.body.innerText : ''")
        except Exception:  # noqa: BLE001 - navigating or detached
            continue
        if any(sign in text for sign in ("403", "404: Not Found", "Proxy Error", "HTTP 599")):
            errors.append(f"{other.url}: {text[:200]!r}")
    assert not errors, errors


def export_page_at_step_2(jupyter: LabPage, lab: LabServer) -> Any:
    """08's *Open the export page* link, opened while the export's job holds at step 2 of 4: the bar shows 50 %."""
    page = open_link(jupyter, lab, "Open the export page")
    assert "/exports/" in page.url, page.url
    page.wait_for_function(
        "() => document.querySelector('#bar').getAttribute('aria-valuenow') === '50'", timeout=60_000
    )
    assert page.get_by_label("Progress").count() == 1  # the bar has a name
    return page


def export_page_finished(page: Any) -> None:
    """The export page, after the notebook let the job go: 100 %, the result shown as text, reached by keyboard."""
    try:
        page.wait_for_function("() => document.body.dataset.done === 'finished'", timeout=60_000)
        assert page.locator("progress#bar").get_attribute("aria-valuenow") == "100"
        assert page.inner_text("#result").splitlines()[-1] == "3. <b>Bold</b> ideas"  # shown as text
        asked = int(page.inner_text("#polls").rsplit(" ", 1)[-1])
        assert asked >= 2, f"the page asked for the status {asked} times"
        assert not serious_on_its_own(page), serious_on_its_own(page)
        focused = []
        for _ in range(2):  # the result, then the link: both reached with the keyboard alone
            page.keyboard.press("Tab")
            focused.append(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))
        assert focused == ["result", "A"], focused
    finally:
        page.close()


# --- the tests -----------------------------------------------------------------------------------------------


def test_the_browser_runs_every_notebook_it_does_not_name_a_reason_for() -> None:
    on_disk = {path.name for path in (REPO / "notebooks").glob("*.ipynb")}
    assert not set(BROWSER_NOTEBOOKS) & set(NOT_IN_BROWSER), "a notebook is both run and left out"
    assert set(BROWSER_NOTEBOOKS) | set(NOT_IN_BROWSER) == on_disk, (
        "each notebook is run in the browser or named in NOT_IN_BROWSER with the reason"
    )


@pytest.mark.parametrize("name", BROWSER_NOTEBOOKS)
def test_notebook_in_the_browser(
    chromium: Any, lab: LabServer, jupyter: LabPage, traffic: Traffic, record_property: Any, name: str
) -> None:
    """Run All Cells in JupyterLab: every cell runs, widgets are live, each lesson's live view moves, its web pages
    work through Jupyter, and axe finds nothing serious in either theme."""
    copied = lab.root / "notebooks" / name
    assert copied.exists(), f"notebooks/{name} is missing from the copy JupyterLab serves"
    notebook = jupyter.notebook(f"notebooks/{name}")
    watch = Watch(notebook)
    with picture_on_failure(notebook, f"browser-{Path(name).stem}"):
        began = time.monotonic()
        terminal_text = None  # what the terminal showed, for a notebook with a terminal step
        notebook.open()
        opened = time.monotonic()
        if name.startswith("08_"):  # the export page is opened while its job holds, then the rest runs
            notebook.run_until('results.start_export("Coffee first', RUN_TIMEOUT, on_tick=watch)
            export_page = export_page_at_step_2(jupyter, lab)
            final = notebook.run_rest(RUN_TIMEOUT, on_tick=watch)
            export_page_finished(export_page)
        elif name[:3] in TERMINAL_STEPS:  # the learner types a step in a terminal before its check cell
            final, terminal_text = run_with_terminal_step(jupyter, lab, notebook, name, watch)
        elif name == "worker.ipynb":  # its worker cell runs until the learner presses Interrupt
            final, _ = run_worker_notebook(lab, notebook, name, watch)
        else:
            final = notebook.run_all(RUN_TIMEOUT, on_tick=watch)
        print(
            f"{name}: opened with an idle kernel in {opened - began:.1f} s, ran in {time.monotonic() - opened:.1f} s"
            + (f" (Run All clicked {notebook.run_all_clicks} times)" if notebook.run_all_clicks > 1 else "")
        )
        print(f"  seen: {watch.summary()}")
        cells = notebook.cells()
        check_cells(name, cells, final)
        record_property(BROWSER_CELLS, json.dumps({name: notebook.ran_cells()}))

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
            assert any(w > 0 for w in watch.gif_widths), (
                f"{name}: the GIF inside the email did not render (naturalWidth {watch.gif_widths})"
            )
            work_it_by_keyboard(jupyter, lab)
        if name.startswith("03_"):
            if watch.form_answers:  # the same form as in 01, now with background delivery: answered at once
                seconds = [float(re.search(r"[0-9.]+", a).group(0)) for a in watch.form_answers]
                assert min(seconds) < 1, f"{name}: the form never answered in under a second: {watch.form_answers}"
            if terminal_text is not None:  # the learner's worker logs in its terminal
                assert "Job OK" in terminal_text.split("Listening on", 1)[-1], (
                    f"{name}: the worker in the terminal never said 'Job OK':\n{terminal_text}"
                )
            else:  # the worker in a second kernel logs into the notebook's log widget
                sizes = [s for s in watch.log_sizes if s]
                assert sizes, f"{name}: no worker log widget was shown"
                assert max(sizes) > sizes[0], f"{name}: the worker log never grew while the notebook ran"
                assert watch.log_job_ok, f"{name}: the worker log never said 'Job OK'"
        if name.startswith("04_"):
            states = watch.dashboard_states
            assert states, f"{name}: no dashboard widget was shown"
            assert len(states) >= 2, f"{name}: the dashboard's counts never changed while it was shown: {states}"
            assert any(nonzero_counts(s) for s in states), f"{name}: the dashboard only ever showed zeros"
            dashboard_frame_is_styled(jupyter, lab)

        failures = axe_in_both_themes(jupyter, notebook, name)
        assert not failures, f"{name}: serious or critical axe violations in the course's outputs:\n  " + "\n  ".join(
            failures
        )
        assert not jupyter.js_dialogs, f"{name}: the page opened a dialog: {jupyter.js_dialogs}"
        assert not traffic.failed, f"{name}: course pages failed through Jupyter's proxy: {traffic.failed}"
        assert not traffic.direct(), (
            f"{name}: the page tried to reach a service directly: {traffic.direct()}\n" + "\n".join(traffic.log)
        )
        check_left_running(lab, name)
