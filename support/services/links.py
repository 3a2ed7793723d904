"""The addresses of the course's web pages as the learner's browser must use them.

The services listen on 127.0.0.1 of the machine that runs them. On a learner's own machine that is the browser's
127.0.0.1 too; on JupyterHub, Binder or Codespaces only Jupyter's own address reaches the browser. So when this code
runs in a kernel started by a Jupyter server, links go through jupyter-server-proxy, at the server's own path:
``{base_url}proxy/127.0.0.1:PORT/`` (an origin-relative link: it works under any host name the server is reached
by, and under a base_url such as JupyterHub's ``/user/NAME/``). Anywhere else (the terminal, a kernel with no Jupyter
server, such as nbclient's) links stay ``http://127.0.0.1:PORT/``. Every link carries the learner's token.

The server is the kernel's parent process, found among the files running servers write into Jupyter's runtime folder
(the kernel inherits the server's); failing that, on JupyterHub, ``JUPYTERHUB_SERVICE_PREFIX`` is its base_url.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
from pathlib import Path

import psutil

from . import access
from .ports import HOST


def _in_kernel() -> bool:
    """True inside an IPython kernel (not a terminal, not plain Python)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def running_servers() -> list[dict]:
    """What each Jupyter server running for this user wrote into Jupyter's runtime folder (``jpserver-*.json``: its
    pid, port, base_url...), read as jupyter_server's ``list_running_servers`` does, without importing the server."""
    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(info, dict):
            found.append(info)
    return found


def server_base_url(parent_pid: int) -> str | None:
    """The base_url of the Jupyter server whose process is `parent_pid`, or None when it is no Jupyter server that
    has jupyter-server-proxy."""
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        return None
    for server in running_servers():
        if server.get("pid") == parent_pid:
            return _slashed(server.get("base_url") or "/")
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        try:
            if "jupyter" in " ".join(psutil.Process(parent_pid).cmdline()):
                return _slashed(prefix)
        except psutil.Error:
            pass
    return None


def _slashed(path: str) -> str:
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


@functools.lru_cache(maxsize=1)
def jupyter_base() -> str | None:
    """The base_url of the Jupyter server this kernel runs under, or None (not in a kernel, or no server found)."""
    if not _in_kernel():
        return None
    return server_base_url(os.getppid())


def browser_url(port: int, path: str = "/", base: str | None = None, token: bool = True) -> str:
    """The link to show for the service on `port`: through Jupyter's proxy under `base` (default: the server this
    kernel runs under, if any), else ``http://127.0.0.1:PORT``; with the token unless `token` is False."""
    base = base if base is not None else jupyter_base()
    root = f"{base}proxy/{HOST}:{port}" if base else f"http://{HOST}:{port}"
    url = root + "/" + path.lstrip("/")
    return access.with_token(url) if token else url
