"""What ``02_redis`` shows about a Redis left at its stock settings: what a ``kill -9`` costs the queued jobs with
the default persistence (RDB snapshots only) and with the append-only file on, and what a full memory does to them
under an evicting ``maxmemory-policy`` and under ``noeviction``.

Each demonstration starts a second server of its own (the course's program, ``redis_server.binary()``), never the
course's Redis: a fresh folder under the state folder's ``demo-redis/``, a free port on 127.0.0.1, a password of its
own in a 0600 config file there (the only line in it), and the stock settings otherwise. It puts real RQ jobs on it,
counts, and stops the server and removes the folder in a ``finally``, whatever happens.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from rq import Queue
from rq.job import Job

from ..services import process_control, state
from ..services.ports import HOST, free_port
from ..services.redis_server import binary

QUEUE = "durability-demo"
JOB = "support.jobs.send_gif_email"  # a real job function, named by its path; nothing here runs it


@dataclass
class DemoServer:
    """A second server for one demonstration: its folder, port and password, and the running process."""

    folder: Path
    port: int
    password: str
    options: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> redis.Redis:
        """Start (or start again, on the same folder and port) and wait until it answers; a client of it."""
        config = self.folder / "demo.conf"
        state.write_private(config, f'requirepass "{self.password}"\n')
        argv = [binary(), str(config), "--bind", HOST, "--port", str(self.port), "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            [*argv, *self.options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder
        )
        client = redis.Redis(host=HOST, port=self.port, password=self.password, socket_timeout=5)
        if not process_control.wait_until(lambda: _answers(client), timeout=10):
            raise RuntimeError("The demonstration's Redis did not start within 10 s.")
        return client

    def kill9(self) -> None:
        """SIGKILL, as ``kill -9``: no warning, no last save. Returns once the process is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def demo_server(*options: str) -> Iterator[DemoServer]:
    """A second server with the stock settings plus `options` (``"--appendonly", "yes"``); stopped and its folder
    removed on the way out, even when the block fails."""
    parent = state.subdir("demo-redis")
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    server = DemoServer(folder, free_port(), secrets.token_urlsafe(16), options)
    try:
        yield server
    finally:
        server.kill9()
        shutil.rmtree(folder, ignore_errors=True)


def _enqueue(client: redis.Redis, n: int, thought: str = "Will I survive?") -> list[str]:
    queue = Queue(QUEUE, connection=client)
    return [queue.enqueue(JOB, f"reader{i}@example.com", thought).id for i in range(n)]


def _jobs_left(client: redis.Redis, ids: list[str]) -> tuple[int, int]:
    """(ids still in the queue, job records still in Redis) out of `ids`."""
    return Queue(QUEUE, connection=client).count, sum(Job.exists(i, connection=client) for i in ids)


@dataclass
class CrashResult:
    """What a ``kill -9`` of a server left of the jobs queued on it."""

    settings: dict[str, str]  # appendonly, appendfsync, save: as the server answered CONFIG GET
    enqueued: int
    queued_after: int  # ids in the queue after the restart
    records_after: int  # job hashes left after the restart
    no_expiry: bool  # the queue and every queued job's record had no TTL before the kill

    def report(self) -> str:
        s = self.settings
        return (
            f"appendonly {s['appendonly']}, appendfsync {s['appendfsync']}: {self.enqueued} jobs enqueued; after "
            f"kill -9 and a restart, {self.queued_after} in the queue and {self.records_after} job records"
        )


STOCK = ("appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy")


def _config(client: redis.Redis, names: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:  # one name per CONFIG GET: Redis 6.2 takes only one
        for key, value in client.config_get(name).items():
            found[_text(key)] = _text(value)
    return {name: found[name] for name in names}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def stock_settings() -> dict[str, str]:
    """What a server started with none of these settings given answers to ``CONFIG GET`` for each of ``STOCK``."""
    with demo_server() as server:
        return _config(server.start(), STOCK)


def kill9_and_count(n: int = 20, *options: str) -> CrashResult:
    """Start a second server (stock settings plus `options`), enqueue `n` RQ jobs, ``kill -9`` it right after the
    last ``enqueue`` returned, start it again on the same folder, and count what is left.

    With the append-only file on, the kill waits until Redis has handed every answered write to the operating system
    (``INFO persistence``: ``aof_buffer_length`` 0), which is at once unless a slow fsync made it hold writes back
    (up to 2 s: Valkey ``src/aof.c``, ``flushAppendOnlyFile``): the count is then the same on every machine."""
    with demo_server(*options) as server:
        client = server.start()
        settings = _config(client, STOCK[:3])
        ids = _enqueue(client, n)
        queue_key = Queue(QUEUE, connection=client).key
        no_expiry = client.ttl(queue_key) == -1 and all(client.ttl(Job.key_for(i)) == -1 for i in ids)
        if settings["appendonly"] == "yes":
            process_control.wait_until(lambda: client.info("persistence").get("aof_buffer_length", 0) == 0, 3)
        server.kill9()
        client = server.start()
        queued, records = _jobs_left(client, ids)
        return CrashResult(settings, n, queued, records, no_expiry)


@dataclass
class FillResult:
    """What enqueueing into a full Redis did, under one ``maxmemory-policy``."""

    policy: str
    enqueued: int  # enqueue calls that returned a job
    refused: str  # the error the first refused enqueue raised ("" if none was refused)
    queued_now: int  # ids in the queue at the end
    records_now: int  # job records of the enqueued jobs still in Redis
    evicted: int  # INFO stats evicted_keys

    def report(self) -> str:
        """Deterministic: which keys an evicting policy picks is random (it samples), so no counts."""
        if self.refused:
            return f"maxmemory-policy {self.policy}: an enqueue was refused:\n  {self.refused}"
        return f"maxmemory-policy {self.policy}: all {self.enqueued} enqueue calls returned a job, none raised"

    @property
    def lost(self) -> bool:
        """Some enqueued job is gone: its id from the queue, or its record."""
        return self.queued_now < self.enqueued or self.records_now < self.enqueued


def fill_memory(policy: str, attempts: int = 400, maxmemory: str = "4mb", thought_kb: int = 16) -> FillResult:
    """Start a second server with ``maxmemory`` (default 4 MB) and `policy`, and enqueue up to `attempts` RQ jobs
    whose argument is a `thought_kb` KB text (about 6 MB in all), stopping at the first refused enqueue."""
    with demo_server("--maxmemory", maxmemory, "--maxmemory-policy", policy) as server:
        client = server.start()
        queue = Queue(QUEUE, connection=client)
        thought = secrets.token_hex(thought_kb * 512)  # random text: RQ compresses a job's data, so no repeats
        ids: list[str] = []
        refused = ""
        for i in range(attempts):
            try:
                ids.append(queue.enqueue(JOB, f"reader{i}@example.com", thought).id)
            except redis.RedisError as exc:
                # redis-py puts the failed command of RQ's pipeline first (which one varies): keep the server's words
                refused = f"{type(exc).__module__}.{type(exc).__name__}: {str(exc).split('caused error: ')[-1]}"
                break
        queued, records = _jobs_left(client, ids)
        evicted = int(client.info("stats").get("evicted_keys", 0))
        return FillResult(policy, len(ids), refused, queued, records, evicted)
