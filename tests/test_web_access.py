"""The learner's token in front of the Work-It app and rq-dashboard, and their pages behind Jupyter's proxy.

Unit tests of ``support.services.access``, ``guard`` and ``links``; then the real services, asked directly (a
refused request, the token as parameter, cookie and header) and through a real JupyterLab with jupyter-server-proxy
under the base_url ``/user/learner/`` (JupyterHub's layout): pages, stylesheets, scripts, XHR data and a form post.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lab_server import BASE_URL as BASE
from lab_server import LabServer

from support.services import access, course, guard, links

pytestmark = pytest.mark.slow  # a JupyterLab: not in make test-fast


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no http_proxy for 127.0.0.1
    return session


# --- the token -----------------------------------------------------------------------------------------------


def test_the_token_is_kept_0600_and_stays_the_same(course_home: Path) -> None:
    first = access.token()
    assert len(first) >= 30 and access.token() == first
    path = course_home / access.FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert access.headers() == {"X-Course-Token": first}
    assert access.with_token("http://127.0.0.1:3000/?a=1") == f"http://127.0.0.1:3000/?a=1&course_token={first}"


def test_another_state_folder_gets_another_token(
    course_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = access.token()
    monkeypatch.setenv("COURSE_HOME", str(tmp_path / "other"))
    assert access.token() != mine


# --- links ---------------------------------------------------------------------------------------------------


def test_links_under_a_base_url_go_through_the_proxy(course_home: Path) -> None:
    token = access.token()
    assert links.browser_url(3000, base=BASE) == f"/user/learner/proxy/127.0.0.1:3000/?course_token={token}"
    assert links.browser_url(9181, base="/", token=False) == "/proxy/127.0.0.1:9181/"
    assert links.browser_url(9181, base="") == f"http://127.0.0.1:9181/?course_token={token}"


def test_outside_a_kernel_links_stay_on_127_0_0_1(course_home: Path) -> None:
    assert links.jupyter_base() is None  # pytest is no kernel
    assert links.server_base_url(os.getpid()) is None  # nor a Jupyter server
    assert links.browser_url(3000).startswith("http://127.0.0.1:3000/?course_token=")


# --- the guard on a WSGI app -----------------------------------------------------------------------------------


def _echo(environ: dict, start_response) -> list[bytes]:  # noqa: ANN001 -- a WSGI callable
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ.get('SCRIPT_NAME', '')}|{environ.get('PATH_INFO', '')}".encode()]


def test_the_guard_refuses_without_the_token_and_says_how_to_get_a_link() -> None:
    from werkzeug.test import Client

    client = Client(guard.protect(_echo, token="s3cret"), use_cookies=False)  # the Cookie header as given
    for headers in ({}, {"X-Course-Token": "wrong"}, {"Cookie": "course_token=wrong"}):
        refused = client.get("/view", headers=headers)
        assert refused.status_code == 403
        assert "python -m support status" in refused.get_data(as_text=True)
    assert client.get("/?course_token=wrong").status_code == 403


def test_the_guard_accepts_header_cookie_and_parameter() -> None:
    from werkzeug.test import Client

    client = Client(guard.protect(_echo, token="s3cret"), use_cookies=False)  # the Cookie header as given
    assert client.get("/a", headers={"X-Course-Token": "s3cret"}).get_data(as_text=True) == "|/a"
    assert client.get("/a", headers={"Cookie": "course_token=s3cret"}).status_code == 200
    assert client.post("/a?course_token=s3cret").status_code == 200  # a POST is not redirected


def test_the_parameter_sets_a_cookie_and_redirects_without_it() -> None:
    from werkzeug.test import Client

    client = Client(guard.protect(_echo, token="s3cret"))
    first = client.get(
        "/0/view/queues?x=1&course_token=s3cret", headers={"X-Forwarded-Prefix": "/user/learner/proxy/127.0.0.1:9181"}
    )
    assert first.status_code == 303
    assert first.headers["Location"] == "queues?x=1"  # relative: the browser keeps the prefix it shows
    cookie = first.headers["Set-Cookie"]
    assert "course_token=s3cret" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/user/learner/proxy/127.0.0.1:9181/" in cookie
    root = client.get("/?course_token=s3cret")
    assert root.headers["Location"] == "./" and "Path=/;" in root.headers["Set-Cookie"]
    after = client.get("/0/view/queues?x=1")  # the test client keeps the cookie, as a browser does
    assert after.status_code == 200


def test_the_prefix_reaches_the_app_as_script_name() -> None:
    from werkzeug.test import Client

    client = Client(guard.protect(_echo, token="s3cret"))
    shown = client.get("/x", headers={"X-Course-Token": "s3cret", "X-Forwarded-Prefix": "/user/learner/proxy/1:2"})
    assert shown.get_data(as_text=True) == "/user/learner/proxy/1:2|/x"


# --- the real services, directly -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_HOME", str(tmp_path_factory.mktemp("course")))
        mp.delenv("REDIS_URL", raising=False)
        try:
            yield course.up("app", "dashboard", delay=0.1, quiet=True)
        finally:
            course.down()


@pytest.mark.parametrize("name", ["app", "dashboard"])
def test_a_service_refuses_a_request_without_the_token(services: dict, name: str) -> None:
    root = f"http://127.0.0.1:{services[name].port}/"
    session = _session()
    assert session.get(root, timeout=10).status_code == 403
    assert session.get(root, headers=access.headers(), timeout=10).status_code == 200
    answered = session.get(root + f"?course_token={access.token()}", timeout=10)  # follows the redirect
    assert answered.status_code == 200 and answered.url == root and "course_token" not in answered.url


def test_the_dashboard_has_no_redis_url_on_its_command_line(services: dict) -> None:
    import psutil

    cmdline = " ".join(psutil.Process(services["dashboard"].pid).cmdline())
    assert "redis://" not in cmdline and "support.services.dashboard_server" in cmdline


# --- through a real Jupyter server with jupyter-server-proxy, under /user/learner/ -----------------------------------
# (`lab` is the session's JupyterLab, which the browser tests use too: tests/conftest.py)


def _through(lab: LabServer, port: int) -> tuple[requests.Session, str]:
    """A session logged in to Jupyter (its token, once) and holding the course's cookie, and the proxied root."""
    session = _session()
    session.get(lab.url(f"lab?token={lab.token}"), timeout=30).raise_for_status()
    root = lab.url(f"proxy/127.0.0.1:{port}/")
    first = session.get(root + f"?course_token={access.token()}", timeout=30)
    assert first.status_code == 200, first.text[:300]
    assert first.url == root, "the redirect must keep the proxy's prefix and drop the token"
    return session, root


