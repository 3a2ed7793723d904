"""The mail catcher and the inbox API, with real processes: a catcher process, senders in other processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import psutil
import pytest
from ports import foreign_listeners

from support.services import inbox, mailcatcher, processes, state

# The smallest GIF there is: one transparent pixel.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

# Another process sends the message it reads from stdin to the catcher on port argv[1].
SEND_SCRIPT = """
import email, email.policy, smtplib, sys
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="localhost", timeout=5) as smtp:
    smtp.send_message(msg, to_addrs=sys.argv[2:] or None)
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated state folder; the catcher prefers a port nobody holds, and is stopped afterwards."""
    monkeypatch.setenv("COURSE_HOME", str(tmp_path))
    monkeypatch.setattr(mailcatcher, "PREFERRED_PORT", processes.free_port())
    yield tmp_path
    mailcatcher.stop()


def send_from_other_process(msg: EmailMessage, port: int, *rcpt: str) -> None:
    subprocess.run([sys.executable, "-c", SEND_SCRIPT, str(port), *rcpt], input=msg.as_bytes(), check=True, timeout=10)


def work_it_mail(to: str = "ada@example.test", thought: str = "Queues are patient.") -> EmailMessage:
    """Text + HTML with an inline GIF, built the way a mailer builds one."""
    msg = EmailMessage()
    msg["Subject"] = "Your thought, with a GIF"
    msg["From"] = "Work-It <hello@work-it.test>"
    msg["To"] = to
    msg["Date"] = format_datetime(datetime.now().astimezone())
    cid = make_msgid(domain="work-it.test")
    msg.set_content(f"You thought: {thought}\n")
    msg.add_alternative(f'<p>You thought: <b>{thought}</b></p><img src="cid:{cid[1:-1]}" alt="gif">', subtype="html")
    msg.get_payload()[1].add_related(GIF, "image", "gif", cid=cid)
    return msg


def test_default_port_is_1025() -> None:
    assert mailcatcher.NAME == "catcher"
    assert mailcatcher.PREFERRED_PORT == 1025


def test_start_returns_a_live_catcher_on_localhost(home: Path) -> None:
    service = mailcatcher.start()
    assert service.alive()
    assert service.url == f"smtp://127.0.0.1:{service.port}"
    assert mailcatcher.status() == service
    assert mailcatcher._answers_smtp(service.port)
    proc = psutil.Process(service.pid)
    assert "support.services.mailcatcher" in proc.cmdline()
    conns = proc.net_connections("inet") if hasattr(proc, "net_connections") else proc.connections("inet")
    listening = {c.laddr for c in conns if c.status == psutil.CONN_LISTEN}
    assert listening == {("127.0.0.1", service.port)}
    assert state.get("catcher")["pid"] == service.pid


def test_start_is_idempotent_also_from_another_process(home: Path) -> None:
    first = mailcatcher.start()
    assert mailcatcher.start() == first
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from support.services import mailcatcher; s = mailcatcher.start(); print(s.pid, s.port)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
        env=dict(os.environ),
    ).stdout.split()
    assert (int(out[0]), int(out[1])) == (first.pid, first.port)


def test_uses_the_preferred_port_when_free(home: Path) -> None:
    assert mailcatcher.start().port == mailcatcher.PREFERRED_PORT


def test_takes_another_port_when_something_else_holds_the_preferred_one(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with foreign_listeners([0]) as (held,):
        monkeypatch.setattr(mailcatcher, "PREFERRED_PORT", held)
        service = mailcatcher.start()
        assert service.port != held
        assert mailcatcher._answers_smtp(service.port)
        assert not mailcatcher._answers_smtp(held)  # a listener, but no SMTP greeting


@pytest.mark.slow
def test_a_port_taken_for_a_moment_just_as_the_catcher_binds_costs_one_more_try(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another course on this machine probes or takes the port between our check and the catcher's bind, and lets
    # go right after: the catcher dies of "address already in use", the port looks free again, and start() must
    # still come back with a running catcher (on a fresh port), not an error.
    blocker = socket.socket()  # bound without SO_REUSEADDR: no server can bind the port next to it
    first: list[int] = []
    real_argv = mailcatcher._argv

    def argv(port: int) -> list[str]:
        if not first:
            first.append(port)
            blocker.bind(("127.0.0.1", port))
            threading.Thread(target=let_go_once_refused, daemon=True).start()
        return real_argv(port)

    def let_go_once_refused() -> None:
        log = state.log_path("catcher")
        processes.wait_until(lambda: log.exists() and "already in use" in log.read_text(errors="replace"), 20, 0.002)
        blocker.close()

    monkeypatch.setattr(mailcatcher, "_argv", argv)
    try:
        service = mailcatcher.start()
    finally:
        blocker.close()
    assert service.alive() and mailcatcher._answers_smtp(service.port)
    assert first == [mailcatcher.PREFERRED_PORT] and service.port != first[0]
    assert "already in use" in state.log_path("catcher").read_text()  # the first try really failed on the port


def test_a_multipart_mail_sent_by_another_process_is_caught(home: Path) -> None:
    service = mailcatcher.start()
    msg = work_it_mail()
    send_from_other_process(msg, service.port, "ada@example.test", "bcc@example.test")

    [mail] = inbox.wait_for(1, timeout=5)
    assert mail.subject == "Your thought, with a GIF"
    assert mail.sender == "Work-It <hello@work-it.test>"
    assert mail.to == ["ada@example.test"]
    assert mail.envelope_to == ["ada@example.test", "bcc@example.test"]
    assert mail.date.tzinfo is not None and abs(mail.date.timestamp() - time.time()) < 60
    assert mail.text == "You thought: Queues are patient.\n"
    assert "<b>Queues are patient.</b>" in mail.html
    [(cid, (mime, data))] = mail.images.items()
    assert f"cid:{cid}" in mail.html and (mime, data) == ("image/gif", GIF)
    assert "data:image/gif;base64,R0lGOD" in mail.inline_html() and "cid:" not in mail.inline_html()
    assert mail.raw.startswith(b"X-Envelope-From: hello@work-it.test\n")
    assert inbox.get(mail.id) == mail
    assert inbox.count() == 1
    assert inbox.to_address("BCC@example.test") == [mail]
    assert inbox.summary_lines() == ["Your thought, with a GIF — ada@example.test"]
    assert "caught 'Your thought, with a GIF'" in state.log_path("catcher").read_text()


def test_messages_are_newest_first_and_the_date_falls_back_to_delivery(home: Path) -> None:
    service = mailcatcher.start()
    for n in range(3):
        msg = EmailMessage()
        msg["Subject"] = f"number {n}"
        msg["To"] = "x@example.test"
        msg["From"] = "y@example.test"
        msg.set_content("no Date header")
        send_from_other_process(msg, service.port)
    found = inbox.wait_for(3, timeout=5)
    assert [m.subject for m in found] == ["number 2", "number 1", "number 0"]
    assert all(m.date == m.received and m.date.tzinfo is not None for m in found)
    assert [m.subject for m in inbox.messages(limit=2)] == ["number 2", "number 1"]
    assert len(inbox.wait_for(1, match=lambda m: m.subject == "number 1", timeout=1)) == 1


def test_clear_empties_the_inbox(home: Path) -> None:
    service = mailcatcher.start()
    send_from_other_process(work_it_mail(), service.port)
    [mail] = inbox.wait_for(1, timeout=5)
    assert inbox.clear() == 1
    assert inbox.count() == 0 and inbox.messages() == []
    with pytest.raises(KeyError, match="No message with id"):
        inbox.get(mail.id)
    assert inbox.clear() == 0


def test_the_catcher_survives_a_wiped_maildir(home: Path) -> None:
    service = mailcatcher.start()
    state.wipe("maildir")
    send_from_other_process(work_it_mail(), service.port)
    assert len(inbox.wait_for(1, timeout=5)) == 1


def test_wait_for_times_out_with_a_clear_message(home: Path) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="0 arrived.*not running"):
        inbox.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 5  # it gives up, rather than waiting on (a loose bound: a busy machine)
    mailcatcher.start()
    with pytest.raises(TimeoutError, match="matching.*catcher runs on smtp://127.0.0.1"):
        inbox.wait_for(2, match=lambda m: False, timeout=0.1)


def test_stop_leaves_no_process_and_frees_the_port(home: Path) -> None:
    service = mailcatcher.start()
    assert mailcatcher.stop() is True
    assert not processes.process_alive(service.pid, service.started)
    assert processes.port_is_free(service.port)
    assert mailcatcher.status() is None and state.get("catcher") is None
    assert mailcatcher.stop() is False
    assert "mail catcher stopped" in state.log_path("catcher").read_text()  # a clean exit, not a kill


def test_sigint_stops_the_catcher_cleanly(home: Path) -> None:
    service = mailcatcher.start()
    os.kill(service.pid, signal.SIGINT)
    assert processes.wait_until(lambda: not service.alive(), timeout=5)
    log = state.log_path("catcher").read_text()
    assert "got SIGINT" in log and "mail catcher stopped" in log
    assert processes.port_is_free(service.port)
