"""What Work-It's export page costs (notebook 08): polling the status URL versus Server-Sent Events.

    python benchmarks/results_page.py

Measures, against a real Redis, a real worker and the real Work-It process: how many status requests a page makes
per export at several poll intervals; what one status request costs (round trip at the client, the app's own time
from its log, Redis commands); for Server-Sent Events: what an open stream does to Work-It (one request at a
time) and how many threads a threaded dev server spends on open streams; and both through jupyter-server-proxy in a
real Jupyter server (a status request's round trip; when the stream's events arrive, directly and through it). The last
line printed is one JSON object.
Runs in a temporary state folder and stops everything it started.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from figures import print_figures  # benchmarks/figures.py, next to this script

ROOT = Path(__file__).resolve().parent.parent
EXPORT = {"thoughts": "one\ntwo\nthree", "steps": 10, "step_delay": 0.3}  # a 3 s export


def polls_per_export(results, interval: float) -> tuple[int, float]:
    """Status requests one page makes for a 3 s export when it asks every `interval` s, and the export's length."""
    links = results.start_export(**EXPORT)
    run = results.poll_like_the_page(links["status_url"], interval)
    assert run.answer["state"] == "finished", run.answer
    return run.requests, run.seconds


def app_seconds(log: Path, since: int) -> list[float]:
    """The app's own durations of the status requests it logged after byte `since` of its log."""
    text = log.read_bytes()[since:].decode(errors="replace")
    return [float(s) for s in re.findall(r"GET /exports/\S+/status \d+ ([\d.]+)s", text)]


def sse_blocks_workit(results, app_url: str, headers: dict) -> float:
    """Seconds a GET /health waits at Work-It while one SSE stream of a 3 s export is open."""
    import requests

    links = results.start_export(**EXPORT)
    opened = threading.Event()

    def stream() -> None:
        with requests.get(
            f"{app_url}/exports/{links['job_id']}/events", headers=headers, stream=True, timeout=60
        ) as response:
            opened.set()
            for _ in response.iter_lines():
                pass

    reader = threading.Thread(target=stream)
    reader.start()
    opened.wait(30)
    t0 = time.perf_counter()
    requests.get(f"{app_url}/health", headers=headers, timeout=60)
    waited = time.perf_counter() - t0
    reader.join(60)
    return waited


def threads_for_open_streams(results, streams: int) -> int:
    """Threads a threaded werkzeug server (``threaded=True``) adds while `streams` SSE streams are open."""
    from rq.job import Job
    from werkzeug.serving import make_server

    from support.rq_helpers import queues
    from support.services import access
    from support.services.guard import protect
    from support.workit.web import create_app

    links = results.start_export(thoughts="x", steps=2, step_delay=0, hold_at=1)
    job = Job.fetch(links["job_id"], connection=queues.connection())
    results.wait_for_step(job, 1)  # held: every stream stays open
    server = make_server("127.0.0.1", 0, protect(create_app("background", 0)), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = threading.active_count()
    socks = []
    for _ in range(streams):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(
            f"GET /exports/{job.id}/events HTTP/1.1\r\nHost: x\r\n{access.HEADER}: {access.token()}\r\n\r\n".encode()
        )
        s.recv(100)  # the headers: the stream is open
        socks.append(s)
    added = threading.active_count() - before
    results.release(job)
    for s in socks:
        s.close()
    server.shutdown()
    return added


def through_jupyter_proxy(results, app_port: int) -> dict[str, float]:
    """Both ways through jupyter-server-proxy (a real Jupyter server, as on a hub): one status request's round trip,
    and when each SSE event of a 3 s export arrives (a proxy that buffers would deliver them all at the end)."""
    import secrets
    import subprocess

    import requests

    from support.services import access
    from support.services.ports import free_port

    port, token = free_port(), secrets.token_hex(16)
    scratch = Path(tempfile.mkdtemp(prefix="results-page-jupyter-"))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "JUPYTER_CONFIG_DIR": str(scratch / "config")}
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "server",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={scratch}",
    ]
    argv += ["--allow-root"] if os.geteuid() == 0 else []
    server = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    headers = {"Authorization": f"token {token}", **access.headers()}
    base = f"http://127.0.0.1:{port}/proxy/127.0.0.1:{app_port}"
    figures: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/health", headers=headers, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        links = results.start_export(thoughts="x", steps=1, step_delay=0)
        results.poll_like_the_page(links["status_url"], 0.05)
        rounds = []
        for _ in range(50):
            t0 = time.perf_counter()
            requests.get(f"{base}/{links['status_url']}", headers=headers, timeout=30).raise_for_status()
            rounds.append(time.perf_counter() - t0)
        figures["status_round_trip_ms_median_through_jupyter_proxy"] = round(1000 * statistics.median(rounds), 2)
        for where, root in (("direct", f"http://127.0.0.1:{app_port}"), ("through_jupyter_proxy", base)):
            links = results.start_export(**EXPORT)
            t0 = time.perf_counter()
            arrivals = []
            with requests.get(
                f"{root}/exports/{links['job_id']}/events", headers=headers, stream=True, timeout=60
            ) as response:
                for line in response.iter_lines(chunk_size=1):
                    if line.startswith(b"data:"):
                        arrivals.append(time.perf_counter() - t0)
            figures[f"sse_events_{where}"] = len(arrivals)
            figures[f"sse_first_event_s_{where}"] = round(arrivals[0], 2)
            figures[f"sse_last_event_s_{where}"] = round(arrivals[-1], 2)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
    return figures


