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

DELIVER = "support.production_jobs.deliver_thought"

# --- Exercise 1: save, commit, then enqueue ----------------------------------------------------------------------


def save_thought_reference(q: Queue, email: str, text: str) -> Job:
    with closing(thoughts_db.connect()) as db:  # closed however the block ends (sqlite3's `with db` does not close)
        with db:  # commits here, or rolls back if add_thought raised
            thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(production_jobs.deliver_thought, thought_id)


class _WatchingQueue(Queue):
    """A real queue that notes, for each job handed to it, whether its first argument was a committed thought at
    that moment (read on a connection of its own, as a worker would)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[Job, bool]] = []

    def enqueue_job(self, job: Job, *args: Any, **kwargs: Any) -> Job:
        first = job.args[0] if job.args else None
        committed = isinstance(first, int) and thoughts_db.get_thought(first) is not None
        self.seen.append((job, committed))
        return super().enqueue_job(job, *args, **kwargs)


def _thought_id(text: str) -> int | None:
    db = thoughts_db.connect()
    try:
        row = db.execute("SELECT id FROM thoughts WHERE text = ?", (text,)).fetchone()
        return int(row[0]) if row else None
    finally:
        db.close()


def _is_open(db: sqlite3.Connection) -> bool:
    try:
        db.total_changes  # noqa: B018 -- a closed connection raises here
    except sqlite3.ProgrammingError:
        return False
    return True


def _check_save_thought(fn: Any) -> str:
    require_function(fn, "save_thought", ("q", "email", "text"))
    marker = uuid.uuid4().hex[:10]
    text = f"Check {marker}"
    q = _WatchingQueue("default", connection=queues.connection())
    opened: list[sqlite3.Connection] = []
    connect = thoughts_db.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        opened.append(db)
        return db

    thoughts_db.connect = recording_connect  # records the learner's connections (and the check's own)
    try:
        job = call(fn, q, f"check-{marker}@example.com", text)
        thought_id = _thought_id(text)
        if not q.seen:
            raise Incorrect("Your function queued no job. Enqueue deliver_thought with the thought's id.")
        queued, committed = q.seen[0]
        if queued.func_name != DELIVER:
            raise Incorrect(f"Your job runs {queued.func_name}; the exercise asks for deliver_thought.")
        if thought_id is None:
            raise Incorrect(
                "After your function returned, the thought is not in the database: the transaction "
                "was never committed (use `with db:` around the insert)."
            )
        if list(queued.args) != [thought_id] or queued.kwargs:
            raise Incorrect(
                f"Your job gets {describe(tuple(queued.args))}: pass only the thought's id, the number "
                "add_thought returned, and let the job read the row."
            )
        if not committed:
            raise Incorrect(
                "When your function queued the job, the thought was not committed yet: a fast worker "
                "finds no row. Enqueue after the `with db:` block has ended."
            )
        if not (isinstance(job, Job) and job.id == queued.id):
            raise Incorrect(f"Your function returned {describe(job)}: return the job that enqueue gave you.")
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
                    "queued a job: a job for a row that does not exist."
                )
            raise Incorrect(
                f"Saving an empty thought failed, and your function returned {describe(returned)}: "
                "let the error out, so the request knows it failed."
            )
        if len(q.seen) > before:
            raise Incorrect(
                "Saving an empty thought failed and was rolled back, but your function still queued a "
                "job first: a job for a row that does not exist."
            )
        if any(_is_open(db) for db in opened):
            raise Incorrect(
                "Your function left a database connection open (`with db:` commits or rolls back, but does not "
                "close it), at least when the save failed: close it in every case, with "
                "`with closing(thoughts_db.connect()) as db:` or a `finally`."
            )
    finally:
        thoughts_db.connect = connect
        for db in opened:
            db.close()
        for seen_job, _ in q.seen:
            seen_job.delete()
    return (
        "The row was committed before the job was queued, the job gets only its id, a failed save queues nothing, "
        "and the connection is closed either way."
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


def _check_mail_limit(fn: Any) -> str:
    require_function(fn, "mail_limit", ("email",))
    first, second = call(fn, "ada@example.com"), call(fn, "grace@example.com")
    for limit in (first, second):
        if not isinstance(limit, RateLimit):
            raise Incorrect(f"mail_limit returned {describe(limit)}; return an rq RateLimit(key=..., concurrency=...).")
    if first.concurrency > PROVIDER_CONNECTIONS:
        raise Incorrect(
            f"concurrency={first.concurrency} lets {first.concurrency} sends run at once; the provider "
            f"accepts {PROVIDER_CONNECTIONS} connections and refuses the rest."
        )
    if first.concurrency < PROVIDER_CONNECTIONS:
        raise Incorrect(
            f"concurrency={first.concurrency} is safe but slower than needed: the provider accepts "
            f"{PROVIDER_CONNECTIONS} at once."
        )
    if first.key != second.key:
        raise Incorrect(
            f"Two addresses got two keys ({first.key!r}, {second.key!r}): each key has its own "
            f"{PROVIDER_CONNECTIONS} slots, so ten users would open {10 * PROVIDER_CONNECTIONS} "
            "connections. The provider's limit is one for the whole account: one key for every mail "
            "job."
        )
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


def _check_json_job(job: Any, thought: production_jobs.Thought) -> str:
    if not isinstance(job, Job):
        raise Incorrect(f"by_id is {describe(job)}; it should be the job that enqueue returns.")
    try:
        payload = stored_payload(job)
    except ValueError:
        raise Incorrect(
            'Redis holds this job as a pickle: queue it on json_queue (the queue made with serializer="json").'
        ) from None
    func, _, args, kwargs = payload
    if func != DELIVER:
        raise Incorrect(f"The job runs {func}; deliver_thought reads the thought by its id: use that one.")
    if args != [thought.id] or kwargs:
        raise Incorrect(
            f"The job's arguments are {describe(args)}: pass only thought.id, a number JSON "
            "can hold, and let the job read the rest from the database."
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
