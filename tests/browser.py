"""Helpers for the browser tests: a JupyterLab server of the tests' own, and notebooks driven in headless Chromium.

`LabServer` runs ``python -m jupyter lab`` on a folder of the test's own, under a base URL (JupyterHub's
``/user/NAME/`` layout), with its own ``COURSE_HOME`` (so kernels, and every service they start, use an isolated
state folder) and its own Jupyter runtime, config, settings and workspace folders (nothing is written into the
user's ``~/.jupyter``). `LabPage` is JupyterLab loaded in a browser page; `NotebookPage` opens one notebook in it,
runs it the way a learner does (menu Run > Run All Cells, or up to a cell and then the rest) and reads what the page
shows. `find_chromium` says where the browser is, or how to install it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Where Chromium lives: Debian's package, other Linux packages, the macOS app (Homebrew's cask installs it there).
CHROMIUM_PLACES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium",
                   "/Applications/Chromium.app/Contents/MacOS/Chromium"]
CHROMIUM_OVERRIDE = "COURSE_CHROMIUM"  # a path to the Chromium program to use instead
NOT_INSTALLED = """Chromium is not installed, and the browser tests need it (no browser is ever downloaded by them).
Install it, then run the tests again:
  Debian/Ubuntu:  sudo apt-get install chromium   (Ubuntu: chromium-browser)
  macOS:          brew install --cask chromium
  or name the program:  export COURSE_CHROMIUM=/path/to/chromium
