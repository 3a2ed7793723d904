"""The Work-It mailer (the seed's ``UserNotifierMailer``): a thought in, an email with a matching GIF out.

``deliver`` is the slow step the whole course is about: it waits `delay` seconds first, standing in for a slow
third-party call (the seed hard-codes 5 seconds), then hands the message to the course's mail catcher over SMTP.
A check that must see what the learner's code would send runs it inside ``stand_in(record)``: there, and only in
that thread, ``deliver`` calls ``record`` instead; everyone else's ``deliver`` sends as always.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

GIF_DIR = Path(__file__).resolve().parent / "gifs"
SUBJECT = "Your thought, with a GIF"
SENDER = "work-it@example.com"
DEFAULT_DELAY = 5.0
DELAY_ENV = "WORKIT_DELAY"
SMTP_TIMEOUT = 10.0

# GIF name -> words that choose it (whole words, any case; a plural "s" is allowed).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "coffee": ("coffee", "espresso", "latte", "cappuccino", "caffeine", "tea", "mug", "morning"),
    "cat": ("cat", "kitten", "kitty", "meow", "purr", "pet"),
    "rain": ("rain", "rainy", "raining", "weather", "storm", "umbrella", "cloud", "cloudy", "wet", "drizzle"),
    "party": ("party", "happy", "celebrate", "celebration", "birthday", "yay", "hooray", "fun", "friday"),
    "sleep": ("sleep", "sleepy", "tired", "nap", "bed", "bedtime", "exhausted", "zzz", "night", "yawn"),
    "code": (
        "code",
        "coding",
        "computer",
        "python",
        "program",
        "programming",
        "bug",
        "debug",
        "laptop",
        "software",
        "developer",
    ),
    "food": ("food", "hungry", "pizza", "lunch", "dinner", "breakfast", "eat", "eating", "snack", "cake"),
    "thinking": ("think", "thinking", "thought", "idea", "wonder", "hmm", "maybe", "ponder"),
}
_PATTERNS = {
    name: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")s?\b", re.IGNORECASE)
    for name, words in KEYWORDS.items()
}


def gifs() -> list[Path]:
    """Every GIF the mailer can send, sorted by name."""
    return sorted(GIF_DIR.glob("*.gif"))


def pick_gif(thought: str) -> Path:
    """The GIF for `thought`: the theme whose keyword comes first in it, else a stable pick from its SHA-256."""
    found = [(m.start(), name) for name, pattern in _PATTERNS.items() if (m := pattern.search(thought))]
    if found:
        return GIF_DIR / f"{min(found)[1]}.gif"
    choices = gifs()
    digest = hashlib.sha256(" ".join(thought.lower().split()).encode("utf-8")).digest()
    return choices[int.from_bytes(digest[:8], "big") % len(choices)]


def _text_body(thought: str, gif: Path) -> str:
    quoted = "\n".join(f"    {line}" for line in thought.splitlines())
    return (
        f"Hi!\n\nYou shared a thought with Work-It:\n\n{quoted}\n\n"
        f"Here is a GIF about it ({gif.stem}). Open the HTML version of this email to see it.\n\n"
        "-- Work-It\n"
    )


def _html_body(thought: str, gif: Path, cid: str) -> str:
    shown = html.escape(thought, quote=True).replace("\n", "<br>\n")
    return f"""\
<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8"><title>{html.escape(SUBJECT)}</title></head>
  <body style="font-family: sans-serif; color: #223; background: #fff;">
    <p>Hi!</p>
    <p>You shared a thought with Work-It:</p>
    <blockquote style="border-left: 4px solid #8c50c8; margin: 0 0 1em 0; padding: 0.5em 1em;">{shown}</blockquote>
    <p>Here is a GIF about it:</p>
    <p><img src="cid:{cid}" alt="An animated GIF about {html.escape(gif.stem)}" width="160" height="120"></p>
    <p style="color: #667;">-- Work-It</p>
  </body>
