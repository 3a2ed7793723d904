"""support.services.app: the Work-It app as a real process, with the real mail catcher and Redis.

Inline delivery makes the request as slow as the mailer; background delivery answers at once with a job id; bad
input is refused before anything is sent or queued; the app serves one request at a time.
"""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from ports import foreign_listeners
from rq.job import Job

from support.rq_helpers import queues
from support.services import access, app, inbox, mailcatcher, processes, redis_server
from support.workit import mailer

DELAY = 0.4  # the slow mailer, inline
BG_DELAY = 5.0  # handed to the job; nothing waits for it here (no worker runs)
EMAIL = "ada@example.com"
BAD_INPUTS = [
    pytest.param("ada@", "a thought", "is not a valid email address", id="malformed-email"),
    pytest.param("not an email", "a thought", "is not a valid email address", id="email-with-spaces"),
    pytest.param(EMAIL, "", "Please write a thought", id="empty-thought"),
    pytest.param(EMAIL, "   \n  ", "Please write a thought", id="blank-thought"),
    pytest.param(EMAIL, "x" * 1001, "Your thought is 1,001 characters long", id="1001-chars"),
    pytest.param(EMAIL, "x" * 10_000, "Your thought is 10,000 characters long", id="10000-chars"),
    pytest.param(None, "a thought", "Please enter your email address", id="missing-email"),
    pytest.param(EMAIL, None, "Please write a thought", id="missing-thought"),
    pytest.param(None, None, "Please enter your email address", id="missing-both"),
]


@pytest.fixture(scope="module", autouse=True)
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A state folder of this module's own; the app, the catcher and Redis are stopped at the end."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_HOME", str(tmp_path_factory.mktemp("course")))
        mp.delenv("REDIS_URL", raising=False)
        try:
            yield
        finally:
            app.stop()
            mailcatcher.stop()
            redis_server.stop()


@pytest.fixture
def inline() -> processes.Service:
    return app.start("inline", DELAY)


@pytest.fixture
def background() -> Iterator[processes.Service]:
    service = app.start("background", BG_DELAY)
    yield service
    queues.queue("mailers").empty()


def _to(addr: str):
    return lambda m: addr in m.to


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_form_page(inline: processes.Service) -> None:
    page = requests.get(inline.url + "/", headers=access.headers(), timeout=5)
    assert page.status_code == 200
    assert "<title>Work-It</title>" in page.text
    assert '<form method="post" action="mailers">' in page.text  # relative: works behind Jupyter's proxy too
    assert 'name="email"' in page.text and 'name="thought"' in page.text


def test_health(inline: processes.Service) -> None:
    data = requests.get(inline.url + "/health", headers=access.headers(), timeout=5).json()
    assert data == {
        "ok": True,
        "app": "work-it",
        "delivery": "inline",
        "delay": DELAY,
        "controller": "",
        "routes_file": "",  # no routes file recorded: Work-It's own routes only (notebook 04 adds one)
        "routes_error": "",
        "blueprints": {},
    }


# --- inline: slow, and the mail arrives --------------------------------------------------------------------------


def test_inline_post_is_slow_and_the_mail_arrives(inline: processes.Service) -> None:
    addr = "inline@example.com"
    result = app.post_thought(addr, "I need coffee")
    assert result["status"] == 200 and result["ok"] is True
    assert result["delivery"] == "inline" and result["job_id"] is None
    assert result["seconds"] >= DELAY
    [mail] = inbox.wait_for(1, match=_to(addr), timeout=5)
    assert "I need coffee" in mail.html
    [(mime, data)] = mail.images.values()
    assert mime == "image/gif" and data == (mailer.GIF_DIR / "coffee.gif").read_bytes()


def test_inline_html_in_a_thought_arrives_escaped(inline: processes.Service) -> None:
    addr = "xss@example.com"
    thought = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
    assert app.post_thought(addr, thought)["status"] == 200
    [mail] = inbox.wait_for(1, match=_to(addr), timeout=5)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;" in mail.html
    assert "<script" not in mail.html and "<img src=x" not in mail.html


def test_inline_serves_one_request_at_a_time(inline: processes.Service) -> None:
    results: list[dict] = []
    users = [
        threading.Thread(target=lambda i=i: results.append(app.post_thought(f"user{i}@example.com", "hi")))
        for i in range(3)
    ]
    for user in users:
        user.start()
    for user in users:
        user.join()
    seconds = sorted(r["seconds"] for r in results)
    assert all(r["status"] == 200 for r in results)
    assert seconds[-1] >= 3 * DELAY * 0.95, f"the third user should wait for the two before: {seconds}"


def test_inline_with_the_mail_server_down_is_a_502(inline: processes.Service) -> None:
    mailcatcher.stop()
    try:
        result = app.post_thought(EMAIL, "nobody listens")
    finally:
        mailcatcher.start()
    assert result["status"] == 502 and result["ok"] is False
    assert "Could not send the email" in result["error"] and "mail" in result["error"]


