"""Exercises of ``09_reliability``: enqueue after commit; a rate limit for a provider; an id, as JSON."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from typing import Any

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.rate_limit import RateLimit

from .. import production_jobs
from ..exercises import Exercise, Incorrect, NotAttempted, call, describe, require_function
from ..rq_helpers import queues
from ..services import thoughts_db
from ._production_runs import DELIVER, WatchingQueue, connections_opened, left_open, redis_reachable, save_once

# --- Exercise 1: save, commit, then enqueue ----------------------------------------------------------------------


def save_thought_reference(q: Queue, email: str, text: str) -> Job:
    with closing(thoughts_db.connect()) as db:  # closed however the block ends (sqlite3's `with db` does not close)
        with db:  # commits here, or rolls back if add_thought raised
            thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(production_jobs.deliver_thought, thought_id)


def _check_save_thought(fn: Any) -> str:
    require_function(fn, "save_thought", ("q", "email", "text"))
    redis_reachable()
    marker = uuid.uuid4().hex[:10]
    q = WatchingQueue("default", connection=queues.connection())
    try:
        with connections_opened() as opened:  # the learner's connections (and the check's own, closed at once)
            save_once(fn, q, marker, 1)
            save_once(fn, q, marker, 2)  # another address and text: one job each, each for its own row
            if left_open(opened):
                raise Incorrect(
                    "Your function left a database connection open (`with db:` commits or rolls back, but does not "
                    "close it): close the connection in every case, with `with closing(thoughts_db.connect()) as "
                    "db:` or a `finally`."
                )
            before = len(q.seen)
            try:
                returned = fn(q, f"check-{marker}@example.com", "")  # the CHECK constraint refuses an empty text
            except sqlite3.IntegrityError:
                pass
            except NotAttempted:
                raise
            except Exception as exc:  # noqa: BLE001 -- the learner's own error, reported
                raise Incorrect(
                    f"Saving an empty thought raised {type(exc).__name__}: {exc}; let the database's "
                    "own error (sqlite3.IntegrityError) out."
                ) from None
            else:
                if len(q.seen) > before:
                    raise Incorrect(
                        "Saving an empty thought failed and was rolled back, but your function still "
                        "queued a job: when the save fails, queue nothing (a job for a row that does not exist)."
                    )
                raise Incorrect(
                    f"Saving an empty thought failed, and your function returned {describe(returned)}: "
                    "let the error out, so the request knows it failed."
                )
            if len(q.seen) > before:
                raise Incorrect(
                    "Saving an empty thought failed and was rolled back, but your function still queued a "
                    "job first: when the save fails, queue nothing (a job for a row that does not exist)."
                )
            if left_open(opened):
                raise Incorrect(
                    "Your function left a database connection open when the save failed (`with db:` rolls back, "
                    "but does not close it): close the connection in every case, the failed save included, with "
                    "`with closing(thoughts_db.connect()) as db:` or a `finally`."
                )
    finally:
        for seen_job, _ in q.seen:
            seen_job.delete()
    return (
        "Twice, the row was committed before its one job was queued, the job gets only its id, a failed save queues "
        "nothing, and the connection is closed either way."
    )


ex_after_commit = Exercise(
    "Exercise 1",
    _check_save_thought,
    title="Enqueue after the commit",
    hints=[
        "`with db:` is the transaction: it commits when the block ends without an error.",
        "Keep add_thought inside `with db:`; put the enqueue after the block, using the id it returned.",
        "Open the connection with `with closing(thoughts_db.connect()) as db:`: it is closed even when the insert "
        "raises.",
    ],
    solution="""\
