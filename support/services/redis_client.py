"""One client of the course's Redis per process and Redis address: ``shared()``, what ``queues.connection()`` hands out.

Finding the server (``redis_server.url()``) takes the course's file lock, reads ``state.json`` and PINGs it twice,
starting it when it does not run: right once, too slow for every call (some callers poll 50 times a second). So
``shared()`` keeps one client for each state folder (``COURSE_HOME``) and ``REDIS_URL``: a kernel or a test that
points the course elsewhere gets a client of its own, and a forked process (a worker's work horse) makes its own.

The server is found when the client is made, and found again only when a connection fails. A connection that cannot
reach the address it has (Redis stopped, or started again on another port), or whose password the server refuses (a
new state folder's server on that port, a new password), asks ``redis_server.url()`` again, which starts the server
when it is not running, as every call used to, and goes to the address it gives. A command whose connection broke
is sent again on a new connection, so the caller sees nothing of it. A ``REDIS_URL`` server is the learner's:
its client is kept as well, and never sent elsewhere.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.connection import parse_url
from redis.retry import Retry

from . import redis_server

# A command whose connection failed goes again on a new connection; twice, since the first new one may still go to
# the address that failed (a stranger now listens there) before it finds the server again.
_TRY_AGAIN = Retry(NoBackoff(), 2, supported_errors=(redis.ConnectionError,))
HANDSHAKE_SECONDS = 5.0  # a server that has not answered AUTH by then is not the course's Redis


class _Where:
    """Where the course's Redis was last found (host, port, password), shared by one client's connections."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}
        self.find()

    def find(self) -> dict[str, Any]:
        """Ask where the server is now (starting it if it does not run)."""
        self.found = {k: v for k, v in parse_url(redis_server.url()).items() if k in ("host", "port", "password")}
        return self.found

    def __deepcopy__(self, memo: dict[int, Any]) -> _Where:
        return self  # redis-py may copy its connection settings: they must keep sharing this one


class _FollowingConnection(redis.Connection):
    """A connection that goes where its client last found the server, and looks again when that fails."""

    def __init__(self, *args: Any, where: _Where, **kwargs: Any) -> None:
        self.where = where
        self.new_socket: Any = None
        super().__init__(*args, **kwargs)

    def _go_to(self, found: dict[str, Any]) -> None:
        self.host, self.port, self.password = found["host"], int(found["port"]), found.get("password")

    def _connect(self) -> Any:
        self._go_to(self.where.found)  # another connection of this client may have found it elsewhere meanwhile
        try:
            sock = super()._connect()
        except OSError:  # refused, unreachable: stopped, or moved to another port
            self._go_to(self.where.find())
            sock = super()._connect()
        sock.settimeout(HANDSHAKE_SECONDS)  # until _handshake is done: a stranger on the port may never answer
        self.new_socket = sock
        return sock


def _handshake(conn: _FollowingConnection) -> None:
    """redis-py's own handshake (AUTH, SELECT). When the server refuses the password, or does not answer, the client
    finds the server again, and the error goes on as a ConnectionError: the next try (``_TRY_AGAIN``) goes there."""
    try:
        conn.on_connect()
    except (redis.AuthenticationError, redis.TimeoutError) as exc:
        conn.where.find()
        raise redis.ConnectionError(f"the course's Redis was not at {conn.host}:{conn.port} ({exc})") from exc
    conn.new_socket.settimeout(conn.socket_timeout)


_clients: dict[tuple[str, str], redis.Redis] = {}
_lock = threading.Lock()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at the fork: in the child nobody ever releases it
    _clients.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _new_client() -> redis.Redis:
    if os.environ.get("REDIS_URL"):
        return redis_server.connect()  # checked once (it must answer); the learner's server is not ours to move
    where = _Where()
    pool = redis.ConnectionPool(
        connection_class=_FollowingConnection,
        where=where,
        redis_connect_func=_handshake,
        retry=_TRY_AGAIN,
        **where.found,
    )
    return redis.Redis(connection_pool=pool)


def shared() -> redis.Redis:
    """The client of the course's Redis for this process, state folder and ``REDIS_URL``, made (and the server
    started, if needed) on first use."""
    key = (os.environ.get("COURSE_HOME", ""), os.environ.get("REDIS_URL", ""))
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _new_client()
    return client