Or run every other test without it:  make test BROWSER=0"""

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"

BASE_URL = "/user/learner/"  # JupyterHub's layout: a learner's server lives under /user/NAME/

# User settings for the tests' JupyterLab: no news / update pop-ups over the notebook, and every cell in the page
# (JupyterLab 4 renders only the cells in view by default: axe, and counts of prompts, would miss the others).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def find_chromium() -> str | None:
    """The Chromium program to drive: $COURSE_CHROMIUM, else the first of the usual places, else one on PATH."""
    override = os.environ.get(CHROMIUM_OVERRIDE)
    if override:
        return override if os.access(override, os.X_OK) else None
    for place in CHROMIUM_PLACES:
        if os.access(place, os.X_OK):
            return place
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """JupyterLab serving `root`; kernels get ``COURSE_HOME=home``. ``stop()`` ends it and every kernel it started."""

    def __init__(self, root: Path, home: Path, scratch: Path, base_url: str = "/") -> None:
        self.root, self.home, self.scratch = root, home, scratch
        self.base_url = base_url  # JupyterHub serves a learner's server under /user/NAME/
        self.token = secrets.token_hex(24)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = scratch / "jupyterlab.log"
        self.kernels: dict[int, psutil.Process] = {}  # every kernel process seen, checked to be gone after stop()

    # --- life cycle ------------------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "WORKIT_DELAY", "JUPYTER_TOKEN", "JUPYTER_PATH", "COURSE_SERVICE")}
        env.update(COURSE_HOME=str(self.home),
                   JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"),
                   JUPYTER_CONFIG_DIR=str(self.scratch / "config"),
                   IPYTHONDIR=str(self.scratch / "ipython"))
        return env

    def start(self, timeout: float = 60.0) -> LabServer:
        settings = self.scratch / "settings"
        for name, value in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        for attempt in range(3):  # a free port can be taken between picking it and binding it: pick again
            self.port = free_port()
            argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                    "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                    f"--ServerApp.root_dir={self.root}", f"--ServerApp.base_url={self.base_url}",
                    "--expose-app-in-browser",
                    f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.scratch / 'workspaces'}"]
            if os.geteuid() == 0:
                argv.append("--allow-root")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(argv, cwd=self.root, env=self.env(), stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._status_answers():
                    return self
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; its log:\n{self.log_tail()}")
        raise RuntimeError(f"JupyterLab did not start; its log:\n{self.log_tail()}")

    def _status_answers(self) -> bool:
        try:
            self.api("GET", "/api/status", timeout=1)
            return True
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 20.0) -> list[str]:
        """Shut the server down through its API (it shuts its kernels down), then SIGTERM/SIGKILL by PID.

        Returns the kernels the server left running, which were then killed here (normally none)."""
        if self.proc is None:
            return []
        self.remember_kernels()
        if self.proc.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
            except (OSError, urllib.error.URLError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        killed = []
        for proc in self.kernels.values():  # the server waits for its kernels; one it lost is ended here
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    killed.append(f"pid {proc.pid}: {' '.join(proc.cmdline())[:120]}")
                    proc.kill()  # psutil refuses if the PID now belongs to another process
            except psutil.Error:
                pass
        return killed

    def leftovers(self) -> list[psutil.Process]:
        """Processes still running from this server: its kernels, or anything with its COURSE_HOME."""
        found = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                kernel = self.kernels.get(proc.pid)
                if (kernel is not None and kernel.is_running()) or proc.environ().get("COURSE_HOME") == str(self.home):
                    found.append(proc)
            except psutil.Error:
                continue
        return found

    # --- the REST API ----------------------------------------------------------------------------------------

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}{path.lstrip('/')}"

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        request = urllib.request.Request(self.url(path), method=method,
                                         headers={"Authorization": f"token {self.token}"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for 127.0.0.1
        with opener.open(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def remember_kernels(self) -> None:
        """Note the PID of every kernel the server runs now (found by its connection file in our runtime dir)."""
        runtime = str(self.scratch / "runtime")
        if self.proc is None:
            return
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            try:
                if any(runtime in arg for arg in child.cmdline()):
                    self.kernels.setdefault(child.pid, child)
            except psutil.Error:
                continue

    def shutdown_kernels(self) -> None:
        """End every session and kernel (as closing the notebooks and shutting their kernels down would)."""
        self.remember_kernels()
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")


# --- one notebook in a browser page ---------------------------------------------------------------------------

# The open notebook panel whose file is `path` (not "the current widget": that one depends on focus).
FIND_JS = ("const w = window.jupyterapp && [...window.jupyterapp.shell.widgets('main')]"
           ".find(w => w.context && w.context.path === path);")

# The notebook as the page shows it, read every fraction of a second while it runs.
SNAPSHOT_JS = """([path, upto]) => {
  """ + FIND_JS + """
  if (!w) return null;
  const node = w.node;
  const all = sel => [...node.querySelectorAll(sel)];
  const prompts = all('.jp-CodeCell .jp-InputPrompt').map(e => e.textContent.trim());
  const outputText = all('.jp-OutputArea').map(e => e.textContent).join('\\n');
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  return {
    kernel: kernel ? kernel.status : 'none',
    running: prompts.filter(p => p.includes('*')).length,
    numbered: prompts.filter(p => /\\d/.test(p)).length,
    // the same from the notebook model (the page may not have rendered every cell yet)
    modelRunning: code.filter(c => c.model.executionState === 'running').length,
    pending: code.slice(0, upto === null ? code.length : upto)
      .filter(c => c.model.sharedModel.getSource().trim() && c.model.executionCount === null).length,
    stopped: code.some(c => !(c.model.getMetadata('tags') || []).includes('raises-exception')
                            && c.model.outputs.toJSON().some(o => o.output_type === 'error')),
    dialog: document.querySelector('.jp-Dialog') ? document.querySelector('.jp-Dialog').textContent : null,
    widgetViews: all('.jp-OutputArea-output > .jupyter-widgets').length,
    loadingWidget: outputText.includes('Loading widget'),
    brokenWidget: /Error displaying widget|model not found/.exec(outputText) ? true : false,
    forms: all('.course-form').map(e => e.textContent),
    inboxFrames: all('.course-inbox iframe').map(f => ({
      sandbox: f.getAttribute('sandbox'), gif: (f.getAttribute('srcdoc') || '').includes('data:image/gif')})),
    logs: all('.course-log').map(e => e.textContent),
    dashboards: all('.course-dashboard').map(d => [...d.querySelectorAll('td[title]')]
                                          .map(td => td.title + '=' + td.textContent.trim()).join(' ')),
  };
}"""

# Every code cell, from the notebook model: what ran, its tags, its error outputs.
CELLS_JS = """(path) => { """ + FIND_JS + """ return w.content.widgets
  .map((cell, index) => ({cell, index})).filter(({cell}) => cell.model.type === 'code')
  .map(({cell, index}) => ({
    index,
    source: cell.model.sharedModel.getSource(),
    count: cell.model.executionCount,
    tags: cell.model.getMetadata('tags') || [],
    errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
    widgets: cell.model.outputs.toJSON().filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json'])
      .length,
  })); }"""

READY_JS = """(path) => {
  """ + FIND_JS + """
  if (!w || !w.context.isReady) return false;
  if (window.jupyterapp.shell.currentWidget !== w) {  // menus act on the current notebook: make it this one
    window.jupyterapp.shell.activateById(w.id);
    return false;
  }
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && w.sessionContext.isReady;
}"""

# Select the first code cell whose source has the marker; returns how many code cells there are up to it, with it.
SELECT_JS = """([path, marker]) => {
  """ + FIND_JS + """
  const index = w.content.widgets.findIndex(c => c.model.type === 'code'
                                             && c.model.sharedModel.getSource().includes(marker));
  if (index < 0) return null;
  return w.content.widgets.slice(0, index + 1).filter(c => c.model.type === 'code').length;
}"""

# Run every cell above the marked one, then the marked one (Run > Run All Above Selected Cell, Run Selected Cell).
# (Not awaited: the kernel runs them in the order they were sent, and the page is read meanwhile.)
RUN_UNTIL_JS = """([path, marker]) => {
  """ + FIND_JS + """
  w.content.activeCellIndex = w.content.widgets.findIndex(c => c.model.type === 'code'
                                                          && c.model.sharedModel.getSource().includes(marker));
  window.jupyterapp.commands.execute('notebook:run-all-above');
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""

# From the cell after the first `upto` code cells: Run > Run Selected Cell and All Below.
RUN_REST_JS = """([path, upto]) => {
  """ + FIND_JS + """
  const widgets = w.content.widgets;
  let seen = 0, index = 0;
  while (index < widgets.length && (widgets[index].model.type !== 'code' || seen < upto)) {
    if (widgets[index].model.type === 'code') seen += 1;
    index += 1;
  }
  w.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-all-below');
}"""

# Images inside an inbox frame: [src prefix, naturalWidth, complete].
FRAME_IMAGES_JS = "() => [...document.images].map(i => [i.src.slice(0, 22), i.naturalWidth, i.complete])"


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
        self.page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell"
                                    " && window.jupyterapp.commands.hasCommand('docmanager:open'))",
                                    timeout=timeout * 1000, polling=100)
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
        self.page.evaluate("""async (path) => {
          const panel = await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
          window.jupyterapp.shell.activateById(panel.id); }""", self.path)
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

    def run_all(self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None,
                tick: float = 0.25) -> dict[str, Any]:
        """Clear the stored outputs, Run All Cells, and wait until every cell has run and the kernel is idle.

        `on_tick` sees every snapshot while the notebook runs (live widgets change, and may be closed by the
        notebook's last cells). Returns the last snapshot.
        """
        self.clear_outputs()
        self._start("Run All Cells", self.click_run_all)
        return self._watch(timeout, on_tick, tick)

    def run_until(self, marker: str, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None,
                  tick: float = 0.25) -> dict[str, Any]:
        """Clear the stored outputs, then run every cell up to and with the first code cell whose source has
        `marker` (Run All Above, then Run Selected Cell), and wait until they have run. ``run_rest`` goes on."""
        self.clear_outputs()
        self.upto = self.page.evaluate(SELECT_JS, [self.path, marker])
        if self.upto is None:
            raise AssertionError(f"{self.path}: no code cell contains {marker!r}")
        self._start(f"Running up to {marker!r}", lambda: self.page.evaluate(RUN_UNTIL_JS, [self.path, marker]))
        return self._watch(timeout, on_tick, tick, upto=self.upto)

    def run_rest(self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None = None,
                 tick: float = 0.25) -> dict[str, Any]:
        """After ``run_until``: run the cells below it (Run Selected Cell and All Below, from the next cell)."""
        self.wait_ready()
        self.page.evaluate(RUN_REST_JS, [self.path, self.upto])
        return self._watch(timeout, on_tick, tick)

    def _watch(self, timeout: float, on_tick: Callable[[dict[str, Any]], None] | None, tick: float,
               upto: int | None = None) -> dict[str, Any]:
        """Read the page every `tick` until the cells (the first `upto` code cells, or all) have run and the kernel
        has been idle for a second; fail on a dialog, on cells that never run, or after `timeout`."""
        began = time.monotonic()
        quiet = stalled = 0
        while True:
            snap = self.snapshot(upto)
            self.history.append(f"{time.monotonic() - began:6.2f} s: kernel {snap.get('kernel')}, "
                                f"[*] {snap.get('running')}/{snap.get('modelRunning')}, "
                                f"numbered {snap.get('numbered')}, not run yet {snap.get('pending')}, "
                                f"stopped by an error {snap.get('stopped')}")
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
                raise AssertionError(f"{self.path}: {snap.get('pending')} cells never ran, though nothing is queued "
                                     "and the kernel is idle; the last looks:\n  " + "\n  ".join(self.history[-8:]))
            if time.monotonic() - began > timeout:
                raise AssertionError(f"{self.path}: still running after {timeout:.0f} s; the last looks:\n  "
                                     + "\n  ".join(self.history[-8:]))
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
            height = self.page.evaluate("""(path) => {
              """ + FIND_JS + """
              const inner = w && w.content && w.content.node.querySelector('.jp-WindowedPanel-viewport');
              return inner ? inner.scrollHeight : 0; }""", self.path)
            if height:
                self.page.set_viewport_size({"width": size["width"], "height": min(int(height) + 200, 20000)})
                self.page.evaluate("""(path) => {
                  """ + FIND_JS + """
                  const outer = w && w.content && w.content.node.querySelector('.jp-WindowedPanel-outer');
                  if (outer) outer.scrollTop = 0; }""", self.path)
                time.sleep(0.5)  # let cells that were off-screen render
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path


