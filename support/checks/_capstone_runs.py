"""How 11_capstone's checks run the learner's files: the GifSenderJob class read from ``capstone_job.py``, a probe job
queued through its ``perform_later`` and read back from Redis, ``perform`` run with ``deliver`` recorded (alone, or
two tries of one thought at once while Redis holds every write back), the failure callback handed real jobs, and the
database connections a ``create`` opened."""

from __future__ import annotations

import threading
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import redis
from rq.job import Job
from rq.utils import as_text

from ..active_job import ActiveJob, perform_job
from ..exercises import Incorrect, NotAttempted, call, is_placeholder, load_module_from
from ..lessons import capstone
from ..rq_helpers import queues
from ..services import thoughts_db
from ..workit import mailer
from ._production_runs import connections_opened, left_open, redis_reachable

PROBE_EMAIL = "probe@example.com"  # one address for every probe thought: a key must name the thought, not the address
PROBE_THOUGHT = "a probe"  # one text for every probe thought: a key must name the thought_id, not the text
HOLD_WRITES_MS = 200  # how long Redis holds writes back while two tries of one thought run at once


def job_class(path: Any) -> type[ActiveJob]:
    if is_placeholder(path):
        raise NotAttempted()
    redis_reachable()
    module = load_module_from(Path(path))
    cls = getattr(module, "GifSenderJob", None)
    if not (isinstance(cls, type) and issubclass(cls, ActiveJob)):
        raise Incorrect(f"{Path(path).name} defines no GifSenderJob(ActiveJob): keep 03's class, and harden it.")
    return cls


def queued(cls: Any) -> Job:
    """The job perform_later queues for a probe, read back from Redis and deleted (no worker gets to run it)."""
    job = call(cls.perform_later, PROBE_EMAIL, "a probe of the check", 1)
    if not isinstance(job, Job):
        for stray in capstone.queued_for(PROBE_EMAIL):
            stray.delete()
        raise Incorrect("perform_later did not return the job it queued: return what enqueue gives back.")
    stored = Job.fetch(job.id, connection=queues.connection())
    job.delete()
    return stored


def probe_thought_id() -> int:
    """A thought id no other check run uses (13 digits), so that the keys naming it are this run's alone."""
    return uuid.uuid4().int % 10**12 + 10**12


def keys_for(thought_id: int) -> list[str]:
    return [as_text(k) for k in queues.connection().scan_iter(match=f"*{thought_id}*")]


def raised(expected: type[BaseException], fn: Any, *args: Any) -> BaseException | None:
    """The `expected` exception the learner's `fn` raised, or None; any other is reported as ``call`` does."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)
        except expected as exc:
            caught.append(exc)

    call(run)
    return caught[0] if caught else None


class Sends:
    """What ``deliver`` was asked to send in one perform (a stand-in records it), and whether a key naming the
    thought was in Redis at that moment."""

    def __init__(self, thought_id: int, fail: type[BaseException] | None = None) -> None:
        self.thought_id, self.fail = thought_id, fail
        self.sent: list[tuple[Any, Any]] = []
        self.unclaimed = 0  # sends while no key named the thought

    def misaddressed(self) -> str:
        """What is wrong with the sends' arguments ('' when each was deliver(email, thought) of the probe)."""
        for email, thought in self.sent:
            if (email, thought) != (PROBE_EMAIL, PROBE_THOUGHT):
                return (
                    f"perform called deliver({email!r}, {thought!r}) for the email {PROBE_EMAIL!r} and the thought "
                    f"{PROBE_THOUGHT!r}: send what perform was given, deliver(email, thought), as 03's job did."
                )
        return ""

    def __call__(self, email: Any, thought: Any, delay: Any = None) -> str:
        if not keys_for(self.thought_id):
            self.unclaimed += 1
        if self.fail is not None:
            raise self.fail("the mail server did not answer (the check made it fail)")
        self.sent.append((email, thought))
        return "<probe@course>"


