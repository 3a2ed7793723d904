"""A stranger's program holding ports, for the tests of how the course moves off a busy port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager


@contextmanager
def foreign_listeners(ports: list[int]) -> Iterator[list[int]]:
    """Hold each port with a plain listening socket on 127.0.0.1 and yield the ports held; 0 takes any free port.

    Tests pass 0 and make the port they got the course's preferred one: a fixed port such as 3000 may be held, or
    freed in the middle of the test, by a test running beside this one."""
    with ExitStack() as stack:
        held = []
        for port in ports:
            sock = stack.enter_context(socket.socket())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is no owner
            sock.bind(("127.0.0.1", port))  # a busy fixed port raises OSError: the test is not holding it
            sock.listen()
            held.append(sock.getsockname()[1])
        yield held
