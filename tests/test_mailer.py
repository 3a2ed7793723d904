"""support.workit.mailer: the GIF pick, the email it builds (escaped, with an inline image) and the slow delivery to the
real mail catcher."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from PIL import Image

from support.services import inbox, mailcatcher, processes
from support.workit import mailer

EMAIL = "ada@example.com"


@pytest.fixture(scope="module")
def catcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[processes.Service]:
    """The real mail catcher, in a state folder of this module's own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_HOME", str(tmp_path_factory.mktemp("course")))
        mp.delenv("REDIS_URL", raising=False)
        try:
            yield mailcatcher.start()
        finally:
            mailcatcher.stop()


# --- the GIFs --------------------------------------------------------------------------------------------------


def test_the_shipped_gifs_are_small_animations() -> None:
    gifs = mailer.gifs()
    assert 6 <= len(gifs) <= 8
    for path in gifs:
        assert path.stat().st_size < 30_000, path.name
        with Image.open(path) as img:
            assert img.format == "GIF" and img.size == (160, 120), path.name
            assert getattr(img, "n_frames", 1) > 1, f"{path.name} is not animated"


@pytest.mark.parametrize(
    ("thought", "gif"),
    [
        ("I need COFFEE", "coffee"),
        ("my kitten knocked over a glass", "cat"),
        ("Rainy day again", "rain"),
        ("It's my birthday!", "party"),
        ("so tired...", "sleep"),
        ("a bug in my Python code", "code"),
        ("pizza for lunch?", "food"),
        ("I have an idea", "thinking"),
        ("tired of coding", "sleep"),  # two themes: the word that comes first wins
    ],
)
def test_pick_gif_matches_keywords(thought: str, gif: str) -> None:
    assert mailer.pick_gif(thought) == mailer.GIF_DIR / f"{gif}.gif"


def test_pick_gif_falls_back_to_a_stable_choice() -> None:
    thought = "Quantum flamingos juggle"
    first = mailer.pick_gif(thought)
    assert first.exists() and mailer.pick_gif(thought) == first
    assert mailer.pick_gif("  quantum   FLAMINGOS juggle ") == first  # case and spacing do not matter
    # the same in another interpreter with another hash seed: the choice comes from hashlib, not hash()
    code = f"from support.workit import mailer; print(mailer.pick_gif({thought!r}).name)"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout.strip()
    assert other == first.name
    picks = {mailer.pick_gif(f"plain words number {i}").name for i in range(40)}
    assert len(picks) >= 4, "the fallback should spread over the GIFs"


# --- the message -----------------------------------------------------------------------------------------------


def _parts(msg: EmailMessage) -> tuple[EmailMessage, EmailMessage, EmailMessage]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    images = [p for p in msg.walk() if p.get_content_maintype() == "image"]
    assert plain is not None and html is not None and len(images) == 1
    return plain, html, images[0]  # type: ignore[return-value]


def test_build_message_has_text_html_and_an_inline_gif() -> None:
    msg = mailer.build_message(EMAIL, "I need coffee")
    assert msg["Subject"] == "Your thought, with a GIF"
    assert msg["To"] == EMAIL and msg["From"] == "work-it@example.com"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    plain, html, image = _parts(msg)
    assert "I need coffee" in plain.get_content()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert image.get_content_type() == "image/gif"
    assert image.get_content() == (mailer.GIF_DIR / "coffee.gif").read_bytes()


def test_build_message_is_deterministic_apart_from_ids_and_date() -> None:
    def stable(msg: EmailMessage) -> list[str]:
        mid = msg["Message-ID"][1:-1]
        return [
            str(p.get_content()).replace(mid, "ID") if p.get_content_maintype() == "text" else repr(p.get_content())
            for p in msg.walk()
            if not p.is_multipart()
        ]

    assert stable(mailer.build_message(EMAIL, "hello")) == stable(mailer.build_message(EMAIL, "hello"))


@pytest.mark.parametrize(
    ("thought", "raw", "escaped"),
    [
        ("<script>alert(1)</script>", "<script", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(1)>", "<img src=x", "&lt;img src=x onerror=alert(1)&gt;"),
        ('Tom & "Jerry"', '"Jerry"', "Tom &amp; &quot;Jerry&quot;"),
    ],
)
def test_the_thought_is_escaped_in_the_html(thought: str, raw: str, escaped: str) -> None:
    _, html, _ = _parts(mailer.build_message(EMAIL, thought))
    body = html.get_content()
    assert escaped in body
    assert raw not in body


# --- delivery --------------------------------------------------------------------------------------------------


def _to(addr: str):
    return lambda m: addr in m.to


def test_deliver_is_slow_and_the_mail_arrives(catcher: processes.Service) -> None:
    addr = "slow@example.com"
    t0 = time.perf_counter()
    message_id = mailer.deliver(addr, "Rain, rain, go away", delay=0.3)
    seconds = time.perf_counter() - t0
    assert seconds >= 0.3
    [mail] = inbox.wait_for(1, match=_to(addr), timeout=5)
    assert mail.subject == "Your thought, with a GIF"
    assert mail.sender == "work-it@example.com"
    assert "Rain, rain, go away" in mail.text and "Rain, rain, go away" in mail.html
    [(mime, data)] = mail.images.values()
    assert mime == "image/gif" and data == (mailer.GIF_DIR / "rain.gif").read_bytes()
    assert message_id.startswith("<") and message_id.endswith("@work-it.example>")


def test_deliver_takes_its_default_delay_from_the_environment(
    catcher: processes.Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKIT_DELAY", "0.25")
    t0 = time.perf_counter()
    mailer.deliver("env@example.com", "a thought")
    assert 0.25 <= time.perf_counter() - t0 < 3
    inbox.wait_for(1, match=_to("env@example.com"), timeout=5)
    monkeypatch.delenv("WORKIT_DELAY")
    assert mailer.default_delay() == 5.0


def test_a_long_thought_goes_through_smtp(catcher: processes.Service) -> None:
    thought = "word " * 199 + "end"  # 1,000 characters on one line
    mailer.deliver("long@example.com", thought, delay=0)
    [mail] = inbox.wait_for(1, match=_to("long@example.com"), timeout=5)
    assert thought in mail.text


def test_a_mail_server_that_does_not_answer_is_a_clear_connection_error(catcher: processes.Service) -> None:
    port = processes.free_port()
    with pytest.raises(ConnectionError, match=rf"the mail server at 127\.0\.0\.1:{port} did not answer"):
        mailer.send(mailer.build_message(EMAIL, "x"), ("127.0.0.1", port))


def test_deliver_with_the_catcher_stopped_raises_connection_error(catcher: processes.Service) -> None:
    mailcatcher.stop()
    try:
        with pytest.raises(ConnectionError, match="mail catcher is not running"):
            mailer.deliver(EMAIL, "nobody listens", delay=0)
    finally:
        mailcatcher.start()