def run_perform(cls: Any, thought_id: int, fail: type[BaseException] | None = None) -> tuple[Sends, Any]:
    """Run the learner's perform once for `thought_id`, deliver recorded (raising `fail` when given): the sends, and
    the `fail` error perform raised (None if it did not)."""
    sends = Sends(thought_id, fail)
    with mailer.stand_in(sends):
        if fail is None:
            call(cls().perform, PROBE_EMAIL, PROBE_THOUGHT, thought_id)
            return sends, None
        return sends, raised(fail, cls().perform, PROBE_EMAIL, PROBE_THOUGHT, thought_id)


def perform_twice_at_once(cls: Any, thought_id: int) -> int | None:
    """Two tries of one thought at once (a job enqueued twice, two workers): both start while Redis holds every
    write back (CLIENT PAUSE WRITE lets reads through), so each reads the key before either writes it. A claim made
    with SET NX lets one of them send; a read, then a plain SET lets both. Returns the emails sent; None when the
    server refuses CLIENT PAUSE (an ACL user without @dangerous, a server before 6.2): not judged then."""
    sends = Sends(thought_id)
    errors: list[BaseException] = []
    started = threading.Barrier(3, timeout=10)

    def one_try() -> None:
        with mailer.stand_in(sends):
            try:
                started.wait()
                call(cls().perform, PROBE_EMAIL, PROBE_THOUGHT, thought_id)
            except BaseException as exc:  # noqa: BLE001 -- handed back to the check's thread
                errors.append(exc)

    conn = queues.connection()
    try:
        conn.execute_command("CLIENT", "PAUSE", HOLD_WRITES_MS * 10, "WRITE")  # a safety limit: unpaused below
    except redis.ResponseError:
        return None
    threads = [threading.Thread(target=one_try, daemon=True) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        started.wait()
        threading.Event().wait(HOLD_WRITES_MS / 1000)  # both tries have read by now, and wait at their write
    finally:
        conn.execute_command("CLIENT", "UNPAUSE")
    for thread in threads:
        thread.join(10)
    if errors:
        raise errors[0]
    return len(sends.sent)


def probe_job(retries_left: int | None) -> Job:
    """A GifSenderJob's job as RQ hands it to on_failure: `retries_left` tries to go (None: it had no Retry)."""
    job = Job.create(perform_job, args=["x:y", []], connection=queues.connection(), id=f"probe-{uuid.uuid4().hex}")
    job.retries_left = retries_left
    return job


def create_once(fn: Any, n: int) -> None:
    """One request through the learner's create: exactly one job, with the saved thought's id, connection closed."""
    email, text = capstone.address("check"), f"Check {uuid.uuid4().hex[:8]} {n}"
    with connections_opened() as opened:
        job = call(fn, email, text)
        still_open = left_open(opened)
    mine = capstone.queued_for(email)
    try:
        if not isinstance(job, Job):
            raise Incorrect("create did not return the job: return what perform_later gives back.")
        if len(mine) != 1:
            raise Incorrect(
                f"create queued {len(mine)} jobs for one thought: call GifSenderJob.perform_later once, after the "
                "commit (each job sends the email)."
            )
        stored = Job.fetch(job.id, connection=queues.connection())
        args = list(stored.args[1]) if len(stored.args) > 1 else []
        if len(args) != 3 or args[:2] != [email, text]:
            raise Incorrect(f"The job got {args}: call GifSenderJob.perform_later(email, thought, thought_id).")
        with closing(thoughts_db.connect()) as db:
            row = db.execute("SELECT id, email FROM thoughts WHERE text = ?", (text,)).fetchone()
        if row is None or args[2] != row[0]:
            raise Incorrect("The job's thought_id is not the id of a saved thought: save it with add_thought first.")
        if row[1] != email:
            raise Incorrect(
                f"The saved thought has the address {row[1]!r}, not the email create was given ({email!r}): save it "
                "with thoughts_db.add_thought(db, email, thought)."
            )
        if still_open:
            raise Incorrect(
                "create left its database connection open: on a connection closed at the end, as in 09 "
                "(with closing(thoughts_db.connect()) as db:)."
            )
    finally:
        for stray in {j.id: j for j in mine + ([job] if isinstance(job, Job) else [])}.values():
            stray.delete()