def main() -> int:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the threaded server would log every stream
    os.environ["COURSE_HOME"] = tempfile.mkdtemp(prefix="results-page-")
    from support.lessons import results
    from support.rq_helpers import queues, workers
    from support.services import access, course, state

    figures: dict[str, float | int] = {}
    try:
        started = course.up("redis", "app", delivery="background", delay=0, quiet=True)
        worker = workers.start_worker(["default"], with_scheduler=False)
        for interval in (0.1, 0.5, 2.0):
            count, seconds = polls_per_export(results, interval)
            figures[f"status_requests_per_3s_export_at_{int(interval * 1000)}ms"] = count
            if interval == 0.5:
                figures["export_watched_at_500ms_s"] = round(seconds, 2)
        workers.stop_worker(worker)  # no worker: the Redis command count below is the status requests' alone
        links = results.start_export(thoughts="x", steps=1, step_delay=0)
        log = state.log_path("app")
        since = log.stat().st_size
        rounds: list[float] = []
        for _ in range(100):
            t0 = time.perf_counter()
            results.ask_status(links["status_url"])
            rounds.append(time.perf_counter() - t0)
        figures["status_round_trip_ms_median"] = round(1000 * statistics.median(rounds), 2)
        time.sleep(0.2)  # the app's log line is written after the answer
        figures["status_app_ms_median"] = round(1000 * statistics.median(app_seconds(log, since)), 2)
        figures["redis_commands_per_status_request_queued"] = results.commands_per_status_request(
            queues.connection(), links["status_url"], 50
        )
        worker = workers.start_worker(["default"], with_scheduler=False)
        done = results.start_export(thoughts="x", steps=1, step_delay=0)
        results.poll_like_the_page(done["status_url"], 0.05)
        workers.stop_worker(worker)
        figures["redis_commands_per_status_request_finished"] = results.commands_per_status_request(
            queues.connection(), done["status_url"], 50
        )
        worker = workers.start_worker(["default"], with_scheduler=False)
        figures["workit_health_wait_s_while_one_sse_stream_open"] = round(
            sse_blocks_workit(results, started["app"].url, access.headers()), 2
        )
        figures["threads_added_by_20_sse_streams_threaded_server"] = threads_for_open_streams(results, 20)
        figures.update(through_jupyter_proxy(results, started["app"].port))
        workers.stop_worker(worker)
    finally:
        course.down()
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
