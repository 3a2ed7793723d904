"""A stranger's program holding ports, for the tests of how the course moves off a busy port."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager


@contextmanager
def foreign_listeners(ports: list[int], wait: float = 0.0) -> Iterator[list[int]]:
    """Hold each port with a plain listening socket on 127.0.0.1 and yield the ports held; 0 takes any free port.

    A port that is already busy is left as it is (held by someone else is just as good), unless `wait` is given:
    then it is tried again until it is ours, for up to `wait` seconds (a port that another test's process holds
    for a moment, when tests run side by side, must not be freed in the middle of the test)."""
    with ExitStack() as stack:
        held = []
        for port in ports:
            deadline = time.monotonic() + wait
            while True:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no owner
                try:
                    sock.bind(("127.0.0.1", port))
                    sock.listen()
                    port = sock.getsockname()[1]
                    stack.enter_context(sock)
                    break
                except OSError:
                    sock.close()
                    if time.monotonic() >= deadline:
                        if wait:
                            raise RuntimeError(f"port {port} stayed busy for {wait:g} s") from None
                        break
                    time.sleep(0.1)
            held.append(port)
        yield held
