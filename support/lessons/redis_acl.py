"""Who may do what in Redis, for ``09_reliability``: the serializer is not the security boundary.

RQ finds a job's function from the dotted path stored with the job (``Job.func`` calls ``rq.utils.import_attribute``
on it, with no allow-list), whatever the serializer: a JSON job that names ``os.system`` gets ``os.system``. So
whoever can write to Redis can make the workers run code. ``resolve_without_running`` shows it safely: the job is
saved in Redis but on no queue, read back as a worker reads it, and its function is looked up, never called.

The boundary is who may connect, and with which rights: a password, TLS and a private network for the first; ACL
users (Redis 6+, Valkey) for the second. ``limited_user`` makes one on the course's Redis for a ``with`` block (its
rules: every key and channel, every command but those in the ``@dangerous`` category: CONFIG, FLUSHALL, KEYS,
SHUTDOWN, ACL...), and removes it afterwards, even when the block fails. ``try_command`` runs one command as that
user and says what the server answered.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from rq import Queue
from rq.job import Job

from .. import ops_jobs
from ..rq_helpers import queues
from ..services import redis_server

USER = "workit-app"
RULES = ("~*", "&*", "+@all", "-@dangerous")  # every key and channel; every command but the dangerous ones


@dataclass
class Resolved:
    """A job saved in Redis (on no queue) and read back as a worker would read it."""

    stored: str  # its function and arguments as the serializer wrote them
    func_name: str
    func: object  # what Job.func resolved the name to: not called


def resolve_without_running(func_name: str, *args: object, serializer: str = "json") -> Resolved:
    """Save a job that names `func_name` in Redis, on no queue (no worker will take it), fetch it back as a worker
    does, and look up its function (``job.func``) without calling it; the job is deleted again."""
    conn = queues.connection()
    job = Job.create(func_name, args=args, connection=conn, serializer=serializer)
    job.save()
    try:
        fetched = Job.fetch(job.id, connection=conn, serializer=serializer)
        return Resolved(
            stored=fetched.data.decode("utf-8", "replace"), func_name=str(fetched.func_name), func=fetched.func
        )
    finally:
        job.delete()


@dataclass
class LimitedUser:
    """An ACL user of the course's Redis, for as long as its ``with`` block runs."""

    name: str
    rules: tuple[str, ...]
    client: redis.Redis  # connected as this user
    url: str  # its URL, password included: not for printing


def _url_as(user: str, password: str) -> str:
    parts = urlsplit(redis_server.address())
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"))


@contextmanager
def limited_user(name: str = USER, rules: tuple[str, ...] = RULES) -> Iterator[LimitedUser]:
    """Create the ACL user `name` with `rules` and a password of its own (``ACL SETUSER``, as the course's admin,
    the ``default`` user), yield it, and delete it afterwards (``ACL DELUSER``), even when the block fails."""
    admin = queues.connection()
    password = secrets.token_urlsafe(24)
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", f">{password}", *rules)
    client = redis.Redis.from_url(_url_as(name, password))
    try:
        yield LimitedUser(name=name, rules=rules, client=client, url=_url_as(name, password))
    finally:
        client.close()
        admin.execute_command("ACL", "DELUSER", name)


def try_command(user: LimitedUser, *command: str) -> str:
    """Run `command` as `user`; the server's answer, or its error (``NOPERM ...`` when the ACL refuses it)."""
    try:
        answer = user.client.execute_command(*command)
    except redis.exceptions.NoPermissionError as exc:
        return f"NOPERM {exc}"
    except redis.exceptions.ResponseError as exc:
        return f"error: {exc}"
    if answer is True:  # redis-py turns +OK and +PONG into True
        return "OK"
    return answer.decode() if isinstance(answer, bytes) else repr(answer)


QUEUE = "acl-demo"  # a queue of its own: no course worker listens to it


def enqueue_and_work(user: LimitedUser, timeout: float = 60.0) -> str:
    """Queue a short job on ``QUEUE`` as `user` (JSON), run ``rq worker --burst`` logged in as `user` (its URL in
    ``RQ_REDIS_URL``, never on the command line) until the queue is empty, and say what became of the job: its status
    and result, or the worker's exit code when it failed."""
    queue = Queue(QUEUE, connection=user.client, serializer="json")
    job = queue.enqueue(ops_jobs.work_for, 0.1)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rq.cli", "worker", "--burst", "--serializer", "json", QUEUE],
            env={**os.environ, "RQ_REDIS_URL": user.url},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        status = job.get_status(refresh=True).value
        if done.returncode != 0 or status != "finished":
            return f"{status} (the worker exited with {done.returncode})"
        return f"{status}, result {job.return_value()}"
    finally:
        job.delete()
        queue.delete(delete_jobs=True)


def user_exists(name: str) -> bool:
    """Is `name` one of the ACL users of the course's Redis (``ACL USERS``)?"""
    users = queues.connection().execute_command("ACL", "USERS")
    return name in {u.decode() if isinstance(u, bytes) else u for u in users}
