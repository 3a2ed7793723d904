"""The background refresh behind the course's live widgets (inbox, dashboard).

A widget is created in the main thread; a `Poller` then calls its ``refresh()`` every few tenths of a second in
a daemon thread, which only sets widget values and never prints, so nothing lands in whichever cell runs next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Poller:
    """Calls `refresh` every `interval` seconds in a daemon thread until `stop()`."""

    def __init__(self, refresh: Callable[[], object], interval: float, name: str) -> None:
        self.interval = interval
        self._refresh = refresh
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Poller:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._refresh()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop refreshing and wait (briefly) for the thread to end; safe to call twice or from the thread."""
        self._stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=2)
