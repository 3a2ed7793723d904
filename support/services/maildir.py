"""The course's Maildir ``.course/maildir/``: the folder the mail catcher writes each caught message into, and
the inbox reads. One file per message; a message is written to ``tmp/`` and then moved to ``new/``."""

from __future__ import annotations

import mailbox
from pathlib import Path

from . import state


def folder() -> Path:
    """The Maildir folder (with its ``tmp/``, ``new/`` and ``cur/``), created on first use."""
    path = state.subdir("maildir")
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(mode=state.PRIVATE_DIR, exist_ok=True)
    return path


def maildir() -> mailbox.Maildir:
    """The stdlib view of the inbox folder (a fresh one: the folder may have been wiped since the last call)."""
    return mailbox.Maildir(folder(), factory=None, create=True)


def _header_safe(text: str) -> str:
    return " ".join(text.split())


def store(raw: bytes, mail_from: str = "", rcpt_tos: list[str] | None = None) -> str:
    """Deliver one message into the course's Maildir (tmp/, then new/) and return its key.

    The envelope goes in front as ``X-Envelope-From`` / ``X-Envelope-To`` headers (it holds Bcc recipients too);
    SMTP's CRLF line ends become LF, as Maildir files conventionally have them.
    """
    lines = [f"X-Envelope-From: {_header_safe(mail_from or '<>')}"]
    if rcpt_tos:
        lines.append(f"X-Envelope-To: {_header_safe(', '.join(rcpt_tos))}")
    head = "\n".join(lines).encode("utf-8", "replace") + b"\n"
    body = raw.replace(b"\r\n", b"\n")
    # A fresh Maildir object each time: the folder may have been wiped (``reset``) since the last message.
    return maildir().add(head + body)