def save_thought(q, email, text):
    with closing(thoughts_db.connect()) as db:   # closed when the block ends, even on an error
        with db:                                  # the transaction: commit, or roll back on an error
            thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(deliver_thought, thought_id)""",
    reference=save_thought_reference,
)

# --- Exercise 2: one limit for the provider ----------------------------------------------------------------------

PROVIDER_CONNECTIONS = 2


def mail_limit_reference(email: str) -> RateLimit:
    return RateLimit(key="mail-provider", concurrency=PROVIDER_CONNECTIONS)


# Addresses of other users, other providers' domains, lengths and cases: a key made from any part of the address
# (the user, the domain, its length) gives two of them two keys.
PROBE_ADDRESSES = ("ada@example.com", "grace.hopper@example.org", "LINUS@Mail.Example.NET", "ada@example.com")


def _check_mail_limit(fn: Any) -> str:
    require_function(fn, "mail_limit", ("email",))
    limits = [(email, call(fn, email)) for email in PROBE_ADDRESSES]
    for email, limit in limits:
        if not isinstance(limit, RateLimit):
            raise Incorrect(
                f"mail_limit({email!r}) returned {describe(limit)}; return an rq RateLimit(key=..., concurrency=...)."
            )
    for _, limit in limits:
        if limit.concurrency > PROVIDER_CONNECTIONS:
            raise Incorrect(
                f"concurrency={limit.concurrency} lets {limit.concurrency} sends run at once; the provider "
                f"accepts {PROVIDER_CONNECTIONS} connections at once and refuses the rest: at most "
                f"{PROVIDER_CONNECTIONS} mail jobs at once."
            )
        if limit.concurrency < PROVIDER_CONNECTIONS:
            raise Incorrect(
                f"concurrency={limit.concurrency} is safe but slower than needed: the provider accepts "
                f"{PROVIDER_CONNECTIONS} connections at once."
            )
    if len({limit.key for _, limit in limits}) > 1:
        shown = ", ".join(f"{email!r} got {limit.key!r}" for email, limit in limits)
        raise Incorrect(
            f"Not every address got the same key ({shown}): each key has its own {PROVIDER_CONNECTIONS} slots, so "
            f"ten users would open {10 * PROVIDER_CONNECTIONS} connections. The limit is the provider's, at most "
            f"{PROVIDER_CONNECTIONS} mail jobs at once over all your users: one key for every mail job."
        )
    first = limits[0][1]
    return (
        f"Every mail job shares the key {first.key!r}: at most {PROVIDER_CONNECTIONS} of them run at once, "
        "however many workers there are."
    )


ex_mail_limit = Exercise(
    "Exercise 2",
    _check_mail_limit,
    title="A rate limit for the mail provider",
    hints=[
        "RateLimit(key=..., concurrency=...): jobs with the same key share the concurrency.",
        "The key must not depend on the address: the limit is the provider's, for all your mail.",
    ],
    solution='def mail_limit(email):\n    return RateLimit(key="mail-provider", concurrency=2)',
    reference=mail_limit_reference,
)

# --- Exercise 3: an id, stored as JSON ---------------------------------------------------------------------------


def stored_payload(job: Job) -> Any:
    """The job's function and arguments as its serializer wrote them (``Job.data``: read back from Redis, where RQ
    keeps them zlib-compressed, ``Job.to_dict``), read as JSON; ValueError when it is not JSON."""
    try:
        raw = Job.fetch(job.id, connection=job.connection, serializer=job.serializer).data
    except NoSuchJobError:
        raise ValueError("the job is not in Redis") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not JSON") from exc


JSON_QUEUE = "default"  # json_queue in 09: queues.queue("default", serializer="json")


def _check_json_job(job: Any, thought: production_jobs.Thought) -> str:
    if not isinstance(job, Job):
        raise Incorrect(f"by_id is {describe(job)}; it should be the job that enqueue returns.")
    redis_reachable()
    try:
        payload = stored_payload(job)
    except ValueError:
        raise Incorrect(
            'Redis holds this job as a pickle: queue it on json_queue (the queue made with serializer="json").'
        ) from None
    func, _, args, kwargs = payload
    if job.origin != JSON_QUEUE:
        raise Incorrect(
            f"The job went to the queue {job.origin!r}: queue it on json_queue, the JSON queue named "
            f"{JSON_QUEUE!r} that the worker below listens to."
        )
    if func != DELIVER:
        raise Incorrect(
            f"The job runs {func}; the exercise asks for deliver_thought, which reads the thought by its id."
        )
    status = job.get_status(refresh=True)
    if status in ("scheduled", "deferred"):
        raise Incorrect(
            f"The job is {status.value}, not queued: queue it on json_queue now (json_queue.enqueue), so that the "
            "worker below takes it."
        )
    given = args[0] if len(args) == 1 and not kwargs else kwargs.get("thought_id") if not args else None
    if given != thought.id or type(given) is not int or len(args) + len(kwargs) != 1:
        raise Incorrect(
            f"The job's arguments are {describe(args)}{f' and {describe(kwargs)}' if kwargs else ''}: pass only "
            "thought.id, its id (a number JSON can hold), and let the job read the rest from the database."
        )
    return (
        "The job is stored as JSON (RQ compresses it with zlib before writing it to Redis): the function's path and "
        "one number, the thought's id."
    )


def json_job_reference(json_queue: Queue, thought: production_jobs.Thought) -> Job:
    return json_queue.enqueue(production_jobs.deliver_thought, thought.id)


ex_json_id = Exercise(
    "Exercise 3",
    _check_json_job,
    title="Pass an id, stored as JSON",
    hints=[
        "json_queue stores jobs as JSON; the default queue as a pickle.",
        "by_id = json_queue.enqueue(deliver_thought, ...) with the thought's id.",
    ],
    solution="by_id = json_queue.enqueue(deliver_thought, thought.id)",
    fallback=json_job_reference,
    use_after_check=True,  # the check needs the thought: use(job, json_queue, thought) goes on once it passed
)

__all__ = ["ex_after_commit", "ex_mail_limit", "ex_json_id", "stored_payload", "PROVIDER_CONNECTIONS"]
