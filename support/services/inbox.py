"""The course's inbox: read the mail that the mail catcher caught, from any process or kernel.

Every caught message is one file in the Maildir ``.course/maildir/`` (``support.services.mailcatcher`` writes it). This
module only reads that folder (and empties it on ``clear()``), so it works whether or not the catcher runs::

    from support.services import inbox
    inbox.clear()
    ...                                   # something sends an email
    [mail] = inbox.wait_for(1)            # polls until it is there
    mail.subject, mail.to, mail.images.keys()
"""

from __future__ import annotations

import base64
import email
import email.parser
import email.policy
import functools
import mailbox
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import mailcatcher
from .maildir import folder, maildir
from .processes import wait_until

if TYPE_CHECKING:
    from rq.job import Job

POLL_INTERVAL = 0.02  # seconds between two looks at the folder in wait_for()


@dataclass(frozen=True)
class Message:
    """One caught email, parsed."""

    id: str  # the Maildir key
    subject: str
    sender: str  # the From header as written, e.g. 'Work-It <hello@work-it.test>'
    to: list[str]  # the addresses of the To header (the envelope's when there is no To header)
    date: datetime  # the Date header (aware), else the time the catcher stored the message
    text: str = field(repr=False)  # the plain-text body, or ""
    html: str = field(repr=False)  # the HTML body, or ""
    images: dict[str, tuple[str, bytes]] = field(repr=False)  # inline images: content id -> (mime type, bytes)
    raw: bytes = field(repr=False)  # the whole message as stored
    received: datetime | None = field(default=None, repr=False)  # when the catcher stored it (file mtime)

    @property
    def envelope_to(self) -> list[str]:
        """Whom the message was really sent to (the SMTP envelope: includes Bcc), as the catcher recorded it."""
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(self.raw)
        value = str(headers.get("X-Envelope-To", ""))
        return [part.strip() for part in value.split(",") if part.strip()]

    def inline_html(self) -> str:
        """The HTML body with every ``cid:`` reference to an inline image replaced by a ``data:`` URI."""

        def to_data_uri(match: re.Match[str]) -> str:
            image = self.images.get(unquote(match.group(1)))
            if image is None:
                return match.group(0)
            mime, data = image
            return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

        return re.sub(r"cid:([^\s\"'<>)]+)", to_data_uri, self.html, flags=re.IGNORECASE)

    @classmethod
    def from_bytes(cls, raw: bytes, id: str = "", received: datetime | None = None) -> Message:
        """Parse one message as stored in the Maildir."""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return cls(
            id=id,
            subject=str(msg.get("Subject", "")),
            sender=str(msg.get("From", "")) or str(msg.get("X-Envelope-From", "")),
            to=_addresses(msg, "To") or _addresses(msg, "X-Envelope-To"),
            date=_date(msg) or received or datetime.now(timezone.utc),
            text=_body(msg, "plain"),
            html=_body(msg, "html"),
            images=_images(msg),
            raw=raw,
            received=received,
        )


def _addresses(msg: EmailMessage, name: str) -> list[str]:
    header = msg.get(name)
    if header is None:
        return []
    try:
        found = [addr.addr_spec for addr in getattr(header, "addresses", ())]
    except (AttributeError, ValueError, IndexError):
        found = []
    return found or [part.strip() for part in str(header).split(",") if part.strip()]


def _date(msg: EmailMessage) -> datetime | None:
    try:
        header = msg.get("Date")
        value = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError):
        return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _content(part: EmailMessage) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")


def _body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    return _content(part) if part is not None else ""  # type: ignore[arg-type]


def _images(msg: EmailMessage) -> dict[str, tuple[str, bytes]]:
    images: dict[str, tuple[str, bytes]] = {}
    for part in msg.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                images[str(cid).strip().strip("<>")] = (part.get_content_type(), data)
    return images


@functools.lru_cache(maxsize=512)
def _load(path: str, key: str) -> Message:
    """One message, parsed once: Maildir files never change after delivery (the cache key holds the folder)."""
    box = mailbox.Maildir(path, factory=None, create=False)
    raw = box.get_bytes(key)
    stored = datetime.fromtimestamp(box.get_message(key).get_date(), timezone.utc)  # the file's mtime
    return Message.from_bytes(raw, id=key, received=stored)


