"""The first minutes: ``make lab`` (and ``make lab-instructor``) start JupyterLab as the Makefile says, on a free port;
the URL it prints opens the edition's first notebook (so does the server's ``/``, a forwarded port's address in a dev
container), and JupyterLab does not ask about the official Jupyter news.

The server is the Makefile's own command (``make -o $(VENV)/.lab-installed lab``: set-up is not re-run), with
Jupyter's config, runtime and data folders of the test's own (the user's own JupyterLab settings cannot hide a
missing course setting); it is stopped through its API, then by PID.
"""

from __future__ import annotations

import json
import os
import re
import signal
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
from lab_server import REPO, free_port

pytestmark = pytest.mark.slow  # two JupyterLab servers

NOTIFICATION = "@jupyterlab/apputils-extension:notification"
PRINTED_URL = re.compile(r"(http://127\.0\.0\.1:\d+/\S*)")
COURSE_SETTINGS = REPO / "lab-settings" / "overrides.json"


def _get(url: str, token: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for 127.0.0.1
    with opener.open(request, timeout=timeout) as response:
        return response.status, response.read()


@contextmanager
def make_lab(target: str, scratch: Path, timeout: float = 90.0) -> Iterator[str]:
    """``make TARGET`` with a free port and --no-browser; yields the first URL JupyterLab prints. Stopped afterwards:
    through its API, then SIGTERM/SIGKILL by PID (make, and the JupyterLab it started)."""
    port = free_port()
    log_path = scratch / f"{target}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLAB"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTER_DATA_DIR=str(scratch / "data"),
    )
    venv = Path(sys.prefix)
    argv = ["make", "--no-print-directory", f"VENV={venv}", "-o", f"{venv}/.lab-installed", target]
    argv += [f"LAB_PORT={port}", "LAB_ARGS=--no-browser"]
    with open(log_path, "wb") as log:
        make = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = None
    try:
        deadline = time.monotonic() + timeout
        while url is None and time.monotonic() < deadline and make.poll() is None:
            found = PRINTED_URL.search(log_path.read_text(errors="replace"))
            url = found.group(1) if found else None
            time.sleep(0.2)
        assert url, f"make {target} printed no URL; its output:\n{log_path.read_text(errors='replace')[-3000:]}"
        yield url
    finally:
        stop_make(make, url)


def stop_make(make: subprocess.Popen, url: str | None) -> None:
    """JupyterLab shut down through its API (the token is in its URL), else by PID; then make."""
    children = []
    try:
        children = psutil.Process(make.pid).children(recursive=True)
    except psutil.Error:
        pass
    if url and "token=" in url:
        token = url.split("token=", 1)[1]
        base = url.split("/lab", 1)[0]
        request = urllib.request.Request(
            f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
        )
        try:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5).read()
        except OSError:
            pass
    try:
        make.wait(20)
    except subprocess.TimeoutExpired:
        for child in children:
            try:
                child.send_signal(signal.SIGTERM)
            except psutil.Error:
                pass
        make.send_signal(signal.SIGTERM)
        try:
            make.wait(10)
        except subprocess.TimeoutExpired:
            make.kill()
            make.wait(5)
    for child in children:  # by PID, as psutil found them: nothing else with the same name is touched
        try:
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                child.kill()
        except psutil.Error:
            pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def redirect_of(url: str, token: str) -> str:
    """Where the server sends a browser that asks for `url` (its Location), e.g. a forwarded port's address."""
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(request, timeout=10) as response:
            return f"(no redirect: {response.status})"
    except urllib.error.HTTPError as exc:
        return exc.headers.get("Location", "")


def notification_settings(url: str) -> dict[str, Any]:
    """The settings API's answer for JupyterLab's notification plugin on the server that printed `url`."""
    token = url.split("token=", 1)[1]
    base = url.split("/lab", 1)[0]
    status, body = _get(f"{base}/lab/api/settings/{NOTIFICATION}", token)
    assert status == 200, status
    return json.loads(body)


def test_the_course_settings_turn_the_news_prompt_off() -> None:
    """The file ``make`` installs: JupyterLab 4's notification plugin, news Never (its default ``"none"`` asks the
    learner with a prompt) and no update check."""
    settings = json.loads(COURSE_SETTINGS.read_text())
    assert settings == {NOTIFICATION: {"fetchNews": "false", "checkForUpdates": False}}
    schema_path = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    schema = json.loads(schema_path.read_text())["properties"]
    assert {choice["const"] for choice in schema["fetchNews"]["oneOf"]} == {"true", "false", "none"}
    assert schema["fetchNews"]["default"] == "none", "JupyterLab's own default asks (the prompt this turns off)"


@pytest.mark.parametrize(("target", "edition"), [("lab", "notebooks"), ("lab-instructor", "instructor")])
def test_make_lab_prints_the_first_notebook_and_asks_no_news(tmp_path: Path, target: str, edition: str) -> None:
    first = f"{edition}/01_slow_request.ipynb"
    assert (REPO / first).exists()
    with make_lab(target, tmp_path) as url:
        assert f"/lab/tree/{first}?token=" in url, f"make {target} printed {url}, not a URL that opens {first}"
        status, page = _get(url, url.split("token=", 1)[1])
        assert status == 200
        config = json.loads(
            re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S).group(1)
        )
        assert config["treePath"] == first, f"the printed URL opens {config['treePath']!r}"
        base, token = url.split("/lab", 1)[0], url.split("token=", 1)[1]
        assert redirect_of(f"{base}/", token).rstrip("?").endswith(f"/lab/tree/{first}"), (
            "the server's / leads elsewhere"
        )
        notification = notification_settings(url)
        defaults = {key: value["default"] for key, value in notification["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false", (
            f"JupyterLab would ask about the Jupyter news (fetchNews default {defaults['fetchNews']!r}): is "
            f"lab-settings/overrides.json installed in {sys.prefix}/share/jupyter/lab/settings/? "
            "(make .venv/.lab-installed)"
        )
        assert defaults["checkForUpdates"] is False
        assert notification["settings"].get("fetchNews", "false") == "false"  # no user setting overrides it
