"""A stranger's program holding ports, for the tests of how the course moves off a busy port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager


@contextmanager
def foreign_listeners(ports: list[int]) -> Iterator[list[int]]:
    """Hold each port with a plain listening socket on 127.0.0.1 and yield the ports held; 0 takes any free port.
    A port that is already busy is left as it is: held by someone else is just as good."""
    with ExitStack() as stack:
        held = []
        for port in ports:
            sock = stack.enter_context(socket.socket())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no owner
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
                port = sock.getsockname()[1]
            except OSError:
                pass
            held.append(port)
        yield held
