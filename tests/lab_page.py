"""JupyterLab loaded in a browser page, and one notebook in it driven as a learner does.

`LabPage` is JupyterLab loaded once in a page; `NotebookPage` opens one notebook in it, runs it the way a learner
does (menu Run > Run All Cells, or up to a cell and then the rest) and reads what the page shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab_scripts import (
    ALL_CELLS_JS,
    CELLS_JS,
    FIND_JS,
    FRAME_IMAGES_JS,
    OUTPUT_TEXT_JS,
    READY_JS,
    RUN_ABOVE_JS,
    RUN_REST_JS,
    RUN_UNTIL_JS,
    SELECT_JS,
    SNAPSHOT_JS,
)
from lab_server import REPO, LabServer

ARTIFACTS = REPO / "test-artifacts"


class LabPage:
    """JupyterLab loaded once in a browser page; notebooks are opened in it one after another."""

    def __init__(self, page: Any, lab: LabServer) -> None:
        self.page, self.lab = page, lab
        self.console_errors: list[str] = []
        self.js_dialogs: list[str] = []  # alert/confirm/prompt the page opened (each is dismissed)
        page.on("dialog", self._on_dialog)
        page.on("console", lambda m: self.console_errors.append(m.text[:300]) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(f"page error: {e}"[:300]))

    def load(self, timeout: float = 60.0) -> LabPage:
        """(Re)load JupyterLab with an empty workspace (``?reset``: no restored tabs)."""
        self.page.goto(self.lab.url(f"lab?reset&token={self.lab.token}"))
        self.page.wait_for_function(
            "() => !!(window.jupyterapp && window.jupyterapp.shell"
            " && window.jupyterapp.commands.hasCommand('docmanager:open'))",
            timeout=timeout * 1000,
            polling=100,
        )
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")
        return self

    def _on_dialog(self, dialog: Any) -> None:
        self.js_dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def notebook(self, path: str) -> NotebookPage:
        return NotebookPage(self, path)

    def dialog(self) -> str | None:
        node = self.page.query_selector(".jp-Dialog")
        return node.text_content() if node is not None else None

    def close_documents(self) -> None:
        """Close every open document without saving (the run's outputs stay out of the files)."""
        self.page.evaluate("""() => {
          for (const w of [...window.jupyterapp.shell.widgets('main')]) {
            if (w.context && w.context.model) w.context.model.dirty = false;
            w.dispose();
          } }""")


class NotebookPage:
    """One notebook open in JupyterLab, driven as a learner would."""

    def __init__(self, lab_page: LabPage, path: str) -> None:
        self.lab_page, self.page, self.lab, self.path = lab_page, lab_page.page, lab_page.lab, path
        self.run_all_clicks = 0  # how many times Run All Cells had to be clicked before cells started
        self.upto = 0  # after run_until: the code cells run so far
        self.history: list[str] = []  # one line per look at the page while the notebook ran

    @property
    def console_errors(self) -> list[str]:
        return self.lab_page.console_errors

    def open(self, timeout: float = 60.0) -> None:
        """Open the notebook (File > Open, as it were) and wait until its kernel is idle."""
        self.page.evaluate(
            """async (path) => {
          const panel = await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
          window.jupyterapp.shell.activateById(panel.id); }""",
            self.path,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.page.evaluate(READY_JS, self.path):
                return
            dialog = self.page.query_selector(".jp-Dialog")
            if dialog is not None:
                raise AssertionError(f"{self.path}: a dialog is in the way: {dialog.text_content()!r}")
            time.sleep(0.1)
        raise AssertionError(f"{self.path}: the kernel was not idle within {timeout:.0f} s")

    def snapshot(self, upto: int | None = None) -> dict[str, Any]:
        """What the page shows now; ``pending`` counts the first `upto` code cells only (all when None)."""
        return self.page.evaluate(SNAPSHOT_JS, [self.path, upto]) or {}

    def cells(self) -> list[dict[str, Any]]:
        return self.page.evaluate(CELLS_JS, self.path)

    def command(self, command_id: str) -> None:
        self.page.evaluate("(id) => window.jupyterapp.commands.execute(id)", command_id)

    def click_run_all(self) -> None:
        """Menu Run > Run All Cells, with the mouse, as a learner does."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.locator('li[data-command="runmenu:run-all"]').click()

    def clear_outputs(self) -> None:
        """Edit > Clear Outputs of All Cells: what is read afterwards comes from this run only."""
        self.command("notebook:clear-all-cell-outputs")
        deadline = time.monotonic() + 10
        while self.snapshot().get("numbered") and time.monotonic() < deadline:
            self.page.wait_for_timeout(100)
        if self.snapshot().get("numbered"):  # a number would make a Run All that did nothing look like a run
            raise AssertionError(f"{self.path}: Clear All Outputs left execution counts on the cells")

    def _start(self, what: str, action: Callable[[], None]) -> None:
        """Do `action` until a cell starts: right after the kernel started, Run All can silently do nothing."""
        for self.run_all_clicks in range(1, 4):
            self.wait_ready()
            action()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                snap = self.snapshot()
                if snap.get("running") or snap.get("modelRunning") or snap.get("numbered"):
                    return
                self.page.wait_for_timeout(100)
            self.page.keyboard.press("Escape")
        raise AssertionError(f"{self.path}: {what} did not start any cell (3 tries)")

    def run_all(
        self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None, tick: float = 0.25
    ) -> dict[str, Any]:
        """Clear the stored outputs, Run All Cells, and wait until every cell has run and the kernel is idle.

        `on_tick` sees every snapshot while the notebook runs (live widgets change, and may be closed by the
        notebook's last cells). Returns the last snapshot.
        """
        self.clear_outputs()
        self._start("Run All Cells", self.click_run_all)
        return self._watch(timeout, on_tick, tick)

    def run_until(
        self, marker: str, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None, tick: float = 0.25
    ) -> dict[str, Any]:
        """Clear the stored outputs, then run every cell up to and with the first code cell whose source has
        `marker` (Run All Above, then Run Selected Cell), and wait until they have run. ``run_rest`` goes on."""
        self.clear_outputs()
        self.upto = self.page.evaluate(SELECT_JS, [self.path, marker])
        if self.upto is None:
            raise AssertionError(f"{self.path}: no code cell contains {marker!r}")
        self._start(f"Running up to {marker!r}", lambda: self.page.evaluate(RUN_UNTIL_JS, [self.path, marker]))
        return self._watch(timeout, on_tick, tick, upto=self.upto)

    def run_before(
        self, index: int, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None, tick: float = 0.25
    ) -> dict[str, Any]:
        """Clear the stored outputs, then run every cell above the cell at `index` (0-based, markdown included: Run
        All Above Selected Cell), and wait until they have run. ``run_rest`` goes on from the cell at `index`."""
        self.clear_outputs()
        self.upto = sum(cell["type"] == "code" for cell in self.all_cells()[:index])
        if self.upto:
            self._start("Run All Above", lambda: self.page.evaluate(RUN_ABOVE_JS, [self.path, index]))
        return self._watch(timeout, on_tick, tick, upto=self.upto)

    def all_cells(self) -> list[dict[str, Any]]:
        """Every cell, markdown included: ``{"index", "type", "source"}``."""
        return self.page.evaluate(ALL_CELLS_JS, self.path)

    def output_text(self, index: int) -> str:
        """What the cell at `index` (0-based, markdown included) shows in its output area."""
        return self.page.evaluate(OUTPUT_TEXT_JS, [self.path, index]) or ""

    def run_rest(
        self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None, tick: float = 0.25
    ) -> dict[str, Any]:
        """After ``run_until`` or ``run_before``: run the cells below what ran (Run Selected Cell and All Below, from
        the next code cell)."""
        self.wait_ready()
        self.page.evaluate(RUN_REST_JS, [self.path, self.upto])
        return self._watch(timeout, on_tick, tick)

    def start_rest(self) -> None:
        """After ``run_before``: Run > Run Selected Cell and All Below, without waiting for the cells to end (for a
        cell that runs until the kernel is interrupted, such as the worker notebook's). ``wait_for_output`` and
        ``wait_done`` follow."""
        self.wait_ready()
        self.page.evaluate(RUN_REST_JS, [self.path, self.upto])

    def wait_for_output(
        self,
        index: int,
        wanted: str | Callable[[str], bool],
        timeout: float,
        on_tick: Callable[[dict[str, Any]], None] | None = None,
        tick: float = 0.25,
    ) -> str:
        """Read the page every `tick` until the cell at `index` (0-based, markdown included) shows `wanted` (text it
        contains, or a predicate on its output's text); returns that text. Fails on a dialog, when the cells end
        first (nothing runs and the kernel is idle for a second), or after `timeout`."""
        began = time.monotonic()
        quiet = 0
        while True:
            snap = self.snapshot()
            text = self.output_text(index)
            self.history.append(
                f"{time.monotonic() - began:6.2f} s: kernel {snap.get('kernel')}, "
                f"[*] {snap.get('running')}/{snap.get('modelRunning')}, cell {index} shows {len(text)} chars"
            )
            if on_tick is not None:
                on_tick(snap)
            if wanted(text) if callable(wanted) else wanted in text:
                return text
            if snap.get("dialog"):
                raise AssertionError(f"{self.path}: a dialog opened while running: {snap['dialog']!r}")
            idle = snap.get("running") == 0 and snap.get("modelRunning") == 0 and snap.get("kernel") == "idle"
            quiet = quiet + 1 if idle else 0
            if quiet * tick >= 1:
                raise AssertionError(
                    f"{self.path}: the cells ended before cell {index} showed what was awaited; it shows:\n{text}"
                )
            if time.monotonic() - began > timeout:
                raise AssertionError(
                    f"{self.path}: cell {index} did not show what was awaited within {timeout:.0f} s; it shows:\n"
                    f"{text}\nthe last looks:\n  " + "\n  ".join(self.history[-8:])
                )
            self.page.wait_for_timeout(tick * 1000)

    def interrupt(self, timeout: float = 30.0) -> int:
        """Press the notebook toolbar's Interrupt button (■, *Interrupt the kernel*), as a learner does; wait until
        Jupyter has answered the request it sends (``POST .../api/kernels/ID/interrupt``). Returns the answer's HTTP
        status (204: the kernel was sent SIGINT)."""
        panel_id = self.page.evaluate("(path) => { " + FIND_JS + " return w ? w.id : null; }", self.path)
        if panel_id is None:
            raise AssertionError(f"{self.path}: the notebook is not open")
        button = self.page.locator(f'[id="{panel_id}"] .jp-Toolbar [data-command="notebook:interrupt-kernel"]')
        with self.page.expect_response(
            lambda r: r.request.method == "POST" and r.url.split("?", 1)[0].endswith("/interrupt"),
            timeout=timeout * 1000,
        ) as answer:
            button.click(timeout=timeout * 1000)
        return answer.value.status

    def wait_done(
        self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None, tick: float = 0.25
    ) -> dict[str, Any]:
        """Wait until every cell has run and the kernel has been idle for a second (as ``run_all`` does after its
        click); returns the last snapshot."""
        return self._watch(timeout, on_tick, tick)

    def _watch(
        self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None, tick: float, upto: int | None = None
    ) -> dict[str, Any]:
        """Read the page every `tick` until the cells (the first `upto` code cells, or all) have run and the kernel
        has been idle for a second; fail on a dialog, on cells that never run, or after `timeout`."""
        began = time.monotonic()
        quiet = stalled = 0
        while True:
            snap = self.snapshot(upto)
            self.history.append(
                f"{time.monotonic() - began:6.2f} s: kernel {snap.get('kernel')}, "
                f"[*] {snap.get('running')}/{snap.get('modelRunning')}, "
                f"numbered {snap.get('numbered')}, not run yet {snap.get('pending')}, "
                f"stopped by an error {snap.get('stopped')}"
            )
            if on_tick is not None:
                on_tick(snap)
            if snap.get("dialog"):
                raise AssertionError(f"{self.path}: a dialog opened while running: {snap['dialog']!r}")
            idle = snap.get("running") == 0 and snap.get("modelRunning") == 0 and snap.get("kernel") == "idle"
            finished = snap.get("pending") == 0 or snap.get("stopped")  # every cell ran, or an error ended the run
            quiet = quiet + 1 if idle and finished else 0
            stalled = stalled + 1 if idle and not finished else 0
            if quiet >= 4:  # nothing queued and the kernel idle for a second: the run is over
                return snap
            if stalled * tick >= 10:
                raise AssertionError(
                    f"{self.path}: {snap.get('pending')} cells never ran, though nothing is queued "
                    "and the kernel is idle; the last looks:\n  " + "\n  ".join(self.history[-8:])
                )
            if time.monotonic() - began > timeout:
                raise AssertionError(
                    f"{self.path}: still running after {timeout:.0f} s; the last looks:\n  "
                    + "\n  ".join(self.history[-8:])
                )
            self.page.wait_for_timeout(tick * 1000)  # (not time.sleep: Playwright serves the page's events meanwhile)

    def ran_cells(self) -> list[int]:
        """The code cells (numbered as nbval numbers them: code cells only, from 0) that have run in this page."""
        return [number for number, cell in enumerate(self.cells()) if cell["count"] is not None]

    def srcdoc_frames(self) -> list[Any]:
        return [f for f in self.page.frames if f.url == "about:srcdoc"]

    def gif_widths(self) -> list[int]:
        """naturalWidth of every GIF shown inside the page's srcdoc frames (0: not loaded/decoded)."""
        widths = []
        for frame in self.srcdoc_frames():
            try:
                images = frame.evaluate(FRAME_IMAGES_JS)
            except Exception:  # noqa: BLE001 - the inbox re-rendered and the frame went away meanwhile
                continue
            widths += [width for src, width, _complete in images if src.startswith("data:image/gif")]
        return widths

    def rq_dashboard_texts(self) -> list[str]:
        """The text of every rq-dashboard page shown in a frame of the notebook (a course service's port, reached
        through Jupyter's proxy or directly)."""
        texts = []
        for frame in self.page.frames:
            direct = frame.url.startswith("http://127.0.0.1:") and not frame.url.startswith(self.lab.url())
            if direct or "/proxy/127.0.0.1:" in frame.url:
                try:
                    texts.append(frame.evaluate("() => document.body ? document.body.innerText : ''"))
                except Exception:  # noqa: BLE001 - navigating or detached
                    continue
        return texts

    def screenshot(self, name: str) -> Path:
        """The whole notebook as one picture, in test-artifacts/ (the page is made tall enough to hold it)."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        size = self.page.viewport_size or {"width": 1400, "height": 1000}
        try:
            height = self.page.evaluate(
                """(path) => {
              """
                + FIND_JS
                + """
              const inner = w && w.content && w.content.node.querySelector('.jp-WindowedPanel-viewport');
              return inner ? inner.scrollHeight : 0; }""",
                self.path,
            )
            if height:
                self.page.set_viewport_size({"width": size["width"], "height": min(int(height) + 200, 20000)})
                self.page.evaluate(
                    """(path) => {
                  """
                    + FIND_JS
                    + """
                  const outer = w && w.content && w.content.node.querySelector('.jp-WindowedPanel-outer');
                  if (outer) outer.scrollTop = 0; }""",
                    self.path,
                )
                time.sleep(0.5)  # let cells that were off-screen render
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path
