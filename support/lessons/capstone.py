"""The capstone, ``11_capstone``: the learner's hardened GifSenderJob against three real faults, the inbox as judge.

Each fault is real: the mail catcher is stopped (``mailcatcher.stop``) until the first try has failed; the work
horse is killed with SIGKILL after the mail server took the email and before RQ could mark the job finished; the
request's commit fails, so its transaction is rolled back. Each ``*_`` function takes the controller's
``create(email, thought)``, submits one thought through it, and returns a ``Run``: the job, where it ended, and the
emails that reached that address.

How the kill lands after the send: the job, once queued, gets a success callback (``hold_after_send``) that RQ runs
in the work horse after ``perform`` returned and before the job is marked finished (rq 3.0.0
``BaseWorker._finalize_success``); it waits at a hold (``rq_helpers.holds``) until the notebook has killed the horse.

The reference solutions are here too (``report_failure``, ``GifSenderJob``, ``create``): a worker imports the job from
``support.lessons.capstone`` when the learner's files are not done (``support.checks.capstone.ex_controller.use``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from rq import Callback, Retry
from rq.job import Job
from rq.utils import as_text

from ..active_job import ActiveJob, describe, job_path, perform_job
from ..rq_helpers import holds, job_watch, queues, recovery, workers
from ..services import inbox, mailcatcher, processes, thoughts_db
from ..services.processes import Service
from ..workit.mailer import deliver

SHORT_DELAY = "0.2"  # the mailer's slow step for this run's worker, in seconds ($WORKIT_DELAY)
HOLD_LIMIT = 20.0  # seconds a held send waits for the kill at most
DAY = 24 * 60 * 60
UNDELIVERED = "workit:undelivered"  # the failure callback's list of jobs whose last try failed


@dataclass
class Run:
    """One submission through the controller under one fault."""

    email: str
    job: Job | None = None
    status: str = "no job"
    error: str = ""
    emails: int = 0
    listed_undelivered: bool = False  # the failure callback put the job on workit:undelivered
    notes: list[str] = field(default_factory=list)


def address(name: str) -> str:
    """A fresh address for one run, so that the inbox counts only this run's emails."""
    return f"{name}+{uuid.uuid4().hex[:8]}@example.com"


def start_worker() -> Service:
    """A forking worker on mailers, with the scheduler (retries need it), its mailer's slow step 0.2 s."""
    previous = os.environ.get("WORKIT_DELAY")
    os.environ["WORKIT_DELAY"] = SHORT_DELAY  # the worker inherits it; the kernel's value comes back below
    try:
        return workers.start_worker(["mailers"], with_scheduler=True, kind="fork")
    finally:
        if previous is None:
            os.environ.pop("WORKIT_DELAY", None)
        else:
            os.environ["WORKIT_DELAY"] = previous


def _emails(email: str, wait: float = 0.0) -> int:
    if wait:
        processes.wait_until(lambda: bool(inbox.to_address(email)), wait, 0.05)
    return len(inbox.to_address(email))


def _finish(run: Run, timeout: float = 20.0) -> Run:
    assert run.job is not None
    run.status = job_watch.wait_for_status(run.job, ("finished", "failed"), timeout=timeout)
    run.error = recovery.error_line(run.job) if run.status == "failed" else ""
    run.emails = _emails(run.email, wait=1.0 if run.status == "finished" else 0.0)
    listed = queues.connection().lrange(UNDELIVERED, 0, -1)
    run.listed_undelivered = run.job.id in [as_text(v) for v in listed]
    return run


def smtp_down_for_a_while(create: Callable[[str, str], Any], thought: str) -> Run:
    """The mail catcher is down when the job first runs; it comes back once that try has failed."""
    run = Run(address("ada"))
    mailcatcher.stop()
    try:
        run.job = create(run.email, thought)
        first = job_watch.wait_for_status(run.job, ("scheduled", "failed", "finished"), timeout=15)
        run.notes.append(f"After the first try: {first}")
    finally:
        mailcatcher.start()
    return _finish(run)