# --- bad input: 400, nothing sent, nothing queued ----------------------------------------------------------------


@pytest.mark.parametrize(("email", "thought", "message"), BAD_INPUTS)
def test_inline_bad_input_is_a_400_and_nothing_is_sent(
    inline: processes.Service, email: str | None, thought: str | None, message: str
) -> None:
    before = inbox.count()
    result = app.post_thought(email, thought)
    assert result["status"] == 400 and result["ok"] is False
    assert message in result["error"]
    assert result["seconds"] < DELAY
    time.sleep(0.05)
    assert inbox.count() == before


@pytest.mark.parametrize(("email", "thought", "message"), BAD_INPUTS)
def test_background_bad_input_is_a_400_and_nothing_is_queued(
    background: processes.Service, email: str | None, thought: str | None, message: str
) -> None:
    mailers = queues.queue("mailers")
    queued, mails = mailers.count, inbox.count()
    result = app.post_thought(email, thought)
    assert result["status"] == 400 and result["ok"] is False
    assert message in result["error"]
    assert mailers.count == queued and inbox.count() == mails


def test_a_browser_gets_an_escaped_html_error_page(inline: processes.Service) -> None:
    page = requests.post(
        inline.url + "/mailers", data={"email": "<b>bold</b>", "thought": "x"}, headers=access.headers(), timeout=5
    )
    assert page.status_code == 400 and page.headers["Content-Type"].startswith("text/html")
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text and "<b>bold" not in page.text


# --- background: instant, and the job is queued ------------------------------------------------------------------


def test_background_post_is_instant_and_queues_a_job(background: processes.Service) -> None:
    mailers = queues.queue("mailers")
    before = mailers.count
    result = app.post_thought(EMAIL, "tired of coding")
    assert result["status"] == 200 and result["ok"] is True and result["delivery"] == "background"
    assert result["seconds"] < 0.5, f"a background POST took {result['seconds']:.3f} s"
    assert mailers.count == before + 1
    job = Job.fetch(result["job_id"], connection=mailers.connection)
    assert job.func_name == "support.jobs.send_gif_email"
    assert list(job.args) == [EMAIL, "tired of coding", BG_DELAY]
    assert job.origin == "mailers"


def test_background_browser_page_says_thanks(background: processes.Service) -> None:
    page = requests.post(
        background.url + "/mailers", data={"email": EMAIL, "thought": "cats"}, headers=access.headers(), timeout=5
    )
    assert page.status_code == 200 and "Thanks! Check your email" in page.text


def test_a_worker_sends_what_the_background_app_queued() -> None:
    from rq import SimpleWorker

    service = app.start("background", 1.0)
    addr = "queued@example.com"
    result = app.post_thought(addr, "party time")
    assert result["status"] == 200  # no stopwatch: a busy machine can take a second to answer anything
    assert inbox.to_address(addr) == []  # queued, not sent: no worker yet (inline, it would have sent it first)
    assert Job.fetch(result["job_id"], connection=queues.connection()).get_status() == "queued"
    mailers = queues.queue("mailers")
    SimpleWorker([mailers], connection=mailers.connection).work(burst=True)
    [mail] = inbox.wait_for(1, match=_to(addr), timeout=5)
    assert "party time" in mail.html and mailers.count == 0
    job = Job.fetch(result["job_id"], connection=mailers.connection)
    assert job.get_status() == "finished"
    assert job.return_value() == email.message_from_bytes(mail.raw)["Message-ID"]
    assert service.alive()


# --- the service life cycle ------------------------------------------------------------------------------------


def test_start_is_idempotent_and_restarts_for_another_mode() -> None:
    first = app.start("inline", DELAY)
    assert app.start("inline", DELAY).pid == first.pid
    assert app.status() is not None and app.status().pid == first.pid
    assert app.url() == first.url
    other = app.start("background", BG_DELAY)
    assert other.pid != first.pid and not first.alive()
    assert requests.get(other.url + "/health", headers=access.headers(), timeout=5).json()["delivery"] == "background"
    assert (other.delivery, other.delay) == ("background", BG_DELAY)
    slower = app.start("background", 1.5)  # same mode, another delay: restarted too
    assert slower.pid != other.pid
    assert requests.get(slower.url + "/health", headers=access.headers(), timeout=5).json()["delay"] == 1.5


def test_a_foreign_listener_on_the_preferred_port_moves_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    app.stop()
    with foreign_listeners([0]) as (held,):  # a port of the test's own as the preferred one: ours for the whole test
        monkeypatch.setattr(app, "PREFERRED_PORT", held)
        service = app.start("inline", DELAY)
        assert service.port != held
        assert requests.get(service.url + "/health", headers=access.headers(), timeout=5).json()["ok"] is True
    app.stop()
    assert app.status() is None