</html>
"""


def build_message(email: str, thought: str) -> EmailMessage:
    """The email for `thought`: plain text, plus an HTML alternative showing the GIF as an inline (cid:) image.

    Everything the user typed is HTML-escaped. Only the Message-ID and the Date differ between two calls (the
    image's Content-ID is derived from the Message-ID).
    """
    gif = pick_gif(thought)
    message_id = make_msgid(domain="work-it.example")
    cid = f"gif.{message_id[1:-1]}"  # without the angle brackets, as cid: URLs want it
    msg = EmailMessage()
    msg["Subject"] = SUBJECT
    msg["From"] = SENDER
    msg["To"] = email
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id
    msg.set_content(_text_body(thought, gif))
    msg.add_alternative(_html_body(thought, gif, cid), subtype="html")
    html_part = msg.get_body(preferencelist=("html",))  # the alternative just added
    assert html_part is not None
    html_part.add_related(
        gif.read_bytes(), maintype="image", subtype="gif", cid=f"<{cid}>", filename=gif.name, disposition="inline"
    )
    return msg


def default_delay() -> float:
    """Seconds the slow step takes when no delay is given: ``$WORKIT_DELAY``, else 5."""
    value = os.environ.get(DELAY_ENV, "").strip()
    return float(value) if value else DEFAULT_DELAY


def smtp_address() -> tuple[str, int]:
    """(host, port) of the course's running mail catcher. Never starts it: a stopped catcher is a real failure."""
    from ..services import mailcatcher

    service = mailcatcher.status()
    if service is None:
        raise ConnectionError(
            "the mail server did not answer: the course's mail catcher is not running. "
            "Start it with mailcatcher.start() (or `python -m support up`)."
        )
    return mailcatcher.HOST, service.port


def send(msg: EmailMessage, address: tuple[str, int] | None = None) -> None:
    """Hand `msg` to the SMTP server at `address` (default: the course's catcher); ConnectionError if it is down."""
    host, port = address or smtp_address()
    try:
        with smtplib.SMTP(host, port, local_hostname="localhost", timeout=SMTP_TIMEOUT) as smtp:
            smtp.send_message(msg)  # not sendmail(msg.as_bytes()): that one is refused ("Line too long")
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:  # no proper SMTP greeting
        raise ConnectionError(f"the mail server at {host}:{port} did not answer properly ({exc}).") from exc
    except smtplib.SMTPException:  # it answered, and refused something: not a connection problem
        raise
    except OSError as exc:  # refused, unreachable, timed out
        raise ConnectionError(
            f"the mail server at {host}:{port} did not answer ({exc}). Is the mail catcher "
            "running? Start it with mailcatcher.start()."
        ) from exc


def deliver_now(email: str, thought: str) -> str:
    """Send the GIF email at once (no slow step). Returns its Message-ID."""
    msg = build_message(email, thought)
    send(msg)
    return msg["Message-ID"]


Deliverer = Callable[[str, str, "float | None"], str]  # what deliver is called with: email, thought, delay
_STAND_IN: ContextVar[Deliverer | None] = ContextVar("deliver_stand_in", default=None)


@contextmanager
def stand_in(deliverer: Deliverer) -> Iterator[None]:
    """Inside the block, the ``deliver`` calls of this thread (this context) go to ``deliverer(email, thought,
    delay)`` instead, and return what it returns. Nothing else changes: another thread, the app, a worker still
    send."""
    token = _STAND_IN.set(deliverer)
    try:
        yield
    finally:
        _STAND_IN.reset(token)


def deliver(email: str, thought: str, delay: float | None = None) -> str:
    """The slow step: wait `delay` seconds (a slow third-party call), then send the GIF email. Returns its Message-ID.
    (Inside ``stand_in``, the stand-in's answer instead.)"""
    deliverer = _STAND_IN.get()
    if deliverer is not None:
        return deliverer(email, thought, delay)
    time.sleep(default_delay() if delay is None else delay)
    return deliver_now(email, thought)