class Traffic:
    """What the browser asked for outside Jupyter's origin (blocked), and course pages that failed behind the proxy."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.blocked: list[str] = []
        self.failed: list[str] = []  # a response >= 400 from a course service, through Jupyter's proxy
        self.log: list[str] = []
        self.t0 = time.monotonic()

    def block(self, route: Any) -> None:
        self.blocked.append(route.request.url)
        route.abort()

    def response(self, response: Any) -> None:
        if "/proxy/" in response.url:
            self.log.append(f"{time.monotonic() - self.t0:6.1f} {response.status} {response.url[-80:]}")
            if response.status >= 400:
                self.failed.append(f"{response.status} {response.url}")

    def direct(self) -> list[str]:
        """Requests that tried to reach a course service on 127.0.0.1 without going through Jupyter."""
        return [url for url in self.blocked if urllib.parse.urlsplit(url).hostname == "127.0.0.1"]


@contextmanager
def serving(server: LabServer) -> Iterator[LabServer]:
    """`server`, started; afterwards stopped, then everything its kernels started (``python -m support down``).
    A process of its still running 10 s later is killed, and fails the test."""
    server.start()
    try:
        yield server
    finally:
        try:
            lost = server.stop()
            if lost:
                print("JupyterLab left these kernels running; they were killed:\n  " + "\n  ".join(lost))
        finally:  # then whatever the kernels started (Redis, the catcher, the app, workers)
            subprocess.run([sys.executable, "-m", "support", "down"], env=server.env(), cwd=REPO,
                           capture_output=True, timeout=120)
        deadline = time.monotonic() + 10
        while (left := server.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.2)
        if left:
            described = [f"pid {p.pid}: {' '.join(p.cmdline())[:120]}" for p in left]
            for proc in left:
                proc.kill()
            pytest.fail("Still running after JupyterLab and the course were stopped:\n  " + "\n  ".join(described))


def copy_notebooks(source: Path, target: Path) -> None:
    """The learner edition as a fresh clone has it: notebooks only, no modules written by earlier runs."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.py", "__pycache__", ".ipynb_checkpoints"))


if __name__ == "__main__":  # make test's first step: stop before anything starts when Chromium is missing
    found = find_chromium()
    if found is None:
        print(NOT_INSTALLED, file=sys.stderr)
        sys.exit(1)
    print(f"Chromium for the browser tests: {found}")