# --- the API -------------------------------------------------------------------------------------------------


def keys() -> list[str]:
    """The keys of all messages (cheap: lists the folder, reads no message)."""
    return sorted(maildir().keys())


def messages(limit: int | None = None) -> list[Message]:
    """All caught messages, newest first (by the time they were caught); at most `limit` of them."""
    path = str(folder())
    found = []
    for key in keys():
        try:
            found.append(_load(path, key))
        except (KeyError, FileNotFoundError):  # removed meanwhile (clear() in another kernel)
            continue
    found.sort(key=lambda m: (m.received or m.date, m.id), reverse=True)
    return found[:limit] if limit is not None else found


def get(id: str) -> Message:
    """The message with Maildir key `id`."""
    try:
        if id not in maildir():  # the cache remembers removed messages: look first
            raise KeyError(id)
        return _load(str(folder()), id)
    except (KeyError, FileNotFoundError):
        raise KeyError(
            f"No message with id {id!r} in the inbox ({count()} messages there now; was it cleared?)"
        ) from None


def count() -> int:
    """How many messages the inbox holds."""
    return len(keys())


def clear() -> int:
    """Delete every message; returns how many were removed."""
    box = maildir()
    removed = 0
    for key in box.keys():
        try:
            box.remove(key)
            removed += 1
        except (KeyError, FileNotFoundError):  # somebody else removed it first
            pass
    return removed


def to_address(addr: str) -> list[Message]:
    """The messages sent to `addr` (To header or SMTP envelope, case-insensitive), newest first."""
    wanted = addr.strip().lower()
    return [
        m for m in messages() if wanted in {a.lower() for a in m.to} or wanted in {a.lower() for a in m.envelope_to}
    ]


def wait_for(count: int = 1, match: Callable[[Message], bool] | None = None, timeout: float = 10.0) -> list[Message]:
    """Poll until at least `count` messages (that `match`, when given) are in the inbox; return them, newest first.

    Messages already there count too: ``clear()`` first, or pass a `match`, to wait for new ones only.
    Raises TimeoutError after `timeout` seconds.
    """
    every: list[Message] = []
    found: list[Message] = []

    def arrived() -> bool:
        every[:] = messages()
        found[:] = [m for m in every if match is None or match(m)]
        return len(found) >= count

    if not wait_until(arrived, timeout, POLL_INTERVAL):
        raise TimeoutError(_timeout_message(count, match, timeout, len(found), len(every)))
    return found


def _timeout_message(
    count: int, match: Callable[[Message], bool] | None, timeout: float, found: int, total: int
) -> str:
    what = f"{count} message{'s' if count != 1 else ''}" + (" matching your condition" if match else "")
    text = f"Waited {timeout:g} s for {what}, but {found} arrived"
    if match:
        text += f" (the inbox holds {total} in all)"
    service = mailcatcher.status()
    if service is None:
        text += (
            ". The mail catcher is not running, so nothing can arrive: start it with "
            "`support.services.mailcatcher.start()` and send again."
        )
    else:
        text += (
            f". The mail catcher runs on {service.url}: was the mail sent there, and did the code "
            f"that sends it run (is a worker running)?"
        )
    return text


def summary_lines(limit: int | None = None) -> list[str]:
    """One line per message, newest first: ``subject — recipients`` (no times or ids, so it can be printed in a
    notebook whose outputs are compared; sort it yourself when messages may arrive in any order)."""
    return [f"{m.subject or '(no subject)'} — {', '.join(m.to) or '(no recipient)'}" for m in messages(limit)]


def mail_for(job: Job, timeout: float = 10.0) -> Message:
    """The caught email that `job` (a ``send_gif_email`` job, finished) sent, found by the Message-ID it returned."""
    wanted = job.return_value()
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)

    def sent_by_job(message: Message) -> bool:
        return str(parser.parsebytes(message.raw).get("Message-ID", "")) == wanted

    [found, *_] = wait_for(1, match=sent_by_job, timeout=timeout)
    return found
