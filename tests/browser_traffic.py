"""The browser's requests: what it asked for outside Jupyter's origin (blocked), and course pages that failed.

``tests/conftest.py``'s browser context routes every request to another origin to `Traffic.block`, and every
response to `Traffic.response`.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any


class Traffic:
    """What the browser asked for outside Jupyter's origin (blocked), and course pages that failed behind the proxy."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.blocked: list[str] = []
        self.failed: list[str] = []  # a response >= 400 from a course service, through Jupyter's proxy
        self.log: list[str] = []
        self.t0 = time.monotonic()

    def block(self, route: Any) -> None:
        """A request to another origin: recorded, and refused."""
        self.blocked.append(route.request.url)
        route.abort()

    def response(self, response: Any) -> None:
        """Every response: those through Jupyter's proxy are logged, a failed one also recorded."""
        if "/proxy/" in response.url:
            self.log.append(f"{time.monotonic() - self.t0:6.1f} {response.status} {response.url[-80:]}")
            if response.status >= 400:
                self.failed.append(f"{response.status} {response.url}")

    def direct(self) -> list[str]:
        """Requests that tried to reach a course service on 127.0.0.1 without going through Jupyter."""
        return [url for url in self.blocked if urllib.parse.urlsplit(url).hostname == "127.0.0.1"]
