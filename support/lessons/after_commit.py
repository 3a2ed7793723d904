"""Enqueue after commit, for ``09_reliability``: a job that reads a row the request has not committed.

Each ``submit_*`` function is one way for the app's request to save a thought in SQLite
(``services.thoughts_db``) and have ``support.production_jobs.deliver_thought`` deliver it; `roll_back` makes the
request fail after it saved the row (the transaction is rolled back). ``run_requests`` sends the same batch of
requests through one of them and counts what happened (``Tally``).

``submit_enqueue_inside`` can make the worker win the race on purpose (`worker_first`): the transaction stays open
until the job has finished. That is what happens whenever a worker is quicker than the rest of a request; here it
happens every time, so the counts do not depend on luck.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rq import Queue
from rq.job import Job

from .. import production_jobs
from ..rq_helpers import job_watch, recovery
from ..services import thoughts_db

NOT_FOUND = "is not in the database"  # what deliver_thought's LookupError says


class RequestFailed(Exception):
    """The rest of the request failed after the row was saved (a validation, another service): roll back."""


class RelayCrashed(Exception):
    """The outbox relay died between enqueueing a job and marking its row sent (made to, for the lesson); `jobs`
    are the jobs it had queued."""

    def __init__(self, message: str, jobs: list[Job]) -> None:
        super().__init__(message)
        self.jobs = jobs


@dataclass
class Attempt:
    """One request: the thought's id, whether its transaction committed, the jobs it (or the relay) queued."""

    thought_id: int
    committed: bool
    jobs: list[Job] = field(default_factory=list)


@contextmanager
def request_transaction(attempt: Attempt, roll_back: bool = False) -> Iterator[sqlite3.Connection]:
    """One request's transaction, as the app's request handler has it: the block saves with the connection it is
    given; then the request fails (`roll_back`: the transaction is rolled back) or the transaction commits and
    `attempt.committed` becomes True."""
    db = thoughts_db.connect()
    try:
        with db:
            yield db
            if roll_back:
                raise RequestFailed("the rest of the request failed")
        attempt.committed = True
    except RequestFailed:
        pass
    finally:
        db.close()


def submit_enqueue_inside(
    q: Queue, email: str, text: str, roll_back: bool = False, worker_first: bool = False
) -> Attempt:
    """The mistake: enqueue while the transaction is still open, then commit (or roll back)."""
    attempt = Attempt(0, False)
    with request_transaction(attempt, roll_back) as db:
        attempt.thought_id = thoughts_db.add_thought(db, email, text)
        attempt.jobs.append(q.enqueue(production_jobs.deliver_thought, attempt.thought_id, result_ttl=600))
        if worker_first:
            job_watch.wait_for_jobs(attempt.jobs, timeout=30)  # the worker is done before we commit
    return attempt


def submit_after_commit(q: Queue, email: str, text: str, roll_back: bool = False) -> Attempt:
    """The first fix: commit, then enqueue. A rolled-back request queues nothing."""
    attempt = Attempt(0, False)
    with request_transaction(attempt, roll_back) as db:
        attempt.thought_id = thoughts_db.add_thought(db, email, text)
    if attempt.committed:
        attempt.jobs.append(q.enqueue(production_jobs.deliver_thought, attempt.thought_id, result_ttl=600))
    return attempt


def submit_with_outbox(
    q: Queue, email: str, text: str, roll_back: bool = False, func: str = "support.production_jobs.deliver_thought_once"
) -> Attempt:
    """The second fix: write the job into the outbox table in the same transaction; ``relay`` enqueues it later.
    (`q` is not used: the request never talks to Redis.)"""
    attempt = Attempt(0, False)
    with request_transaction(attempt, roll_back) as db:
        attempt.thought_id = thoughts_db.add_thought(db, email, text)
        thoughts_db.add_to_outbox(db, func, attempt.thought_id)
    return attempt


def relay(q: Queue, crash_after_enqueue: bool = False) -> list[Job]:
    """Move every unsent outbox row to RQ: enqueue its job, then mark the row sent. With `crash_after_enqueue`, the
    relay dies (RelayCrashed) after enqueueing the first row and before marking it: the row stays unsent."""
    db = thoughts_db.connect()
    queued = []
    try:
        for row in thoughts_db.unsent(db):
            queued.append(q.enqueue(row["func"], row["thought_id"], result_ttl=600))
            if crash_after_enqueue:
                raise RelayCrashed("the relay died after enqueueing a job, before marking its row sent", queued)
            thoughts_db.mark_sent(db, row["id"])
    finally:
        db.close()
    return queued


# --- many requests, counted -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a batch of requests led to."""

    requests: int
    rolled_back: int
    jobs: int  # jobs queued for these requests
    jobs_for_rolled_back: int  # of which for a thought that was rolled back
    found_nothing: int  # jobs that failed because their thought was not in the database
    delivered: int  # thoughts delivered at least once
    committed: int


def found_nothing(job: Job) -> bool:
    """True when the job failed because its thought was not in the database."""
    return job_watch.status(job) == "failed" and NOT_FOUND in recovery.error_line(job)


def run_requests(
    submit: Callable[..., Attempt],
    q: Queue,
    requests: int = 12,
    roll_back_every: int = 4,
    after: Callable[[], list[Job]] | None = None,
    **options: object,
) -> Tally:
    """Send `requests` requests through `submit` (every `roll_back_every`-th one fails and rolls back), run
    `after` (the outbox relay) if given, wait for every job, and count."""
    attempts = [
        submit(q, f"user{i}@example.com", f"Thought number {i}", roll_back=(i % roll_back_every == 0), **options)
        for i in range(1, requests + 1)
    ]
    extra = after() if after else []
    by_thought = {job.args[0]: job for job in extra}
    for attempt in attempts:
        if attempt.thought_id in by_thought:
            attempt.jobs.append(by_thought[attempt.thought_id])
    jobs = [job for attempt in attempts for job in attempt.jobs]
    job_watch.wait_for_jobs(jobs, timeout=60)
    rolled_back = [a for a in attempts if not a.committed]
    return Tally(
        requests=requests,
        rolled_back=len(rolled_back),
        jobs=len(jobs),
        jobs_for_rolled_back=sum(len(a.jobs) for a in rolled_back),
        found_nothing=sum(found_nothing(job) for job in jobs),
        delivered=sum(production_jobs.deliveries(a.thought_id) > 0 for a in attempts),
        committed=len(attempts) - len(rolled_back),
    )
