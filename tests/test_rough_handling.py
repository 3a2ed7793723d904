"""The course as people really use it: busy ports, restarted kernels, odd input in the form, loopback only."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
import redis
from jupyter_client import KernelManager
from ports import foreign_listeners

from support import dashboard
from support.lessons.kernels import WorkerKernel
from support.rq_helpers import queues
from support.services import app, course, inbox, mailcatcher, processes, redis_server, state
from support.widgets.form_widget import WorkItForm


def test_busy_preferred_ports_move_the_course_and_it_says_which(
    course_home: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ports of the test's own as the preferred ones: held for the whole test (the usual ones may be taken and
    # freed again meanwhile by a test that runs beside this one).
    with foreign_listeners([0, 0, 0]) as preferred:
        for module, name, port in zip((redis_server, mailcatcher, app), ("redis", "catcher", "app"), preferred):
            monkeypatch.setattr(module, "PREFERRED_PORT", port)
            monkeypatch.setitem(course.PREFERRED, name, port)
        services = course.up("redis", "app", delivery="background", delay=0.1)
        said = capsys.readouterr().out
        for name, port in zip(("redis", "catcher", "app"), preferred):
            assert services[name].port != port
        assert said.count("was busy, so it moved") == 3
        form = WorkItForm()
        answer = form.submit("ada@example.com", "coffee")
        assert answer["status"] == 200 and answer["job_id"]
        assert queues.queue("mailers").job_ids == [answer["job_id"]]


@pytest.mark.slow
def test_every_listening_socket_of_the_course_is_on_loopback(course_home: Path, tmp_path: Path) -> None:
    course.up("redis", "app", "dashboard", delivery="background", delay=0.1, quiet=True)
    kernel = WorkerKernel(["default"], cwd=tmp_path, simple=True).start()
    try:
        mine = [p for p in processes.course_processes() if p.environ().get("COURSE_HOME") == str(course_home)]
        assert {p.environ()["COURSE_SERVICE"] for p in mine} >= {"redis", "catcher", "app", "dashboard", kernel.name}
        addresses = set()
        for proc in mine:
            for conn in proc.net_connections("inet"):
                if conn.status == psutil.CONN_LISTEN:
                    addresses.add(conn.laddr.ip)
        assert addresses == {"127.0.0.1"}
    finally:
        kernel.stop()


@pytest.mark.slow
def test_a_restarted_kernel_finds_the_running_services(course_home: Path) -> None:
    code = (
        "from support.services import course; s = course.up('redis', 'app', delivery='background', delay=0.1, "
        "quiet=True); print({k: v.pid for k, v in s.items()})"
    )
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=processes.course_env())
    try:
        first = _run(km, code)
        km.restart_kernel(now=True)
        again = _run(km, code)
    finally:
        km.shutdown_kernel(now=True)
    assert first == again and "redis" in first
    assert {name: entry["pid"] for name, entry in state.read().items()} == eval(first)


def _run(km: KernelManager, code: str) -> str:
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=30)
    out: list[str] = []
    reply = client.execute_interactive(
        code,
        timeout=60,
        output_hook=lambda msg: out.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None,
    )
    client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out).strip()


@pytest.mark.parametrize(
    "email, thought, message",
    [
        ("not-an-email", "coffee", "email"),
        ("ada@example.com", "", "empty"),
        ("ada@example.com", "x" * 10_000, "10000"),
        ("<b>ada</b>@example.com", "coffee", "email"),
    ],
)
@pytest.mark.slow
def test_bad_input_in_the_form_widget_gets_a_clear_message_and_queues_nothing(
    course_home: Path, email: str, thought: str, message: str
) -> None:
    course.up("redis", "app", delivery="background", delay=0.1, quiet=True)
    form = WorkItForm()
    answer = form.submit(email, thought)
    assert answer["status"] == 400 and message in answer["error"].replace(",", "")
    assert "Refused (HTTP 400)" in form.answer.value and "<b>" not in form.answer.value
    assert queues.queue("mailers").count == 0 and inbox.count() == 0


def test_html_in_a_thought_is_escaped_in_the_email(course_home: Path) -> None:
    course.up("app", delay=0.1, quiet=True)
    answer = WorkItForm().submit("ada@example.com", "<script>alert(1)</script><img src=x onerror=alert(2)>")
    assert answer["status"] == 200
    [mail] = inbox.wait_for(1, timeout=5)
    assert "<script>" not in mail.html and "<img src=x" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html


@pytest.mark.slow
def test_the_form_brings_a_crashed_app_back(course_home: Path) -> None:
    course.up("app", delay=0.1, quiet=True)
    form = WorkItForm()
    old = app.status()
    processes.stop_process(old.pid, old.started)  # the app dies behind the course's back; its entry stays
    answer = form.submit("ada@example.com", "coffee")
    assert answer["status"] == 200 and "Answered in" in form.answer.value
    assert app.status().pid != old.pid


def test_redis_down_gives_the_app_a_clear_503_and_loses_nothing(course_home: Path) -> None:
    gone = course.up("redis", "app", delivery="background", delay=0.1, quiet=True)["redis"]
    redis_server.stop()
    answer = app.post_thought("ada@example.com", "coffee")
    assert answer["status"] == 503 and "Redis" in answer["error"]
    view = dashboard.DashboardWidget(
        connection=redis.Redis.from_url(gone.url, socket_connect_timeout=0.5), interval=60
    )  # the dashboard says Redis is gone, and raises nothing
    try:
        assert view.error is not None and "cannot read Redis" in view.header.value
    finally:
        view.close()
