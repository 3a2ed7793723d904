"""The course on a shared JupyterHub, as a learner's browser sees it: only Jupyter's own address reaches the browser.

A real JupyterLab serves the learner edition under the base_url ``/user/learner/`` (JupyterHub's layout), with
jupyter-server-proxy; headless Chromium loads it, and every request to any other origin (the services' own
127.0.0.1 ports among them) is blocked, as it would be from a learner's laptop. Notebook 01's link to Work-It opens
the form through Jupyter and a submission through it is answered; notebook 04's embedded rq-dashboard shows the
queues with its stylesheets and scripts loaded through the proxy; no frame shows an error page; notebook 08's export
page, opened through Jupyter, advances its progress bar to the result.

Needs Debian's ``chromium``; skipped, saying so, only when it is missing.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import CHROMIUM, CHROMIUM_ARGS, NOT_INSTALLED, REPO, LabPage, LabServer, NotebookPage, copy_notebooks, serving

BASE = "/user/learner/"
EDITION = REPO / "notebooks"


class Traffic:
    """What the browser asked for: requests blocked for leaving Jupyter's origin, and failed course pages."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.blocked: list[str] = []
        self.failed: list[str] = []  # a response >= 400 from a course service (through the proxy)
        self.log: list[str] = []
        self.t0 = time.monotonic()

    def route(self, route: Any) -> None:
        url = route.request.url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def response(self, response: Any) -> None:
        if "/proxy/" in response.url or "/api/kernels" in response.url:
            self.log.append(f"{time.monotonic() - self.t0:6.1f} {response.status} {response.url[-80:]}")
        if "/proxy/" in response.url and response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Any, Traffic]]:
    if not Path(CHROMIUM).exists():
        pytest.skip(NOT_INSTALLED)
    from playwright.sync_api import sync_playwright

    scratch = tmp_path_factory.mktemp("hub")
    root = scratch / "root"
    root.mkdir()
    copy_notebooks(EDITION, root / "notebooks")
    with serving(LabServer(root=root, home=scratch / "course", scratch=scratch, base_url=BASE)) as lab, \
            sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        traffic = Traffic(f"http://127.0.0.1:{lab.port}")
        context.route("**/*", traffic.route)
        context.on("response", traffic.response)
        try:
            yield lab, context, traffic
        finally:
            context.close()
            chromium.close()


RUN_CELL_JS = """([path, marker]) => {
  const w = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path);
  const index = w.content.widgets.findIndex(c => c.model.type === 'code'
                                             && c.model.sharedModel.getSource().includes(marker));
  w.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-all-above');  // the cells it needs, in the kernel's order
  return window.jupyterapp.commands.execute('notebook:run-cell');
}"""


@pytest.fixture
def jupyter(setup: tuple[LabServer, Any, Traffic]) -> Iterator[LabPage]:
    """A new JupyterLab tab; afterwards its notebooks are closed and their kernels shut down, also when a test failed
    (the next test starts from a lab with nothing open)."""
    lab, context, _ = setup
    page = LabPage(context.new_page(), lab).load()
    try:
        yield page
    finally:
        page.close_documents()
        lab.shutdown_kernels()


def run_up_to(jupyter: LabPage, path: str, marker: str) -> NotebookPage:
    """Open the notebook at `path` and run its cells up to and with the first code cell whose source has `marker`."""
    notebook = jupyter.notebook(path)
    notebook.open()
    jupyter.page.evaluate(RUN_CELL_JS, [path, marker])
    return notebook


def _error_pages(page: Any) -> list[str]:
    """Frames in the page (not JupyterLab itself) that show an error (403, 404, a proxy error) instead of a page."""
    found = []
    for frame in page.frames:
        if frame == page.main_frame:
            continue
        try:
            text = frame.evaluate("() => document.body ? document.body.innerText : ''")
        except Exception:  # noqa: BLE001 - navigating or detached
            continue
        if any(sign in text for sign in ("403", "404: Not Found", "Not Found", "Proxy Error", "HTTP 599")):
            found.append(f"{frame.url}: {text[:200]!r}")
    return found


def test_work_it_opens_and_answers_through_jupyter(setup: tuple[LabServer, Any, Traffic], jupyter: LabPage) -> None:
    lab, context, traffic = setup
    run_up_to(jupyter, "notebooks/01_slow_request.ipynb", "course.up(")
    link = jupyter.page.locator(".course-links a", has_text="Work-It").first
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{BASE}proxy/127.0.0.1:") and "course_token=" in href, href

    with context.expect_page() as opened:
        link.click()
    app_page = opened.value
    app_page.wait_for_load_state()
    assert app_page.url.startswith(lab.url("proxy/127.0.0.1:")), app_page.url
    assert "course_token" not in app_page.url, "the token stays in the address bar"
    app_page.fill("#email", "ada@example.com")
    app_page.fill("#thought", "on a shared hub")
    app_page.click("button[type=submit]")
    app_page.wait_for_selector("h2", timeout=60_000)  # the inline mailer takes its seconds
    assert "Thanks!" in app_page.inner_text("h2"), app_page.content()[:500]
    assert app_page.url.startswith(lab.url("proxy/127.0.0.1:"))
    assert not traffic.failed, traffic.failed
    assert not any("127.0.0.1" in url and not url.startswith(traffic.origin) for url in traffic.blocked), \
        f"the page tried to reach a service directly: {traffic.blocked}\n" + "\n".join(traffic.log)
    app_page.close()


