"""The course's services stop with the Jupyter server that started them.

A kernel's ``course.up()`` under a Jupyter server (the JupyterLab of ``make lab``, a learner's server on JupyterHub)
ties the state folder to that server when it starts the services (``tie``): a small watchdog process, one per state
folder (``python -m support.services.server_watch``, in a session of its own like every service), waits for the
server's process to end, however it ends (SIGTERM from the hub or its idle culler, SIGINT from Ctrl+C or from the
hub's spawner, even SIGKILL), and then stops them as ``course.down()`` does (``processes.stop_all``, in the order
``course`` hands it): workers first, Redis last, each by SIGTERM, on which Redis writes its append-only file out and
exits. The next start finds the inbox and the queues as they were.

A kernel finds its server by ``JPY_PARENT_PID``, which jupyter_client's launcher sets to the PID of the process that
starts the kernel; it counts as a Jupyter server when that process wrote its ``jpserver-PID.json`` into Jupyter's
runtime folder, or, on JupyterHub, when ``JUPYTERHUB_SERVICE_PREFIX`` is set and its command line is Jupyter's. A
kernel of nbclient (pytest, ``tools/editions.py``) has no server: nothing is tied.

Services that were already running when a server's kernel asked (started from a terminal, ``python -m support up``,
or a script) stay until ``down``; so do all of them once ``keep()`` was called. A second server whose kernel uses a
tied folder joins the tie: the services stop when the last of its servers has ended. ``course.down()`` unties
(``release``). What the watchdog cannot survive is its own SIGKILL (or its whole machine, container or cgroup
killed at once): then nothing stops the services, and the next start cleans up what is stale, as it always did.

The tie is one file in the state folder, ``server-watch.json``: the servers (PID and start time) and the watchdog.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from . import links, state
from .process_control import process_alive, spawn, stop_process
from .processes import stop_all

FILE = "server-watch.json"
NAME = "server-watch"  # the watchdog's name: its log is logs/server-watch.log
CHECK_EVERY = 1.0  # seconds between two looks at the tie file (a server's end is seen within 0.04 s: psutil)


def _path() -> Path:
    return state.home() / FILE


def read() -> dict[str, Any]:
    """The tie: ``{"servers": [[pid, started], ...], "watchdog": [pid, started] or None, "keep": bool}``."""
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        data = {}
    return {"servers": data.get("servers", []), "watchdog": data.get("watchdog"), "keep": bool(data.get("keep"))}


def _write(tie: dict[str, Any]) -> None:
    state.write_private(_path(), json.dumps(tie, sort_keys=True))


def kernel_server() -> psutil.Process | None:
    """The Jupyter server that started this kernel (``JPY_PARENT_PID``), or None: not a kernel, or its parent is
    no Jupyter server (nbclient under pytest, for example)."""
    try:
        pid = int(os.environ.get("JPY_PARENT_PID", ""))
        server = psutil.Process(pid)
    except (ValueError, psutil.Error):
        return None
    if any(info.get("pid") == pid for info in links.running_servers()):
        return server
    try:
        if os.environ.get("JUPYTERHUB_SERVICE_PREFIX") and "jupyter" in " ".join(server.cmdline()):
            return server
    except psutil.Error:
        pass
    return None


def _alive(pair: Any) -> bool:
    return bool(pair) and process_alive(int(pair[0]), float(pair[1]))


def tie(server: psutil.Process, started_here: bool, last: Sequence[str] = ()) -> bool:
    """Stop this state folder's services when `server` ends (and every other server tied to it has ended), `last`
    last (see ``processes.stop_all``). Only
    when this call's services were started here (`started_here`), or the folder is tied already: services that were
    running before are someone else's (a terminal's). True when the folder is tied to `server` now."""
    with state.locked():
        tie = read()
        servers = [pair for pair in tie["servers"] if _alive(pair)]
        if tie["keep"] or not (started_here or servers):
            return False
        me = [server.pid, server.create_time()]
        if not any(pair[0] == me[0] for pair in servers):
            servers.append(me)
        watchdog = tie["watchdog"] if _alive(tie["watchdog"]) else None
        if watchdog is None:  # it reads the file once we let go of the lock, which it waits for first
            proc = spawn(NAME, [sys.executable, "-m", "support.services.server_watch", *last])
            watchdog = [proc.pid, proc.create_time()]
        _write({"servers": servers, "watchdog": watchdog, "keep": False})
        return True


def keep() -> None:
    """Keep this state folder's services until ``down``, whatever server ends (``python -m support up``)."""
    with state.locked():
        _stop_watchdog(read())
        _write({"servers": [], "watchdog": None, "keep": True})


def release() -> None:
    """Untie the state folder and stop its watchdog (``course.down()`` calls it; a watchdog never stops itself)."""
    with state.locked():
        tie = read()
        if tie["servers"] or tie["watchdog"] or tie["keep"]:
            _stop_watchdog(tie)
            _path().unlink(missing_ok=True)


def _stop_watchdog(tie: dict[str, Any]) -> None:
    pair = tie["watchdog"]
    if _alive(pair) and int(pair[0]) != os.getpid():
        stop_process(int(pair[0]), float(pair[1]), timeout=2.0)


def watch(last: Sequence[str]) -> int:
    """The watchdog's loop: wait until no server of the tie runs, then stop every service of the state folder, `last`
    last. It ends without stopping anything when the tie is no longer its own (``down``, ``keep``, a newer
    watchdog)."""
    me = psutil.Process()
    with state.locked():  # held by ``tie`` until it has written this watchdog into the file
        pass
    while True:
        tie = read()
        if tie["keep"] or not tie["watchdog"] or int(tie["watchdog"][0]) != me.pid:
            print("The tie is not mine any more: nothing to stop", flush=True)
            return 0
        servers = []
        for pid, started in tie["servers"]:
            try:
                proc = psutil.Process(int(pid))
                if abs(proc.create_time() - float(started)) < 0.05:
                    servers.append(proc)
            except psutil.Error:
                continue
        if servers:
            psutil.wait_procs(servers, timeout=CHECK_EVERY)  # returns as soon as every one has ended
            continue
        with state.locked():
            tie = read()
            if tie["keep"] or not tie["watchdog"] or int(tie["watchdog"][0]) != me.pid:
                continue
            if any(_alive(pair) for pair in tie["servers"]):  # a server joined meanwhile
                continue
            _path().unlink(missing_ok=True)
            began = time.monotonic()
            stopped = stop_all(last)
        ended = [pair[0] for pair in tie["servers"]]
        print(
            f"Jupyter server(s) {ended} ended: stopped {', '.join(stopped) or 'nothing'} "
            f"({time.monotonic() - began:.2f} s)",
            flush=True,
        )
        return 0


if __name__ == "__main__":
    sys.exit(watch(sys.argv[1:]))
