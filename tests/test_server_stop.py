"""The course's services stop with the Jupyter server that started them (``support.services.server_watch``).

First the tie itself, with a stand-in for the server (a process the test kills with SIGKILL: the one signal a
server cannot act on, which the watchdog sees all the same); then the real thing: JupyterLab started as ``make lab``
starts it, a kernel of it runs ``course.up(...)``, a mail is caught and a queue filled, and the server is stopped as
Ctrl+C stops it (SIGINT to make's process group) or as a hub, its idle culler or systemd stop it (SIGTERM to the
server). Within 10 s no process of that state folder is left (the course's own process listing), and the next start
finds the inbox and the queue as they were.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from test_lab_start import make_lab

from support.services import app, course, inbox, processes, redis_server, server_watch, state

pytestmark = pytest.mark.slow  # services started and stopped, a JupyterLab: not in make test-fast

STOPPED_WITHIN = 10.0  # seconds from the server's end to no course process of its state folder


def processes_of(home: Path) -> list[psutil.Process]:
    """Every process the course started for the state folder `home` (support's own listing)."""
    found = []
    for proc in processes.course_processes():
        try:
            if proc.environ().get("COURSE_HOME") == str(home):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def seconds_until_none_left(home: Path, since: float) -> float:
    """Seconds from `since` until no course process of `home` runs; fails after STOPPED_WITHIN seconds."""
    gone = processes.wait_until(lambda: not processes_of(home), STOPPED_WITHIN + (since - time.monotonic()), 0.05)
    left = [f"{p.pid}: {' '.join(p.cmdline())[:100]}" for p in processes_of(home)]
    assert gone, f"still running {STOPPED_WITHIN:.0f} s after the server ended:\n  " + "\n  ".join(left)
    return time.monotonic() - since


def fill(marker: str) -> None:
    """A caught mail (through Work-It's form) and a queue with two entries."""
    assert app.post_thought(f"{marker}@example.com", "kept?")["status"] == 200
    redis_server.connect().rpush(f"{marker}:queue", "one", "two")


def as_it_was(marker: str) -> None:
    """The next start finds the mail and the queue (Redis read them back from its append-only file)."""
    course.up("redis", "catcher", quiet=True)
    assert len(inbox.to_address(f"{marker}@example.com")) == 1
    assert redis_server.connect().lrange(f"{marker}:queue", 0, -1) == [b"one", b"two"]


# --- the tie, with a stand-in for the server -------------------------------------------------------------------


def test_the_services_stop_when_the_server_is_killed_and_come_back_with_their_data(course_home: Path) -> None:
    course.up("redis", "catcher", "app", delay=0, quiet=True)
    fill("tie")
    server = subprocess.Popen(["sleep", "600"])
    try:
        assert server_watch.tie(psutil.Process(server.pid), started_here=True)
        watchdog = server_watch.read()["watchdog"]
        assert processes.process_alive(*watchdog)
        began = time.monotonic()
        server.kill()  # SIGKILL: the server gets no say; the watchdog sees it gone all the same
        server.wait()
        took = seconds_until_none_left(course_home, began)
        print(f"\nServer killed (SIGKILL): no course process left after {took:.2f} s")
    finally:
        server.kill()
        server.wait()
    assert state.read() == {} and not (course_home / server_watch.FILE).exists()
    redis_log = (course_home / "logs" / "redis.log").read_text()
    assert "Calling fsync() on the AOF file" in redis_log.split("Received SIGTERM")[-1]  # its clean shutdown
    as_it_was("tie")


def test_services_that_were_running_before_and_kept_ones_are_not_tied(course_home: Path) -> None:
    course.up("redis", quiet=True)  # started outside any server: a terminal's python -m support up
    server = subprocess.Popen(["sleep", "600"])
    try:
        assert not server_watch.tie(psutil.Process(server.pid), started_here=False)
        assert server_watch.tie(psutil.Process(server.pid), started_here=True)
        server_watch.keep()  # python -m support up: kept until down, whatever server ends
        assert server_watch.read() == {"servers": [], "watchdog": None, "keep": True}
        assert not server_watch.tie(psutil.Process(server.pid), started_here=True)
        server.kill()
        server.wait()
        time.sleep(1.5)  # longer than the watchdog's look (CHECK_EVERY): none runs, nothing may stop
        assert [p.environ()[processes.SERVICE_MARK] for p in processes_of(course_home)] == ["redis"]
    finally:
        server.kill()
        server.wait()
    course.down()
    assert not (course_home / server_watch.FILE).exists()


# --- the real thing: make lab, a kernel, Ctrl+C or SIGTERM --------------------------------------------------------


def run_in_new_kernel(url: str, runtime: Path, code: str) -> str:
    """Start a kernel through the server's REST API (the server launches it, as for a notebook) and run `code` in
    it; its stdout."""
    from jupyter_client import BlockingKernelClient

    base, token = url.split("/lab", 1)[0], url.split("token=", 1)[1]
    request = urllib.request.Request(
        f"{base}/api/kernels", data=b"{}", method="POST", headers={"Authorization": f"token {token}"}
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=60) as answer:
        kernel_id = json.loads(answer.read())["id"]
    client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.hb_channel.time_to_dead = 10.0  # a loaded machine delays heartbeats: not "Kernel died" after 1 s
    client.start_channels()
    try:
        client.wait_for_ready(timeout=90)
        out: list[str] = []
        reply = client.execute_interactive(
            code,
            timeout=120,
            output_hook=lambda msg: (
                out.append(msg["content"].get("text", ""))
                if msg["msg_type"] == "stream"
                else out.append(json.dumps(msg["content"]))
                if msg["msg_type"] == "error"
                else None
            ),
        )
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)
    finally:
        client.stop_channels()


KERNEL_CODE = """
from support.services import app, course, redis_server, server_watch
course.up("redis", "catcher", "app", delay=0, quiet=True)
assert app.post_thought("lab@example.com", "kept?")["status"] == 200
redis_server.connect().rpush("lab:queue", "one", "two")
print(server_watch.read()["servers"][0][0], server_watch.kernel_server().pid)
"""


@pytest.mark.parametrize("how", ["Ctrl+C on make lab", "SIGTERM to the server"])
def test_make_lab_stopped_leaves_no_course_process(course_home: Path, tmp_path: Path, how: str) -> None:
    runtime = tmp_path / "runtime"  # make_lab's JUPYTER_RUNTIME_DIR: the server's jpserver-PID.json, the kernels'
    with make_lab("lab", tmp_path) as url:
        (info,) = [json.loads(f.read_text()) for f in runtime.glob("jpserver-*.json")]
        server = psutil.Process(info["pid"])
        make = server.parent()
        assert make is not None and make.name() == "make"
        tied, found = run_in_new_kernel(url, runtime, KERNEL_CODE).split()
        assert int(tied) == int(found) == server.pid, "the kernel's course is tied to the server of make lab"
        assert len(processes_of(course_home)) == 4  # Redis, the catcher, the app, the watchdog
        began = time.monotonic()
        if how.startswith("Ctrl+C"):
            os.killpg(make.pid, signal.SIGINT)  # what a terminal sends its foreground process group
        else:
            server.send_signal(signal.SIGTERM)
        server.wait(30)
        server_took = time.monotonic() - began
        took = seconds_until_none_left(course_home, began)
        print(f"\n{how}: the server ended after {server_took:.2f} s, no course process left after {took:.2f} s")
    log = (course_home / "logs" / "server-watch.log").read_text()
    assert f"Jupyter server(s) [{server.pid}] ended: stopped app, catcher, redis" in log, log
    as_it_was("lab")
