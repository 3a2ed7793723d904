"""A JupyterLab server of the tests' own, on a folder of the test's own, under JupyterHub's ``/user/NAME/`` layout.

`LabServer` runs ``python -m jupyter lab`` with its own ``COURSE_HOME`` (so kernels, and every service they start,
use an isolated state folder) and its own Jupyter runtime, config, settings and workspace folders (nothing is
written into the user's ``~/.jupyter``); `serving` starts one and, afterwards, stops it and everything its kernels
started.
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
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

REPO = Path(__file__).resolve().parent.parent

BASE_URL = "/user/learner/"  # JupyterHub's layout: a learner's server lives under /user/NAME/

# User settings for the tests' JupyterLab: no news / update pop-ups over the notebook, and every cell in the page
# (JupyterLab 4 renders only the cells in view by default: axe, and counts of prompts, would miss the others).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (another process may take it before it is bound: see `LabServer.start`)."""
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
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "WORKIT_DELAY", "JUPYTER_TOKEN", "JUPYTER_PATH", "COURSE_SERVICE")
        }
        env.update(
            COURSE_HOME=str(self.home),
            JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"),
            JUPYTER_CONFIG_DIR=str(self.scratch / "config"),
            IPYTHONDIR=str(self.scratch / "ipython"),
        )
        return env

    def start(self, timeout: float = 60.0) -> LabServer:
        settings = self.scratch / "settings"
        for name, value in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        for _attempt in range(3):  # a free port can be taken between picking it and binding it: pick again
            self.port = free_port()
            argv = [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                f"--ServerApp.base_url={self.base_url}",
                "--expose-app-in-browser",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.scratch / 'workspaces'}",
            ]
            if os.geteuid() == 0:
                argv.append("--allow-root")
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    argv,
                    cwd=self.root,
                    env=self.env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
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

    def api(self, method: str, path: str, timeout: float = 10, body: Any = None) -> Any:
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.url(path), data=data, method=method, headers=headers)
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
            subprocess.run(
                [sys.executable, "-m", "support", "down"], env=server.env(), cwd=REPO, capture_output=True, timeout=120
            )
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
