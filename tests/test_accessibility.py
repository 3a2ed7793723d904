"""Accessibility in a real browser: axe-core (from the ``axe-playwright-python`` wheel) on rendered notebooks in
JupyterLab's light and dark themes, and the course's controls used with the keyboard alone.

One JupyterLab (on a copy of the instructor edition, a state folder of its own, every cell rendered: no windowing)
serves every test here, in one headless Chromium page, driven as in ``tests/test_browser.py``. Each notebook is run
with Run All Cells; then axe checks the page in each theme. A serious or critical violation whose element is inside
the course's own outputs (an output area, a widget view) fails the test; violations in JupyterLab's own chrome are
printed, not failed (they are JupyterLab's to fix). Pictures of 01 in both themes go to ``test-artifacts/``.

Needs Debian's ``chromium``; skipped, saying so, only when it is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from axe_playwright_python.sync_playwright import Axe
from test_browser import browser, check_cells, jupyter, lab_page, picture_on_failure  # noqa: F401 - fixtures

from browser import REPO, LabPage, LabServer, NotebookPage, copy_notebooks, serving

NOTEBOOKS = ["01_slow_request.ipynb", "03_jobs.ipynb", "04_dashboard.ipynb", "07_check_for_understanding.ipynb",
             "08_results_and_progress.ipynb", "09_production_patterns.ipynb"]  # 08, 09: the progress bar, live metrics
EDITION = REPO / "instructor"
RUN_TIMEOUT = 240.0
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
FAILING_IMPACTS = {"serious", "critical"}
# Every cell in the page (JupyterLab 4 renders only the cells in view by default: axe would miss the others).
SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}

# For each node axe reports: is it inside the course's own outputs (an output area or a widget view)?
OURS_JS = """(targets) => targets.map(target => {
  const node = target.length === 1 ? document.querySelector(target[0]) : null;
  return !!(node && node.closest('.jp-OutputArea-output, .jupyter-widgets, .widget-box'));
})"""


# --- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on a copy of the instructor edition, rendering every cell; kernels use a state folder of its own."""
    scratch = tmp_path_factory.mktemp("a11y")
    root = scratch / "root"
    root.mkdir()
    copy_notebooks(EDITION, root / "instructor")
    for name, value in SETTINGS.items():
        path = scratch / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    with serving(LabServer(root=root, home=scratch / "course", scratch=scratch)) as server:
        yield server


# --- axe -----------------------------------------------------------------------------------------------------------


def set_theme(page: Any, theme: str, timeout: float = 30.0) -> None:
    """Switch JupyterLab's theme as Settings > Theme does, and wait until the page shows it."""
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme)
    page.wait_for_function("(theme) => document.body.dataset.jpThemeName === theme", arg=theme,
                           timeout=timeout * 1000, polling=100)
    time.sleep(1.0)  # the theme's stylesheet is applied; let the page restyle before anyone reads colours


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


def open_and_run(jupyter: LabPage, path: str) -> NotebookPage:
    notebook = jupyter.notebook(path)
    notebook.open()
    notebook.run_all(RUN_TIMEOUT)
    check_cells(path, notebook.cells(), notebook.snapshot())
    return notebook


# --- the tests -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_axe_finds_nothing_serious_in_the_course_outputs(browser: Any, lab: LabServer, jupyter: LabPage,
                                                          name: str) -> None:
    """Run the notebook, then axe in the light and the dark theme: no serious or critical violation in our outputs."""
    notebook = jupyter.notebook(f"instructor/{name}")
    failures = []
    with picture_on_failure(notebook, f"a11y-{Path(name).stem}"):
        open_and_run(jupyter, f"instructor/{name}")
        try:
            for label, theme in THEMES.items():
                set_theme(jupyter.page, theme)
                violations = run_axe(jupyter.page)
                ours = describe(violations, ours=True)
                chrome = describe(violations, ours=False)
                print(f"{name}, {label} theme: {len(ours)} rule(s) violated in the course's outputs, "
                      f"{len(chrome)} in JupyterLab's chrome")
                for line in ours:
                    print(f"  OURS   {line}")
                for line in chrome:
                    print(f"  CHROME {line}")
                if name.startswith("01_"):
                    print(f"Screenshot: {notebook.screenshot(f'a11y-01-{label}')}")
                serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
                failures += [f"{label}: {line}" for line in describe(serious, ours=True)]
        finally:
            set_theme(jupyter.page, THEMES["light"])
        assert not failures, f"{name}: serious or critical axe violations in the course's outputs:\n  " + \
            "\n  ".join(failures)