def hold_after_send(job: Job, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """A success callback: in the work horse, after perform returned, wait until the notebook says go."""
    holds.wait_for_go(connection, f"capstone:{job.id}", HOLD_LIMIT)


def kill_worker_mid_send(create: Callable[[str, str], Any], thought: str, worker: Service) -> Run:
    """The work horse is killed (SIGKILL) after the mail server took the email, before RQ marked the job finished."""
    run = Run(address("bob"))
    os.kill(worker.pid, signal.SIGSTOP)  # the worker takes no job until the hold is in place
    try:
        run.job = create(run.email, thought)
        # rq 3.0.0 Job.to_dict/restore: the success callback's dotted name, stored in the job's hash
        conn = queues.connection()
        conn.hset(run.job.key, "success_callback_name", f"{__name__}.hold_after_send")
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    name = f"capstone:{run.job.id}"
    conn = queues.connection()
    if holds.wait_until_reached(conn, name, timeout=15):
        run.notes.append(f"Emails when the kill came: {_emails(run.email)}")
        horse = recovery.work_horse(worker)
        if horse is not None:
            horse.kill()
    holds.go(conn, name)  # the retry's own success callback goes straight on
    after = job_watch.wait_for_status(run.job, ("scheduled", "queued", "finished", "failed"), timeout=10)
    run.notes.append(f"Right after the kill: {after}")
    return _finish(run)


class _CommitFails(sqlite3.Connection):
    """A connection whose transaction never commits: ``with db:`` rolls back and raises, as a request that fails
    at its end does."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        if exc_type is None:
            self.rollback()
            raise sqlite3.OperationalError("the request failed after saving: the transaction was rolled back")
        return super().__exit__(exc_type, exc, tb)


@contextmanager
def commits_fail() -> Iterator[None]:
    """Inside the block, every ``thoughts_db.connect()`` in this process gives a connection that rolls back."""
    connect = thoughts_db.connect

    def failing(timeout: float = 10.0) -> sqlite3.Connection:
        db = sqlite3.connect(thoughts_db.path(), timeout=timeout, factory=_CommitFails)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(thoughts_db.SCHEMA)
        return db

    thoughts_db.connect = failing
    try:
        yield
    finally:
        thoughts_db.connect = connect


def queued_for(email: str) -> list[Job]:
    """Jobs on mailers (waiting, scheduled, being taken by a worker, running or ended) whose arguments name `email`."""
    found = []
    for job in queues.all_jobs():
        try:
            if job.origin == "mailers" and email in repr(job.args):
                found.append(job)
        except Exception:  # noqa: BLE001 -- arguments this process cannot unpickle: not a job of this lesson's
            continue
    return found


def rolled_back_request(create: Callable[[str, str], Any], thought: str) -> Run:
    """The request saves the thought, then fails: its transaction is rolled back."""
    run = Run(address("cleo"))
    with commits_fail():
        try:
            run.job = create(run.email, thought)
        except sqlite3.Error as exc:
            run.notes.append(f"The request failed: {exc}")
    jobs = queued_for(run.email)
    if jobs:
        run.job = jobs[0]
        return _finish(run)
    run.emails = _emails(run.email)  # no job: only an email sent inside the request could have gone out
    return run


# --- the reference solutions: what the proof runs when an exercise is not done ---------------------------------


def report_failure(job, connection, type, value, traceback):
    if job.retries_left:  # RQ tries again: not the end yet
        return
    connection.rpush("workit:undelivered", job.id)


class GifSenderJob(ActiveJob):
    queue_as = "mailers"

    def perform(self, email, thought, thought_id):
        r = queues.connection()
        key = f"workit:gif-sent:{thought_id}"
        if not r.set(key, "sent", nx=True, ex=24 * 60 * 60):
            return None  # an earlier try sent it
        try:
            return deliver(email, thought)
        except Exception:
            r.delete(key)  # it did not go out: let the retry send it
            raise

    @classmethod
    def perform_later(cls, email, thought, thought_id):
        args = [email, thought, thought_id]
        path, description = job_path(cls), describe(cls, args)  # what ActiveJob's perform_later hands enqueue
        return queues.queue(cls.queue_as).enqueue(
            perform_job,
            path,
            args,
            description=description,
            retry=Retry(max=3, interval=[1, 2, 4]),
            job_timeout=30,
            on_failure=Callback(report_failure),
        )


def create(email, thought):
    with closing(thoughts_db.connect()) as db:
        with db:
            thought_id = thoughts_db.add_thought(db, email, thought)
    return GifSenderJob.perform_later(email, thought, thought_id)
