"""The course's MailCatcher: a local SMTP server that delivers nothing and keeps every message it is sent.

It runs as a process of its own (``python -m support.services.mailcatcher --port N``), bound to 127.0.0.1, preferring
port
1025 (any free port when something else holds it). Each caught message is written, as received, into the Maildir
``.course/maildir/`` (see ``support.services.inbox`` to read it, ``support.widgets.inbox_widget`` to watch it in a
notebook).

``start()`` is idempotent from any process: it returns the running catcher when there is one.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import logging
import signal
import smtplib
import sys
import threading
from typing import Any

from . import processes, state
from .maildir import store
from .ports import HOST
from .processes import Service

NAME = "catcher"
PREFERRED_PORT = 1025
SERVER_NAME = "mailcatcher.course.local"  # the name in the 220 greeting (avoids a slow DNS lookup of our own name)

log = logging.getLogger(__name__)


# --- inside the catcher process ---------------------------------------------------------------------------------


class MaildirHandler:
    """aiosmtpd handler: every message goes into the course's Maildir, one line about it to stdout."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or b""
        try:
            key = store(raw, envelope.mail_from or "", list(envelope.rcpt_tos or []))
        except OSError as exc:
            log.error("could not store a message: %s", exc)
            return "451 Requested action aborted: could not store the message"
        subject = email.message_from_bytes(raw, policy=email.policy.default).get("Subject", "")
        log.info(
            "caught %r from %s to %s (%d bytes) as %s",
            str(subject),
            envelope.mail_from,
            ", ".join(envelope.rcpt_tos or []),
            len(raw),
            key,
        )
        return "250 OK: caught, not delivered"


def serve(port: int) -> None:
    """Run the SMTP server on 127.0.0.1:`port` until SIGTERM or SIGINT."""
    from aiosmtpd.controller import Controller  # imported here: kernels that only start the catcher skip it

    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("got %s, stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    controller = Controller(MaildirHandler(), hostname=HOST, port=port, server_hostname=SERVER_NAME)
    controller.start()
    log.info("mail catcher listening on %s:%d, storing mail in %s", HOST, port, state.subdir("maildir"))
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        controller.stop()
        log.info("mail catcher stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.services.mailcatcher", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=PREFERRED_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO
    serve(args.port)
    return 0


# --- from any other process ------------------------------------------------------------------------------------


def _answers_smtp(port: int) -> bool:
    """True when an SMTP server greets us (220) on 127.0.0.1:`port`."""
    try:
        with smtplib.SMTP(HOST, port, local_hostname="localhost", timeout=0.5) as smtp:
            return smtp.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


def _argv(port: int) -> list[str]:
    return processes.python_argv("support.services.mailcatcher", "--port", str(port))


def start(timeout: float = 10) -> Service:
    """Start the mail catcher (or return the running one) and wait until it greets SMTP clients."""
    return processes.ensure(
        NAME, PREFERRED_PORT, _argv, url_for=lambda port: f"smtp://{HOST}:{port}", ready=_answers_smtp, timeout=timeout
    )


def stop() -> bool:
    """Stop the mail catcher (caught mail stays in the Maildir). True when a process was stopped."""
    return processes.stop(NAME)


def status() -> Service | None:
    """The running mail catcher, or None (never starts it)."""
    return processes.running(NAME)


if __name__ == "__main__":
    sys.exit(main())
