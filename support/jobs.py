"""The course's reference job: the slow GIF email, as a function a worker can import by its path.

A worker runs it as ``support.jobs.send_gif_email``: job code must live in an importable module, never in a
notebook cell (``__main__``).
"""

from __future__ import annotations

from .workit import mailer


def send_gif_email(email: str, thought: str, delay: float | None = None) -> str:
    """Send `thought` to `email` with a GIF (the slow way: `delay` seconds first). Returns the Message-ID."""
    return mailer.deliver(email, thought, delay)
