"""One process of this machine as the course handles it: started detached, in a session of its own, with the
course's environment and mark (``spawn``, ``course_env``, ``SERVICE_MARK``); told apart from a later process that
reuses its PID (``process_alive``: PID *and* start time); stopped with whatever it left behind (``stop_process``);
and ``wait_until``, the course's one polling loop. ``processes`` records these processes as the course's services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

import psutil

from . import state

SERVICE_MARK = "COURSE_SERVICE"  # environment variable set in every process the course starts


def process_alive(pid: int, started: float) -> bool:
    """True when `pid` runs and is the very process that was started at `started` (not a reused PID)."""
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < 0.05 and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def spawn(name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> psutil.Process:
    """Start the service `name` as `argv`, detached from this process (own session), its output appended to
    its log file. Its environment carries ``COURSE_SERVICE=name``, which is how `course_processes` finds it, and
    `env`'s entries (a secret goes there, never into `argv`: any user can read a command line, only its owner a
    process's environment). Whatever it creates is private to its user (umask 077)."""
    log_file = state.log_path(name)
    full_env = {**course_env(), **(env or {})}
    full_env[SERVICE_MARK] = name
    with open(log_file, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
            close_fds=True,
            umask=state.SERVICE_UMASK,
        )
    # Nobody will wait() for this child if our process lives on: let a watcher thread reap it when it exits.
    _reap_later(popen)
    return psutil.Process(popen.pid)


def _reap_later(popen: subprocess.Popen) -> None:
    import threading

    threading.Thread(target=popen.wait, name=f"reap-{popen.pid}", daemon=True).start()


def _ended(proc: psutil.Process) -> bool:
    """True when `proc` has exited (a zombie waiting to be reaped by its parent counts as exited)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def stop_process(pid: int, started: float, timeout: float = 5.0) -> bool:
    """Stop our process `pid` (SIGTERM, then SIGKILL after `timeout`). False when it was not running."""
    if not process_alive(pid, started):
        return False
    proc = psutil.Process(pid)
    children: list[psutil.Process] = []
    try:
        children = proc.children(recursive=True)  # a worker's work horse and scheduler, for example
        proc.send_signal(signal.SIGTERM)
        if not wait_until(lambda: _ended(proc), timeout, 0.02):
            proc.kill()
            wait_until(lambda: _ended(proc), timeout, 0.02)
    except psutil.NoSuchProcess:
        pass
    for child in children:  # whatever the process left behind when it ended
        try:
            child.kill()
        except psutil.Error:
            pass
    return True


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll `check` until it returns True or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def course_env() -> dict[str, str]:
    """The environment for a child service: ours, with the state folder made explicit."""
    env = dict(os.environ)
    env["COURSE_HOME"] = str(state.home())
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