def test_the_embedded_dashboard_shows_the_queues_through_jupyter(setup: tuple[LabServer, Any, Traffic],
                                                                  jupyter: LabPage) -> None:
    lab, context, traffic = setup
    notebook = run_up_to(jupyter, "notebooks/04_dashboard.ipynb", "dashboard.embed(")
    deadline = time.monotonic() + 90
    pages: list[str] = []
    problems: list[str] = []
    while time.monotonic() < deadline and not any("Queues" in text for text in pages):
        pages = []
        for frame in jupyter.page.frames:
            if "/proxy/127.0.0.1:" in frame.url:
                try:
                    pages.append(frame.evaluate("() => document.body ? document.body.innerText : ''"))
                except Exception as exc:  # noqa: BLE001 - navigating or detached
                    problems.append(str(exc)[:200])
        jupyter.page.wait_for_timeout(500)  # not time.sleep: Playwright runs the route handler only while we wait on it
    frames = [f for f in jupyter.page.frames if "/proxy/127.0.0.1:" in f.url]
    shown = jupyter.page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea iframe')].map(f => f.outerHTML)")
    ran = [(c["count"], c["source"][:40], c["errors"]) for c in notebook.cells() if c["count"] or c["errors"]]
    every_frame = [f.url for f in jupyter.page.frames]
    assert frames and pages, (f"no dashboard page in a frame through Jupyter; frames: {every_frame}"
                              f"; iframes: {shown}; cells run: {ran}; failed: {traffic.failed}; blocked: "
                              f"{traffic.blocked}; errors: {problems[-3:]}; responses:\n" + "\n".join(traffic.log))
    assert all(f.url.startswith(lab.url("proxy/127.0.0.1:")) for f in frames), [f.url for f in frames]
    assert any("Queues" in text for text in pages), f"the embedded rq-dashboard did not load: {pages}"
    frame = frames[0]
    frame.wait_for_function("() => document.querySelectorAll('#queues tbody tr').length > 0", timeout=30_000)
    styled = frame.evaluate("() => getComputedStyle(document.querySelector('.navbar')).display")
    assert styled == "flex", f"bootstrap's stylesheet did not apply (navbar display {styled!r})"
    assert frame.evaluate("() => typeof window.jQuery") == "function", "its scripts did not load"
    assert not traffic.failed, traffic.failed
    assert not _error_pages(jupyter.page), _error_pages(jupyter.page)


RUN_CELLS_JS = """async ([path, markers]) => {
  const w = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path);
  for (const marker of markers) {  // one cell at a time, each after the one before has run
    w.content.activeCellIndex = w.content.widgets.findIndex(c => c.model.type === 'code'
                                                            && c.model.sharedModel.getSource().includes(marker));
    await window.jupyterapp.commands.execute('notebook:run-cell');
  }
}"""


def test_the_export_page_advances_its_progress_bar_through_jupyter(setup: tuple[LabServer, Any, Traffic],
                                                                   jupyter: LabPage) -> None:
    lab, context, traffic = setup
    path = "notebooks/08_results_and_progress.ipynb"
    run_up_to(jupyter, path, "results.start_export(\"Coffee first")
    link = jupyter.page.locator("a", has_text="Open the export page").first
    link.wait_for(timeout=90_000)
    href = link.get_attribute("href")
    assert href.startswith(f"{BASE}proxy/127.0.0.1:") and "/exports/" in href, href

    with context.expect_page() as opened:
        link.click()
    export_page = opened.value
    export_page.wait_for_load_state()
    assert export_page.url.startswith(lab.url("proxy/127.0.0.1:")), export_page.url
    bar = export_page.locator("progress#bar")
    export_page.wait_for_function("() => document.querySelector('#bar').getAttribute('aria-valuenow') === '50'",
                                  timeout=60_000)  # the job holds at step 2 of 4 until the notebook lets it go
    assert export_page.get_by_label("Progress").count() == 1  # the bar has a name
    jupyter.page.evaluate(RUN_CELLS_JS, [path, ["results.wait_for_step(export, 2)", "def report(",
                                                "ex_report.check(report)", "results.release(export)"]])
    export_page.wait_for_function("() => document.body.dataset.done === 'finished'", timeout=60_000)
    assert bar.get_attribute("aria-valuenow") == "100"
    assert export_page.inner_text("#result").splitlines()[-1] == "3. <b>Bold</b> ideas"  # shown as text
    asked = int(export_page.inner_text("#polls").rsplit(" ", 1)[-1])
    assert asked >= 2, asked
    from axe_playwright_python.sync_playwright import Axe

    export_page.evaluate(Axe().axe_script)
    violations = export_page.evaluate("() => axe.run(document)")["violations"]
    assert not [v for v in violations if v["impact"] in ("serious", "critical")], violations
    focused = []
    for _ in range(2):  # the result, then the link: both reached with the keyboard alone
        export_page.keyboard.press("Tab")
        focused.append(export_page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))
    assert focused == ["result", "A"], focused
    assert not traffic.failed, traffic.failed
    assert not any("127.0.0.1" in url and not url.startswith(traffic.origin) for url in traffic.blocked), \
        f"the page tried to reach a service directly: {traffic.blocked}"
    export_page.close()