def press_tab_until(page: Any, script: str, limit: int = 400) -> int:
    """Press Tab until `script` (a JS predicate on document.activeElement) holds; returns the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!(e && ({script})); }}"):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached the element ({script})")


def test_the_work_it_page_works_with_the_keyboard_alone(browser: Any, lab: LabServer) -> None:
    """On the Work-It page: Tab to each field, type, Tab to the button, Enter; then Enter in the email field."""
    env = lab.env()
    done = subprocess.run([sys.executable, "-c", "from support.services import access, app; "
                           "print(access.with_token(app.start(delivery='inline', delay=0).url))"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        press_tab_until(page, "e.id === 'email'")
        page.keyboard.type("ada@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("coffee, by keyboard")
        press_tab_until(page, "e.tagName === 'BUTTON'", limit=3)
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Thanks! Check your email", timeout=30_000)
        violations = (page.evaluate(Axe().axe_script), page.evaluate("() => axe.run(document)"))[1]["violations"]
        assert not [v["id"] for v in violations if v["impact"] in FAILING_IMPACTS], violations

        page.goto(url)  # Enter in a filled-in email field sends the form too (the browser's implicit submission)
        press_tab_until(page, "e.id === 'thought'")
        page.keyboard.type("tea")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type("bob@example.com")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Thanks! Check your email", timeout=30_000)
    finally:
        context.close()


DASHBOARD_NOTEBOOK = [
    "from support import course, dashboard, queues, workers\n"
    "from support.services import processes\n"
    "course.up('redis', quiet=True)",
    "job = queues.queue('default').enqueue('math.sqrt', -1)  # fails: a math domain error\n"
    "service = workers.start_worker(burst=True, simple=True, with_scheduler=False)\n"
    "print('worker done:', processes.wait_until(lambda: not service.alive(), 30, 0.05))",
    "board = dashboard.show_dashboard()\nboard",
]


def test_a_failed_job_is_requeued_with_the_keyboard_alone(browser: Any, lab: LabServer, jupyter: LabPage) -> None:
    """The dashboard widget (as in 04 and 05) with one failed job: Tab to its Requeue button, whose name says which
    job, and press Enter; the job is queued again. Then the form widget (as in 01): Tab, type, Enter."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in DASHBOARD_NOTEBOOK]
    nb.cells.append(nbformat.v4.new_code_cell("course.up('app', delay=0, quiet=True)\n"
                                              "from support.form_widget import WorkItForm\nform = WorkItForm()\nform"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, lab.root / "keyboard_check.ipynb")
    page = jupyter.page
    notebook = jupyter.notebook("keyboard_check.ipynb")
    with picture_on_failure(notebook, "a11y-keyboard"):
        open_and_run(jupyter, "keyboard_check.ipynb")
        page.wait_for_function("() => [...document.querySelectorAll('.course-dashboard button')]"
                               ".some(b => /^Requeue [0-9a-f]{8}$/.test(b.textContent.trim()))", timeout=30_000)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # start from the page
        presses = press_tab_until(page, "e.tagName === 'BUTTON' && e.closest('.course-dashboard') && "
                                        "/^Requeue [0-9a-f]{8}$/.test(e.textContent.trim())")
        name = page.evaluate("() => document.activeElement.textContent.trim()")
        page.keyboard.press("Enter")
        page.wait_for_function("() => /Requeued job [0-9a-f]{8}/.test("
                               "document.querySelector('.course-dashboard').textContent)", timeout=30_000)
        print(f"dashboard: {presses} presses of Tab reached the button {name!r}; Enter requeued the job")

        presses = press_tab_until(page, "e.tagName === 'INPUT' && e.closest('.course-form')")
        page.keyboard.type("ada@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("keyboard only")
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")  # Enter in the Email field sends the form
        page.wait_for_function("() => /Answered in [0-9.]+ s/.test(document.querySelector('.course-form')"
                               ".textContent)", timeout=60_000)
        print(f"form widget: {presses} presses of Tab reached Email; Enter sent the form")


def test_a_work_it_mail_passes_axe_on_its_own(browser: Any) -> None:
    """The mail as its frame shows it (axe skips the inbox's sandboxed frames): no serious or critical violation,
    and its GIF's alt text says what the GIF shows."""
    import base64

    from support.workit import mailer

    gif = mailer.pick_gif("coffee")
    document = mailer._html_body("I could really use a coffee", gif, "gif.1")
    document = document.replace("cid:gif.1", "data:image/gif;base64," + base64.b64encode(gif.read_bytes()).decode())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(document)
        assert page.evaluate("() => document.images[0].alt") == "An animated GIF about coffee"
        page.evaluate(Axe().axe_script)
        violations = page.evaluate("() => axe.run(document)")["violations"]
        print("mail: " + (", ".join(f"{v['id']} ({v['impact']})" for v in violations) or "no axe violations"))
        assert not [v for v in violations if v["impact"] in FAILING_IMPACTS], violations
    finally:
        context.close()
