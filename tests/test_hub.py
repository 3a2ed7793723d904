"""The course on a real JupyterHub: two learners through the hub, and nothing left running when a server stops.

JupyterHub 6 (requirements-test.txt) with configurable-http-proxy from npm (``make hub-proxy``, into the venv),
``LocalProcessSpawner`` and JupyterHub's own ``SharedPasswordAuthenticator`` (test-only: one password, two allowed
users). Two throwaway Unix users (as tests/test_two_learners.py makes them); each one's server runs this checkout's
venv (``jupyterhub-singleuser``, JupyterLab, jupyter-server-proxy, the course) on a copy of the learner edition in
their home, with their state folder in ``~/course``.

Chromium logs learner A in through the hub's login page, which starts their server; in
``/user/A/lab/tree/notebooks/01_slow_request.ipynb`` it runs the first cells, follows *Open the Work-It app*
(``/user/A/proxy/127.0.0.1:PORT/``), submits the form and sees the mail in the inbox widget. Learner B, logged in
too, tries A's URLs on the hub and A's services through B's own server: every attempt and what it got is printed.
Then the test stops A's server through the hub's REST API, as the idle culler does: within 10 s no process of A's
course is left; A's server started again brings the course back, inbox and queue as they were.

Needs root (Unix users), npm's configurable-http-proxy and Chromium; skipped otherwise, saying which is missing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from lab_page import NotebookPage
from lab_scripts import FIND_JS
from lab_server import REPO, copy_notebooks, free_port
from test_server_stop import STOPPED_WITHIN, processes_of
from test_two_learners import Learner, reachable_by_others, unix_user

from support.services import processes, state

BIN = Path(sys.prefix) / "bin"
PROXY = Path(sys.prefix) / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


def _missing() -> str | None:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        return "needs root and useradd to create two Unix users (CI runs as root)"
    if shutil.which("node") is None or not PROXY.exists():
        return f"needs Node and configurable-http-proxy in {PROXY.parents[2]} (make hub-proxy; Debian: nodejs npm)"
    if not (BIN / "jupyterhub").exists():
        return "needs jupyterhub (requirements-test.txt)"
    return None


pytestmark = [pytest.mark.skipif(_missing() is not None, reason=_missing() or ""), pytest.mark.slow]

PASSWORD = secrets.token_hex(12)
SERVICE = "culler-stand-in"  # a hub service with the idle culler's rights: list users, stop and start servers


def hub_config(scratch: Path, port: int, users: list[str], token: str) -> str:
    """jupyterhub_config.py for this test: everything on 127.0.0.1, state in `scratch`."""
    return f"""
import pwd
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.JupyterHub.db_url = "sqlite:///{scratch}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{scratch}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{scratch}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{str(BIN / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--LabApp.expose_app_in_browser=True"]  # the test drives JupyterLab through its JS API
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {{"COURSE_HOME": lambda spawner: pwd.getpwnam(spawner.user.name).pw_dir + "/course"}}
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.JupyterHub.cleanup_servers = False  # at the end the test removes the users with every process they run
c.JupyterHub.services = [{{"name": "{SERVICE}", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "{SERVICE}", "services": ["{SERVICE}"],
                             "scopes": ["list:users", "read:users", "admin:servers"]}}]
