"""How 09's and 11's checks run the learner's code: a real queue that notes, for each job handed to it, whether its
thought was committed at that moment; one save through the learner's ``save_thought`` judged on the queue and the
database; the database connections the learner's code opened (closed or not); and the check's own word when it
cannot reach Redis."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rq import Queue
from rq.job import Job

from ..exercises import Incorrect, call, describe
from ..exercises.calls import CheckFailed
from ..rq_helpers import queues
from ..services import thoughts_db

DELIVER = "support.production_jobs.deliver_thought"


class WatchingQueue(Queue):
    """A real queue that notes, for each job handed to it, whether its first argument was a committed thought at
    that moment (read on a connection of its own, as a worker would)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[Job, bool]] = []

    def enqueue_job(self, job: Job, *args: Any, **kwargs: Any) -> Job:
        given = id_given(job)
        committed = isinstance(given, int) and thoughts_db.get_thought(given) is not None
        self.seen.append((job, committed))
        return super().enqueue_job(job, *args, **kwargs)


def id_given(job: Job) -> Any:
    """The one argument deliver_thought takes, however it was passed (``enqueue(f, 17)`` or ``thought_id=17``);
    None when the job got anything else besides or instead."""
    args, kwargs = list(job.args), dict(job.kwargs)
    if len(args) == 1 and not kwargs:
        return args[0]
    if not args and list(kwargs) == ["thought_id"]:
        return kwargs["thought_id"]
    return None


def redis_reachable() -> None:
    """Raise CheckFailed saying that the CHECK could not reach Redis (not that the learner's code failed)."""
    try:
        queues.connection().ping()
    except Exception as exc:  # noqa: BLE001 -- any failure to reach the server is the course's, not the answer's
        raise CheckFailed(
            f"The check could not reach Redis ({type(exc).__name__}): that is not your answer's fault, and your answer "
            "was not judged. Run course.up() (the notebook's first cell), then this check again."
        ) from None


def _saved(text: str) -> tuple[int, str] | None:
    """The id and address of the committed thought with this text, None when there is none."""
    db = thoughts_db.connect()
    try:
        row = db.execute("SELECT id, email FROM thoughts WHERE text = ?", (text,)).fetchone()
        return (int(row[0]), str(row[1])) if row else None
    finally:
        db.close()


def save_once(fn: Any, q: WatchingQueue, marker: str, n: int) -> None:
    """One successful save through the learner's function, judged on what the queue saw and the database holds."""
    text = f"Check {marker} {n}"
    before = len(q.seen)
    email = f"check-{marker}-{n}@example.com"
    job = call(fn, q, email, text)
    saved = _saved(text)
    thought_id = saved[0] if saved else None
    mine = q.seen[before:]
    if not mine:
        raise Incorrect(
            "Your function queued no job on q, the queue it was given: enqueue deliver_thought there, with the "
            "thought's id."
        )
    if len(mine) > 1:
        raise Incorrect(
            f"Your function queued {len(mine)} jobs for one thought: queue deliver_thought once, after the commit "
            "(each job delivers the thought again)."
        )
    queued, committed = mine[0]
    if queued.func_name != DELIVER:
        raise Incorrect(f"Your job runs {queued.func_name}; the exercise asks for deliver_thought.")
    if thought_id is None:
        raise Incorrect(
            "After your function returned, the thought is not in the database: the transaction "
            "was never committed (use `with db:` around the insert)."
        )
    if saved and saved[1] != email:
        raise Incorrect(
            f"The saved thought has the address {saved[1]!r}, not the email your function was given ({email!r}): "
            "save it with thoughts_db.add_thought(db, email, text)."
        )
    if id_given(queued) != thought_id or type(id_given(queued)) is not int:
        shown = describe(tuple(queued.args)) + (f" and {describe(queued.kwargs)}" if queued.kwargs else "")
        raise Incorrect(
            f"Your job gets {shown}: pass only the thought's id, the number add_thought returned, and let the job "
            "read the row."
        )
    if not committed:
        raise Incorrect(
            "When your function queued the job, the thought was not committed yet: a fast worker "
            "finds no row. Enqueue only after the commit: after the `with db:` block has ended."
        )
    if not (isinstance(job, Job) and job.id == queued.id):
        raise Incorrect(f"Your function returned {describe(job)}: return the job that enqueue gave you.")


@contextmanager
def connections_opened() -> Iterator[list[sqlite3.Connection]]:
    """The connections ``thoughts_db.connect()`` gives inside the block (whatever it is now: ``commits_fail``'s
    too), to see whether the learner's code closed them; every one is closed when the block ends."""
    connect: Callable[..., sqlite3.Connection] = thoughts_db.connect
    opened: list[sqlite3.Connection] = []

    def recording(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        opened.append(db)
        return db

    thoughts_db.connect = recording
    try:
        yield opened
    finally:
        thoughts_db.connect = connect
        for db in opened:
            db.close()


def left_open(opened: list[sqlite3.Connection]) -> bool:
    for db in opened:
        try:
            db.total_changes  # noqa: B018 -- a closed connection raises here
        except sqlite3.ProgrammingError:
            continue
        return True
    return False