def test_the_dashboard_renders_behind_the_proxy(services: dict, lab: LabServer) -> None:
    session, root = _through(lab, services["dashboard"].port)
    page = session.get(root, timeout=30).text
    assert "Queues" in page
    prefix = f"{BASE}proxy/127.0.0.1:{services['dashboard'].port}/"
    assets = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', page)
    assert assets and all(a.startswith(prefix) for a in assets), assets
    for asset in assets:
        assert session.get(f"http://127.0.0.1:{lab.port}{asset}", timeout=30).status_code == 200, asset
    data = session.get(root + "0/data/queues.json", timeout=30)  # what the page's script polls
    assert data.status_code == 200 and "queues" in data.json()
    refused = _session().get(root, timeout=30, allow_redirects=False)  # no Jupyter login: Jupyter sends to its login
    assert refused.status_code in (302, 403) and "Queues" not in refused.text


def test_rq_dashboard_mounted_in_work_it_renders_behind_the_proxy(
    services: dict, lab: LabServer, tmp_path: Path
) -> None:
    """04's Exercise 1: rq-dashboard's blueprint inside Work-It at /rq, its stylesheets, scripts and data under
    Jupyter's proxy and /rq."""
    from support.checks.dashboard import REFERENCE_DRAW
    from support.workit import routes_loader

    routes = tmp_path / "routes.py"
    routes.write_text("import rq_dashboard\n\n\n" + REFERENCE_DRAW, encoding="utf-8")
    routes_loader.use(routes)
    try:
        session, root = _through(lab, services["app"].port)
        page = session.get(root + "rq/", timeout=30).text
        assert "<title>RQ dashboard</title>" in page
        prefix = f"{BASE}proxy/127.0.0.1:{services['app'].port}/rq/static/"
        assets = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', page)
        assert assets and all(a.startswith(prefix) for a in assets), assets
        for asset in assets:
            assert session.get(f"http://127.0.0.1:{lab.port}{asset}", timeout=30).status_code == 200, asset
        data = session.get(root + "rq/0/data/queues.json", timeout=30)  # what the page's script polls
        assert data.status_code == 200 and "queues" in data.json()
        assert _session().get(f"http://127.0.0.1:{services['app'].port}/rq/", timeout=10).status_code == 403
    finally:
        routes_loader.forget()


def test_the_app_form_posts_through_the_proxy(services: dict, lab: LabServer) -> None:
    session, root = _through(lab, services["app"].port)
    form = session.get(root, timeout=30).text
    action = re.search(r'<form method="post" action="([^"]+)"', form).group(1)
    answer = session.post(
        requests.compat.urljoin(root, action),
        timeout=30,
        data={"email": "ada@example.com", "thought": "through the proxy"},
    )
    assert answer.status_code == 200 and "Thanks!" in answer.text, answer.text[:500]
    again = re.search(r'<a href="([^"]+)">Send another thought', answer.text).group(1)
    assert session.get(requests.compat.urljoin(answer.url, again), timeout=30).url == root


def test_a_running_jupyter_server_is_found_by_its_pid(lab: LabServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a kernel of that server does: look its parent's PID up in the runtime folder they share."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(lab.scratch / "runtime"))
    assert links.server_base_url(lab.proc.pid) == BASE
    assert links.server_base_url(os.getpid()) is None


def test_the_terminal_prints_links_that_open(services: dict) -> None:
    """``python -m support status``, which the 403 page recommends, prints links the services accept."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "support", "status"], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    printed = re.findall(r"http://127\.0\.0\.1:\d+/\?course_token=[\w-]+", done.stdout)
    assert len(printed) == 2, done.stdout  # the app and the dashboard
    for link in printed:
        assert _session().get(link, timeout=10).status_code == 200, link
