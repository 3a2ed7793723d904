"""What Work-It's export page costs (notebook 08): polling the status URL versus Server-Sent Events.

    .venv/bin/python benchmarks/results_page.py

Measures, against a real Redis, a real worker and the real Work-It process: how many status requests a page makes
per export at several poll intervals; what one status request costs (round trip at the client, the app's own time
from its log, Redis commands); for Server-Sent Events: what an open stream does to Work-It (one request at a
time) and how many threads a threaded dev server spends on open streams. Then, in a real Jupyter server under a
hub's base URL (jupyter-server-proxy loads with it): a status request's round trip through the proxy, and, for the
stream of a 3 s export, how late each event arrives after the app sent it (each event carries ``sent_at``), read
directly and through the proxy by a real ``EventSource`` in Debian's headless Chromium (driven by Playwright, as the
browser tests do), by Python with ``Accept: text/event-stream`` (the header ``EventSource`` sends), and by Python
without it. jupyter-server-proxy 4.6.0 (``handlers.py``, ``ProxyHandler.proxy``) streams a request whose Accept
header is exactly ``text/event-stream`` (``_proxy_progressive``) and buffers every other one (``_proxy_buffered``).
The last line printed is one JSON object.
Runs in a temporary state folder, stops everything it started (by PID) and removes its folders.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


BASE_URL = "/user/learner/"  # JupyterHub's layout, as tests/lab_server.py uses
TERMINAL = ("finished", "failed", "stopped", "canceled", "expired")
# What a page's EventSource does: open the stream, note when each event arrives (the page's clock, ms since the
# epoch), close it at the export's end (an EventSource whose stream ends would reconnect).
EVENTSOURCE_JS = """(url) => new Promise((resolve) => {
  const events = [], source = new EventSource(url);
  const done = (error) => { source.close(); resolve({events, error}); };
  source.onmessage = (e) => {
    const answer = JSON.parse(e.data);
    events.push({arrived: performance.timeOrigin + performance.now(), sent: answer.sent_at * 1000,
                 state: answer.state});
    if (%s.includes(answer.state)) done(null);
  };
  source.onerror = () => done("the stream failed or ended early");
  setTimeout(() => done("no end within 30 s"), 30000);
})""" % json.dumps(list(TERMINAL))


@contextmanager
def jupyter_server(base_url: str = BASE_URL) -> Iterator[tuple[str, str]]:
    """A Jupyter server of its own (jupyter-server-proxy loads with it), on a scratch folder, under `base_url`;
    yields its address (with the base URL) and token, and stops it by its PID afterwards."""
    import requests

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
        f"--ServerApp.base_url={base_url}",
    ]
    argv += ["--allow-root"] if os.geteuid() == 0 else []
    server = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}{base_url}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if requests.get(f"{url}api/status", headers={"Authorization": f"token {token}"}, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the Jupyter server did not answer within 60 s")
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """Debian's Chromium (never a downloaded one), headless, driven by Playwright as tests/conftest.py does; closed
    afterwards, and any Chromium process of ours still running then is killed by its PID."""
    import psutil
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM_ARGS, NOT_INSTALLED, find_chromium  # tests/browser.py: where Chromium is

    program = find_chromium()
    if program is None:
        raise RuntimeError(NOT_INSTALLED)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=program, headless=True, args=CHROMIUM_ARGS)
        ours = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]
        try:
            yield browser
        finally:
            browser.close()
            for proc in ours:
                try:
                    proc.wait(5)
                except psutil.TimeoutExpired:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass


def delays(events: list[dict[str, float]]) -> dict[str, float]:
    """From events with ``sent`` and ``arrived`` (ms since the epoch, one clock): how many, and how late."""
    late = [e["arrived"] - e["sent"] for e in events]
    return {
        "events": len(events),
        "delay_ms_median": round(statistics.median(late), 1),
        "delay_ms_max": round(max(late), 1),
        "first_arrived_s_after_open": round((events[0]["arrived"] - events[0]["opened"]) / 1000, 2),
        "last_sent_s_after_first_sent": round((events[-1]["sent"] - events[0]["sent"]) / 1000, 2),
        "last_arrived_s_after_first_arrived": round((events[-1]["arrived"] - events[0]["arrived"]) / 1000, 2),
    }


def python_stream(url: str, headers: dict[str, str]) -> list[dict[str, float]]:
    """Read an SSE stream from Python (requests, stream=True), noting when each ``data:`` line arrives."""
    import requests

    events = []
    opened = 1000 * time.time()
    with requests.get(url, headers=headers, stream=True, timeout=60) as response:
        for line in response.iter_lines(chunk_size=1):
            if line.startswith(b"data:"):
                answer = json.loads(line[5:])
                events.append({"opened": opened, "arrived": 1000 * time.time(), "sent": 1000 * answer["sent_at"]})
    return events


def browser_stream(browser: Any, root: str, url: str, headers: dict[str, str]) -> tuple[list[dict], str]:
    """A real EventSource in a page of `root`'s origin reads `url`; the events' times, and the Accept header the
    browser sent for the stream (as Chromium put it on the wire)."""
    context = browser.new_context(extra_http_headers=headers)  # the tokens: Jupyter's and the course's
    try:
        page = context.new_page()
        page.goto(f"{root}/health")
        with page.expect_request(lambda request: "/events" in request.url) as sent:
            opened = 1000 * time.time()
            answer = page.evaluate(EVENTSOURCE_JS, url)
        accept = sent.value.all_headers().get("accept", "")
    finally:
        context.close()
    if answer["error"]:
        raise RuntimeError(f"EventSource: {answer['error']} ({len(answer['events'])} events)")
    return [{**e, "opened": opened} for e in answer["events"]], accept


def through_jupyter_proxy(results, app_port: int) -> dict[str, Any]:
    """Through jupyter-server-proxy in a real Jupyter server under a hub's base URL, and directly: one status
    request's round trip, and, for an SSE stream of a 3 s export, when each event arrives against when the app sent
    it: read by a real EventSource in Chromium, by Python with ``Accept: text/event-stream`` (what EventSource sends),
    and by Python without it (what this benchmark did before: the proxy then buffers the whole answer)."""
    import requests

    from support.services import access

    figures: dict[str, Any] = {}
    direct = f"http://127.0.0.1:{app_port}"
    with jupyter_server() as (jupyter, token):
        headers = {"Authorization": f"token {token}", **access.headers()}
        proxied = f"{jupyter}proxy/127.0.0.1:{app_port}"
        links = results.start_export(thoughts="x", steps=1, step_delay=0)
        results.poll_like_the_page(links["status_url"], 0.05)
        rounds = []
        for _ in range(50):
            t0 = time.perf_counter()
            requests.get(f"{proxied}/{links['status_url']}", headers=headers, timeout=30).raise_for_status()
            rounds.append(time.perf_counter() - t0)
        figures["status_round_trip_ms_median_through_jupyter_proxy"] = round(1000 * statistics.median(rounds), 2)
        sse = {"Accept": "text/event-stream"}
        runs: list[tuple[str, Any]] = [
            ("python_direct", lambda root, url: python_stream(url, {**headers, **sse})),
            ("python_proxy_accept_event_stream", lambda root, url: python_stream(url, {**headers, **sse})),
            ("python_proxy_no_accept_header", lambda root, url: python_stream(url, headers)),
        ]
        with headless_chromium() as browser:

            def in_browser(root: str, url: str) -> list[dict]:
                events, accept = browser_stream(browser, root, url, headers)
                figures.setdefault("chromium_eventsource_accept_header", accept)
                return events

            runs += [("chromium_direct", in_browser), ("chromium_proxy", in_browser)]
            for name, read in runs:
                root = direct if name.endswith("direct") else proxied
                links = results.start_export(**EXPORT)
                events = read(root, f"{root}/exports/{links['job_id']}/events")
                for key, value in delays(events).items():
                    figures[f"sse_{name}_{key}"] = value
    return figures


def main() -> int:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the threaded server would log every stream
    home = os.environ["COURSE_HOME"] = tempfile.mkdtemp(prefix="results-page-")
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
        shutil.rmtree(home, ignore_errors=True)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
