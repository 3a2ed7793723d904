"""The live inbox widget, fed by a real mail catcher process and senders in other processes."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from support.services import inbox, mailcatcher, processes
from support.widgets.inbox_widget import InboxWidget, show_inbox

GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

SEND_SCRIPT = """
import email, email.policy, smtplib, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="localhost", timeout=5) as smtp:
    smtp.send_message(msg)
"""


@pytest.fixture
def port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A running catcher with its own state folder (stopped afterwards); yields its port."""
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    monkeypatch.setattr(mailcatcher, "PREFERRED_PORT", processes.free_port())
    yield mailcatcher.start().port
    mailcatcher.stop()


@pytest.fixture
def widget(port: int) -> Iterator[InboxWidget]:
    w = show_inbox(limit=5)
    yield w
    w.close()


def send(
    port: int, subject: str, html: str | None = None, text: str | None = "hello", gif_cid: str | None = None
) -> None:
    """Build a message here and send it from another process."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Work-It <hello@work-it.test>"
    msg["To"] = "ada@example.test"
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
        if gif_cid:
            msg.get_payload()[-1].add_related(GIF, "image", "gif", cid=f"<{gif_cid}>")
    subprocess.run([sys.executable, "-c", SEND_SCRIPT, str(port)], input=msg.as_bytes(), check=True, timeout=10)


def shows(widget: InboxWidget, text: str, timeout: float = 3.0) -> bool:
    """Wait for the widget's own thread to show `text` (nothing here calls refresh())."""
    return processes.wait_until(lambda: text in widget.html, timeout, interval=0.05)


def outside_frames(value: str) -> str:
    return re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', value)


def test_repr_is_deterministic_and_the_empty_inbox_says_so(widget: InboxWidget) -> None:
    assert repr(widget) == "InboxWidget(live view of the course's inbox)"
    assert widget._repr_mimebundle_()["text/plain"] == repr(widget)
    assert "No mail yet" in widget.html
    assert widget.summary() == "(the inbox is empty)"


def test_html_body_with_inline_gif_is_rendered_as_data_uri(port: int, widget: InboxWidget) -> None:
    cid = make_msgid(domain="work-it.test")[1:-1]
    send(port, "A GIF for you", html=f'<p>Look:</p><img src="cid:{cid}">', gif_cid=cid)
    assert shows(widget, "A GIF for you")
    value = widget.body.value
    assert "data:image/gif;base64,R0lGODlh" in value and f"cid:{cid}" not in value
    assert '<iframe sandbox=""' in value and "allow-scripts" not in value
    assert "From: Work-It &lt;hello@work-it.test&gt;" in value and "To: ada@example.test" in value
    assert "1 message" in widget.header.value
    assert widget.summary() == "A GIF for you — ada@example.test"


def test_scripts_in_mail_never_reach_the_page(port: int, widget: InboxWidget) -> None:
    evil = '<p>hi</p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">x</a>'
    send(port, "<img src=x onerror=alert(2)><script>alert(3)</script>", html=evil)
    assert shows(widget, "&lt;img src=x onerror=alert(2)&gt;")
    value = widget.html
    assert "<script" not in value.lower()
    page = outside_frames(value)
    assert "<img" not in page and "javascript:" not in page
    assert "onerror=" not in page.replace("&lt;img src=x onerror=alert(2)&gt;", "")  # the escaped subject only
    [frame] = re.findall(r'<iframe sandbox="" [^>]*srcdoc="([^"]*)"', value)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in frame
    assert "&lt;img src=x onerror=alert(1)&gt;" in frame


def test_plain_text_mail_is_escaped_in_pre(port: int, widget: InboxWidget) -> None:
    send(port, "Plain", text="1 < 2 & <b>not bold</b>\n")
    assert shows(widget, "Plain")
    assert "<pre" in widget.body.value and "1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;" in widget.body.value
    assert "<iframe" not in widget.body.value


def test_updates_live_newest_first_and_respects_the_limit(port: int) -> None:
    w = InboxWidget(limit=2, interval=0.05)
    try:
        for n in range(3):
            send(port, f"mail {n}")
            assert shows(w, f"mail {n}")
        value = w.body.value
        assert value.index("mail 2") < value.index("mail 1") and "mail 0" not in value
        assert "3 messages, showing the newest 2" in w.header.value
        inbox.clear()
        assert shows(w, "No mail yet")
    finally:
        w.close()


def test_close_stops_the_thread(port: int) -> None:
    w = show_inbox()
    thread = w._poller.thread
    assert thread.is_alive() and thread.daemon
    w.close()
    assert not thread.is_alive()
    assert not any(t is thread for t in threading.enumerate())


def test_two_mails_with_one_subject_get_frames_with_different_titles(port: int, widget: InboxWidget) -> None:
    """A screen reader names a frame by its title: two frames may not share one (axe's frame-title-unique)."""
    send(port, "Same subject", html="<p>first</p>")
    send(port, "Same subject", html="<p>second</p>")
    assert processes.wait_until(lambda: "2 messages" in widget.header.value, 3.0, interval=0.05)
    titles = re.findall(r'<iframe [^>]*title="([^"]*)"', widget.body.value)
    assert titles == ["Mail 1: Same subject, to ada@example.test", "Mail 2: Same subject, to ada@example.test"]