"""


class Hub:
    """JupyterHub started for the test; ``stop()`` ends it, its proxy and every server it spawned."""

    def __init__(self, scratch: Path, users: list[Learner]) -> None:
        self.scratch, self.users = scratch, users
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.log_path = scratch / "jupyterhub.log"
        self.proc: subprocess.Popen | None = None
        self.children: list[psutil.Process] = []

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def start(self, timeout: float = 60) -> Hub:
        config = self.scratch / "jupyterhub_config.py"
        config.write_text(hub_config(self.scratch, self.port, [u.name for u in self.users], self.token))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "COURSE_", "REDIS_URL"))}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(config)],
                cwd=self.scratch,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.api("GET", "/users", timeout=5)[0] == 200:  # through the proxy, once it routes to the hub
                    self.children = psutil.Process(self.proc.pid).children(recursive=True)  # the proxy
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"JupyterHub did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
        """The hub's REST API with the culler stand-in's token: (status, JSON answer or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url("hub/api/" + path.lstrip("/")),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def server(self, name: str) -> dict[str, Any] | None:
        status, user = self.api("GET", f"/users/{name}")
        assert status == 200, user
        return user["servers"].get("")

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(name)
            if server and server.get("ready"):
                return
            time.sleep(0.25)
        raise AssertionError(f"{name}'s server was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def stop_server(self, name: str, timeout: float = 60) -> None:
        """DELETE /users/NAME/server, as jupyterhub-idle-culler does; returns once the hub says it has stopped."""
        status, answer = self.api("DELETE", f"/users/{name}/server")
        assert status in (202, 204), (status, answer)
        deadline = time.monotonic() + timeout
        while self.server(name) is not None and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:  # the hub stops its proxy; the users' servers go with the users (unix_user)
            try:
                self.children += psutil.Process(self.proc.pid).children(recursive=True)
            except psutil.Error:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for child in self.children:  # by PID, as psutil found them
            try:
                if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                    child.kill()
            except psutil.Error:
                pass


def give_course(learner: Learner) -> None:
    """The learner edition in the learner's home, owned by them (their server's root folder is ``~``)."""
    copy_notebooks(REPO / "notebooks", learner.home / "notebooks")
    for folder, _dirs, files in os.walk(learner.home):
        os.chown(folder, learner.uid, learner.gid)
        for name in files:
            os.chown(Path(folder) / name, learner.uid, learner.gid)


def log_in(context: Any, hub: Hub, learner: Learner) -> Any:
    """The hub's login page, filled in and sent as a learner does; the page afterwards."""
    page = context.new_page()
    page.goto(hub.url("hub/login"))
    page.fill("#username_input", learner.name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_load_state()
    assert "/hub/login" not in page.url, f"{learner.name} was not logged in: {page.url}"
    return page


def open_lab(page: Any, hub: Hub, path: str, timeout: float = 120) -> None:
    """Open `path` under the learner's server (the hub starts it when it is not running), until JupyterLab is up."""
    page.goto(hub.url(path), timeout=timeout * 1000)
    page.wait_for_function(
        "() => !!(window.jupyterapp && window.jupyterapp.shell"
        " && window.jupyterapp.commands.hasCommand('docmanager:open'))",
        timeout=timeout * 1000,
        polling=200,
    )
    page.evaluate("async () => { await window.jupyterapp.restored; }")


RUN_IN_KERNEL_JS = """async (code) => {
  const kernels = window.jupyterapp.serviceManager.kernels;
  const kernel = await kernels.startNew({name: 'python3'});
  let out = '';
  try {
    const future = kernel.requestExecute({code});
    future.onIOPub = (msg) => {
      if (msg.header.msg_type === 'stream') out += msg.content.text;
      if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
    };
    await future.done;
  } finally { await kernel.shutdown(); }
  return out;
}"""


RUN_CELL_JS = (
    "([path, index]) => { "
    + FIND_JS
    + " w.content.activeCellIndex = index; window.jupyterapp.commands.execute('notebook:run-cell'); }"
)


def run_in_kernel(page: Any, code: str) -> str:
    """Run `code` in a new kernel of the learner's server (JupyterLab's own kernel API); its output."""
    out = page.evaluate(RUN_IN_KERNEL_JS, code)
    assert "ERROR" not in out, out
    return out


QUEUE_AND_TIE = """
from support.services import course, redis_server, server_watch
course.up("redis", quiet=True)
redis_server.connect().rpush("hub:queue", "one", "two")
print(server_watch.read()["servers"][0][0] == server_watch.kernel_server().pid)
"""

AS_IT_WAS = """
from support.services import course, inbox, redis_server
course.up("redis", "catcher", quiet=True)
print(len(inbox.to_address("{email}")), redis_server.connect().lrange("hub:queue", 0, -1))
"""


def learner_b_tries(page: Any, hub: Hub, a: str, b: str, ports: dict[str, int]) -> list[tuple[str, int, str]]:
    """What B tries with B's own login: A's server through the hub, and A's services through B's server. Each
    attempt: (what, HTTP status, where it ended and what the page says first)."""
    tries: list[tuple[str, str, str]] = [
        ("GET", f"user/{a}/lab", "A's JupyterLab"),
        ("GET", f"user/{a}/lab/tree/notebooks/01_slow_request.ipynb", "A's notebook"),
        ("GET", f"user/{a}/api/contents/notebooks", "A's files (Jupyter's REST API)"),
        ("GET", f"user/{a}/api/contents/notebooks TOKEN", "A's files, with B's own API token"),
        ("POST", f"user/{a}/api/kernels TOKEN", "a kernel on A's server, with B's own API token"),
        ("GET", f"user/{a}/proxy/127.0.0.1:{ports['app']}/", "A's Work-It through A's server"),
        ("GET", f"user/{a}/terminals/websocket/1", "A's terminal"),
        ("GET", f"hub/api/users/{a}", "A's record in the hub's API"),
        ("GET", f"hub/api/users/{a} TOKEN", "the same, with B's own API token"),
        ("POST", f"hub/api/users/{a}/server TOKEN", "start A's server through the hub's API, with B's token"),
        ("DELETE", f"hub/api/users/{a}/server TOKEN", "stop A's server through the hub's API, with B's token"),
        ("GET", f"user/{b}/proxy/127.0.0.1:{ports['app']}/", "A's Work-It through B's own server"),
        ("GET", f"user/{b}/proxy/127.0.0.1:{ports['app']}/?course_token=guess", "the same, with a guessed key"),
        ("POST", f"user/{b}/proxy/127.0.0.1:{ports['app']}/mailers", "A's Work-It form, posted through B's server"),
        ("GET", f"user/{b}/proxy/127.0.0.1:{ports['redis']}/", "A's Redis through B's server"),
    ]
    token = run_in_kernel(page, "import os; print(os.environ['JUPYTERHUB_API_TOKEN'])").strip()  # B's server's
    results = []
    for method, where, what in tries:
        path, _, auth = where.partition(" ")
        answer = page.request.fetch(
            hub.url(path),
            method=method,
            headers={"Authorization": f"token {token}"} if auth else None,
            max_redirects=10,
            fail_on_status_code=False,
            timeout=30_000,
            form={"email": "b@example.com", "thought": "from b"} if path.endswith("/mailers") else None,
        )
        text = re.sub(r"\s+", " ", answer.text())[:90] if "html" in answer.headers.get("content-type", "") else ""
        text = text or answer.text()[:90].replace("\n", " ")
        results.append((f"{method} /{path} ({what})", answer.status, f"at {answer.url.split('?')[0]}: {text}"))
    return results


def test_two_learners_through_the_hub_and_a_culled_server_leaves_nothing(chromium: Any, tmp_path: Path) -> None:
    began = time.monotonic()
    laps: list[str] = []

    def lap(what: str) -> None:
        laps.append(f"{time.monotonic() - began:6.1f} s  {what}")

    python = Path(sys.executable)
    with (
        reachable_by_others(state.REPO_ROOT, python.parent, python.resolve().parent),
        unix_user("a") as a,
        unix_user("b") as b,
    ):
        for learner in (a, b):
            give_course(learner)
        hub = Hub(tmp_path, [a, b])
        contexts = []
        try:
            hub.start()
            lap("users made, hub up")
            status, answer = hub.api("POST", f"/users/{b.name}/server")  # B's server starts meanwhile (one wait less)
            assert status in (201, 202), (status, answer)
            # Learner A: log in, the hub starts their server; 01's first cells, the Work-It link, the form, the inbox.
            context_a = chromium.new_context(viewport={"width": 1400, "height": 1000})
            contexts.append(context_a)
            context_a.set_default_timeout(60_000)
            page = log_in(context_a, hub, a)
            lap("A logged in")
            notebook_path = "notebooks/01_slow_request.ipynb"
            open_lab(page, hub, f"user/{a.name}/lab/tree/{notebook_path}")
            lap("A's server started, 01 open")
            nb = NotebookPage(SimpleNamespace(page=page, lab=None, console_errors=[]), notebook_path)  # type: ignore[arg-type]
            nb.wait_ready(90)
            lap("kernel idle")
            nb.run_until("WorkItForm()", timeout=120)
            lap("01's first cells ran")
            link = page.locator(".course-links a", has_text="Work-It").first
            href = link.get_attribute("href") or ""
            assert href.startswith(f"/user/{a.name}/proxy/127.0.0.1:"), href
            with context_a.expect_page() as opened:
                link.click()
            app_page = opened.value
            app_page.wait_for_load_state()
            assert app_page.url.startswith(hub.url(f"user/{a.name}/proxy/127.0.0.1:")), app_page.url
            email = f"hub-{a.name}@example.com"
            app_page.fill("#email", email)
            app_page.fill("#thought", "through the hub")
            app_page.click("button")
            app_page.wait_for_selector("text=Thanks! Check your email", timeout=60_000)  # the inline mailer's 5 s
            app_page.close()
            lap("the Work-It form sent through A's proxy")
            cells = nb.all_cells()  # then the inbox cell alone (Run Selected Cell): the widget shows the form's mail
            inbox_cell = next(c["index"] for c in cells if c["type"] == "code" and "show_inbox()" in c["source"])
            page.evaluate(RUN_CELL_JS, [notebook_path, inbox_cell])
            page.wait_for_selector(f'.course-inbox iframe[title*="{email}"]', timeout=60_000)
            lap("the inbox widget shows it")
            assert run_in_kernel(page, QUEUE_AND_TIE).strip() == "True", "A's course is tied to A's server"
            ports = {
                "app": int(re.search(r"127\.0\.0\.1:(\d+)", href).group(1)),
                "redis": json.loads((a.course / "state.json").read_text())["redis"]["port"],
            }

            # Learner B: logged in, with a server of their own; A's URLs and A's services.
            context_b = chromium.new_context()
            contexts.append(context_b)
            page_b = log_in(context_b, hub, b)
            open_lab(page_b, hub, f"user/{b.name}/lab")
            lap("B logged in, B's server up")
            results = learner_b_tries(page_b, hub, a.name, b.name, ports)
            lap("B's tries")
            print(f"\nLearner B ({b.name}), logged in to the hub, against learner A ({a.name}):")
            for what, status, where in results:
                print(f"  {what:<95} -> {status} {where}")
            for what, status, where in results:
                assert status in (403, 404) or status >= 500, (what, status, where)
                assert "Thanks!" not in where and "Work-It" not in where.split(":", 1)[-1][:30], (what, where)
            assert len(list((a.course / "maildir" / "new").iterdir())) == 1  # the form's mail; nothing of B's

            # A's server stopped through the hub's REST API, as the idle culler does.
            assert len(processes_of(a.course)) >= 4  # Redis, the catcher, the app, the watchdog
            stop_began = time.monotonic()
            hub.stop_server(a.name)
            server_gone = time.monotonic() - stop_began
            ok = processes.wait_until(lambda: not processes_of(a.course), STOPPED_WITHIN, 0.05)
            left = [" ".join(p.cmdline())[:100] for p in processes_of(a.course)]
            assert ok, f"A's course still runs {STOPPED_WITHIN:.0f} s after the hub stopped A's server: {left}"
            stopped_in = time.monotonic() - stop_began
            print(
                f"Hub stopped A's server in {server_gone:.2f} s; no process of A's course left after {stopped_in:.2f} s"
            )

            # Started again (POST /users/NAME/server, the hub's API; its page's Start My Server does the same): the
            # course comes back with its inbox and queue.
            status, answer = hub.api("POST", f"/users/{a.name}/server")
            assert status in (201, 202), (status, answer)
            hub.wait_ready(a.name)
            lap("A's server started again")
            open_lab(page, hub, f"user/{a.name}/lab")
            count, queue = run_in_kernel(page, AS_IT_WAS.format(email=email)).strip().split(" ", 1)
            lap("A's course back")
            assert (count, queue) == ("1", "[b'one', b'two']"), (count, queue)
        finally:
            for context in contexts:
                context.close()
            hub.stop()
        lap("hub stopped")
    lap("users removed")
    print("Hub test, time since its start:\n  " + "\n  ".join(laps))
