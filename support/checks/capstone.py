"""The exercises of ``11_capstone``: the learner's GifSenderJob hardened, in ``capstone_job.py`` and
``capstone_controller.py``.

Each check imports the file afresh and runs what it is about: ``perform_later`` queues a real job (read back from
Redis, then deleted); ``perform`` runs here with ``deliver`` recorded (``mailer.stand_in``); the failure callback gets
a real job; ``create`` runs against the real database, once with a commit that fails. The reference solutions live in
``support.lessons.capstone`` (a worker imports them from there): ``ex_controller.use`` falls back to them.
"""

from __future__ import annotations

import inspect
import sqlite3
import textwrap
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from rq import Queue
from rq.job import Job
from rq.utils import as_text

from ..active_job import ActiveJob, perform_job
from ..exercises import Exercise, Incorrect, NotAttempted, call, is_placeholder, load_module_from
from ..lessons import capstone
from ..rq_helpers import queues, recovery
from ..services import thoughts_db
from ..workit import mailer

DAY, UNDELIVERED = capstone.DAY, capstone.UNDELIVERED
JOB_FILE, CONTROLLER_FILE = "capstone_job.py", "capstone_controller.py"

# --- reading the learner's files ----------------------------------------------------------------------------------


def _job_class(path: Any) -> type[ActiveJob]:
    if is_placeholder(path):
        raise NotAttempted()
    module = load_module_from(Path(path))
    cls = getattr(module, "GifSenderJob", None)
    if not (isinstance(cls, type) and issubclass(cls, ActiveJob)):
        raise Incorrect(f"{Path(path).name} defines no GifSenderJob(ActiveJob): keep 03's class, and harden it.")
    return cls


def _queued(cls: Any) -> Job:
    """The job perform_later queues for a probe, read back from Redis and deleted (no worker gets to run it)."""
    job = call(cls.perform_later, "probe@example.com", "a probe of the check", 1)
    if not isinstance(job, Job):
        for stray in capstone.queued_for("probe@example.com"):
            stray.delete()
        raise Incorrect("perform_later did not return the job it queued: return what enqueue gives back.")
    stored = Job.fetch(job.id, connection=queues.connection())
    job.delete()
    return stored


# --- Exercise 1: Retry with backoff, and a job_timeout ----------------------------------------------------------


def _check_retry_timeout(path: Any) -> str:
    job = _queued(_job_class(path))
    if not job.retries_left:
        raise Incorrect("The job has no retries: hand enqueue retry=Retry(...), or an outage fails every email.")
    pauses = recovery.retry_intervals(job)  # RQ's own rule: Job.get_retry_interval
    if len(pauses) < 2 or sum(pauses) < 3:
        raise Incorrect(
            f"{len(pauses)} retries with pauses {pauses} wait {sum(pauses)} s in all: the job gives up within a "
            "3-second outage. Ask for at least 2 retries and at least 3 s of pauses in all."
        )
    if any(b < a for a, b in zip(pauses, pauses[1:])) or pauses[-1] <= pauses[0]:
        raise Incorrect(
            f"The pauses between tries are {pauses} s: that is no backoff. Give pauses that grow, "
            "for instance interval=[1, 2, 4], so that a longer outage is not hammered."
        )
    if job.timeout in (None, Queue.DEFAULT_TIMEOUT):
        raise Incorrect(
            f"job_timeout is RQ's default, {Queue.DEFAULT_TIMEOUT} s (what RQ stores when you give none): set one "
            "that fits."
        )
    if not 15 <= job.timeout <= 60:
        raise Incorrect(
            f"job_timeout={job.timeout} s: a send needs the mailer's slow step (5 s) and up to 10 s per SMTP "
            "answer, and a hung send should not hold the worker for minutes: choose 15 to 60 s."
        )
    return f"{len(pauses)} retries, pauses {pauses} s, and job_timeout={job.timeout} s, stored with the job."


ex_retry_timeout = Exercise(
    "Exercise 1",
    _check_retry_timeout,
    title="A Retry with backoff and a job_timeout",
    hints=[
        "perform_later calls enqueue: RQ's options go there, as in 05: retry=..., job_timeout=...",
        "retry=Retry(max=3, interval=[1, 2, 4]) grows its pauses; job_timeout=30 fits a 5 s slow step and a 10 s wait "
        "for the SMTP server.",
    ],
    solution="retry=Retry(max=3, interval=[1, 2, 4]),\njob_timeout=30,",
)

# --- Exercise 2: the idempotency key ----------------------------------------------------------------------------


def _run_perform(cls: Any, thought_id: int, fail: bool = False) -> tuple[list[tuple[Any, Any]], BaseException | None]:
    sent: list[tuple[Any, Any]] = []

    def record(email: Any, thought: Any, delay: Any = None) -> str:
        if fail:
            raise ConnectionError("the mail server did not answer (the check made it fail)")
        sent.append((email, thought))
        return "<probe@course>"

    with mailer.stand_in(record):
        error = _raised(ConnectionError, cls().perform, f"probe-{thought_id}@example.com", "a probe", thought_id)
    return sent, error


def _raised(expected: type[BaseException], fn: Any, *args: Any) -> BaseException | None:
    """The `expected` exception the learner's `fn` raised, or None; any other is reported as ``call`` does."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)
        except expected as exc:
            caught.append(exc)

    call(run)
    return caught[0] if caught else None


def _keys_for(thought_id: int) -> list[str]:
    return [as_text(k) for k in queues.connection().scan_iter(match=f"*{thought_id}*")]


def _check_send_once(path: Any) -> str:
    cls = _job_class(path)
    params = list(inspect.signature(cls.__dict__.get("perform", cls.perform)).parameters)
    if params != ["self", "email", "thought", "thought_id"]:
        raise Incorrect(
            f"perform({', '.join(params)}): the exercise asks for perform(self, email, thought, thought_id)."
        )
    base = uuid.uuid4().int % 10**12 + 10**12
    first, _ = _run_perform(cls, base)
    if len(first) != 1:
        raise Incorrect(f"perform sent {len(first)} emails for one thought: send it once.")
    again, _ = _run_perform(cls, base)
    if again:
        raise Incorrect("perform ran a second time for the same thought_id and sent it again: claim a key first.")
    other, _ = _run_perform(cls, base + 1)
    if len(other) != 1:
        raise Incorrect("A second thought (another thought_id) sent nothing: the key must name the thought_id.")
    conn = queues.connection()
    ttl = max((conn.ttl(k) for k in _keys_for(base)), default=-2)
    if not 0 < ttl <= DAY:
        raise Incorrect("The key for a sent thought never expires (or lives over a day): give it ex=24 * 60 * 60.")
    _, error = _run_perform(cls, base + 2, fail=True)
    if error is None:
        raise Incorrect("When deliver raised ConnectionError, perform did not raise it: RQ retries only a failure.")
    retried, _ = _run_perform(cls, base + 2)
    if len(retried) != 1:
        raise Incorrect(
            "After a send that failed, the retry sent nothing: the key stayed claimed. Delete it when deliver "
            "raises, then raise again."
        )
    for k in _keys_for(base) + _keys_for(base + 1) + _keys_for(base + 2):
        conn.delete(k)
    return "One email per thought_id, the key expires within a day, and a failed send leaves the key for the retry."


ex_send_once = Exercise(
    "Exercise 2",
    _check_send_once,
    title="An idempotency key: a retried send never mails twice",
    hints=[
        "As in 05: r.set(key, 'sent', nx=True, ex=24 * 60 * 60) is true only for the first claim of the key.",
        "Claim f'workit:gif-sent:{thought_id}' before deliver; when deliver raises, delete the key and raise again.",
    ],
    solution=textwrap.dedent(inspect.getsource(capstone.GifSenderJob.perform)),
)

# --- Exercise 3: the failure callback ---------------------------------------------------------------------------


def _probe_job(retries_left: int | None) -> Job:
    job = Job.create(perform_job, args=["x:y", []], connection=queues.connection(), id=f"probe-{uuid.uuid4().hex}")
    job.retries_left = retries_left
    return job


def _listed(conn: Any) -> list[str]:
    return [as_text(v) for v in conn.lrange(UNDELIVERED, 0, -1)]


def _check_on_failure(path: Any) -> str:
    cls = _job_class(path)
    module = load_module_from(Path(path))
    callback = getattr(module, "report_failure", None)
    if callback is None or is_placeholder(callback):
        raise NotAttempted("report_failure is missing, or still has a ____ in it: fill it in, then run its cell again.")
    conn = queues.connection()
    error = ConnectionError("the mail server did not answer")
    with_retries = _probe_job(2)
    call(callback, with_retries, conn, ConnectionError, error, None)
    listed = _listed(conn)
    if with_retries.id in listed:
        conn.lrem(UNDELIVERED, 0, with_retries.id)
        raise Incorrect(
            "report_failure listed a job that RQ will try again (retries_left 2): RQ calls on_failure after "
            "every failed try, so report only when job.retries_left is 0 or None."
        )
    last = _probe_job(0)
    call(callback, last, conn, ConnectionError, error, None)
    if last.id not in _listed(conn):
        raise Incorrect(f"After the last try failed, job.id is not in the Redis list {UNDELIVERED}: rpush it.")
    conn.lrem(UNDELIVERED, 0, last.id)
    job = _queued(cls)
    if not (job.failure_callback and job.failure_callback.__name__ == "report_failure"):
        raise Incorrect(
            "perform_later does not hand RQ your callback: add on_failure=Callback(report_failure) to enqueue."
        )
    return "report_failure lists a job only when its last try failed, and every GifSenderJob carries it."


ex_on_failure = Exercise(
    "Exercise 3",
    _check_on_failure,
    title="A failure callback for the last try",
    hints=[
        "RQ calls on_failure(job, connection, type, value, traceback) after each failed try, retries or not.",
        "job.retries_left is how many tries RQ still has: return when it is above 0, else "
        "connection.rpush('workit:undelivered', job.id). Pass on_failure=Callback(report_failure) to enqueue (08).",
    ],
    solution=inspect.getsource(capstone.report_failure)
    + "\n# and in perform_later, to enqueue:\non_failure=Callback(report_failure),",
)

# --- Exercise 4: enqueue after commit, from the controller ------------------------------------------------------


def _check_controller(path: Any) -> str:
    if is_placeholder(path):
        raise NotAttempted()
    fn = getattr(load_module_from(Path(path)), "create", None)
    if fn is None or is_placeholder(fn):
        raise NotAttempted(f"{Path(path).name}: create is missing, or still has a ____ in it: fill it in first.")
    email, text = capstone.address("check"), f"Check {uuid.uuid4().hex[:8]}"
    job = call(fn, email, text)
    if not isinstance(job, Job):
        for stray in capstone.queued_for(email):
            stray.delete()
        raise Incorrect("create did not return the job: return what perform_later gives back.")
    stored = Job.fetch(job.id, connection=queues.connection())
    job.delete()
    args = list(stored.args[1]) if len(stored.args) > 1 else []
    if len(args) != 3 or args[:2] != [email, text]:
        raise Incorrect(f"The job got {args}: call GifSenderJob.perform_later(email, thought, thought_id).")
    with closing(thoughts_db.connect()) as db:
        row = db.execute("SELECT id FROM thoughts WHERE text = ?", (text,)).fetchone()
    if row is None or args[2] != row[0]:
        raise Incorrect("The job's thought_id is not the id of a saved thought: save it with add_thought first.")
    with capstone.commits_fail():
        if _raised(sqlite3.Error, fn, email, text + " rolled back") is None:
            raise Incorrect("When the commit failed, create returned anyway: let the error out.")
    if capstone.queued_for(email) or any(email in repr(j.args) for j in queues.queue("mailers").get_jobs()):
        for stray in capstone.queued_for(email):
            stray.delete()
        raise Incorrect(
            "A request whose transaction was rolled back still queued a job: enqueue after the `with db:` block."
        )
    return "create saves the thought, commits, and only then queues a GifSenderJob with its id."


class ControllerExercise(Exercise):
    """Exercise 4; ``use(file)`` gives the proof your ``create`` when all four exercises passed, else the reference."""

    def accept(self, value: Any) -> Any:
        for exercise in (ex_retry_timeout, ex_send_once, ex_on_failure):
            if exercise.last_result is None or not exercise.last_result.correct:
                raise Incorrect(f"{exercise.name} has not passed its check")
        result = self.last_check_of(value)
        if not result.correct:
            raise Incorrect(result.message)
        return load_module_from(Path(value)).create


ex_controller = ControllerExercise(
    "Exercise 4",
    _check_controller,
    title="Enqueue after commit, from the controller",
    hints=[
        "09: with closing(thoughts_db.connect()) as db: then with db: around add_thought.",
        "Call GifSenderJob.perform_later(email, thought, thought_id) after the `with db:` block, and return it.",
    ],
    solution=inspect.getsource(capstone.create),
    reference=capstone.create,
    fallback_note="Using the reference files (support.lessons.capstone: its GifSenderJob and create) for the "
    "proof: not every exercise above passed its check.",
)
