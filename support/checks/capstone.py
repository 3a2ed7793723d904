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
from pathlib import Path
from typing import Any

from rq import Queue
from rq.job import Job
from rq.utils import as_text

from ..exercises import Exercise, Incorrect, NotAttempted, call, is_placeholder, load_module_from
from ..lessons import capstone
from ..rq_helpers import queues, recovery
from ._capstone_runs import (
    create_once,
    job_class,
    keys_for,
    perform_twice_at_once,
    probe_job,
    probe_thought_id,
    queued,
    raised,
    run_perform,
)
from ._production_runs import connections_opened, left_open, redis_reachable

DAY, UNDELIVERED = capstone.DAY, capstone.UNDELIVERED
JOB_FILE, CONTROLLER_FILE = "capstone_job.py", "capstone_controller.py"
FIRST_PAUSE_AT_MOST = 5  # seconds: the proof's outage ends after the first try, and it waits 20 s for the retry

# --- Exercise 1: Retry with backoff, and a job_timeout ----------------------------------------------------------


def _check_retry_timeout(path: Any) -> str:
    job = queued(job_class(path))
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
    if pauses[0] > FIRST_PAUSE_AT_MOST:
        raise Incorrect(
            f"The first pause is {pauses[0]} s: a short outage keeps the email waiting that long (Retry's interval "
            f"is in seconds). Make the first pause {FIRST_PAUSE_AT_MOST} s at most, then let them grow."
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


def _check_send_once(path: Any) -> str:
    cls = job_class(path)
    params = list(inspect.signature(cls.__dict__.get("perform", cls.perform)).parameters)
    if params != ["self", "email", "thought", "thought_id"]:
        raise Incorrect(
            f"perform({', '.join(params)}): the exercise asks for perform(self, email, thought, thought_id)."
        )
    base = probe_thought_id()
    ids = [base + n for n in range(5)]
    try:
        first, _ = run_perform(cls, base)
        if len(first.sent) != 1:
            raise Incorrect(f"perform sent {len(first.sent)} emails for one thought: send it once.")
        if first.misaddressed():
            raise Incorrect(first.misaddressed())
        again, _ = run_perform(cls, base)
        if again.sent:
            raise Incorrect("perform ran a second time for the same thought_id and sent it again: claim a key first.")
        other, _ = run_perform(cls, base + 1)  # the same address, another thought
        if len(other.sent) != 1:
            raise Incorrect(
                "A second thought of the same address (another thought_id) sent nothing: the key must name the "
                "thought_id, not the address."
            )
        if first.unclaimed:
            raise Incorrect(
                "perform sent the email before any Redis key named the thought_id: claim the key with SET NX before "
                "deliver (a key set after the send leaves a window in which a second try sends again)."
            )
        conn = queues.connection()
        ttl = max((conn.ttl(k) for k in keys_for(base)), default=-2)
        if not 0 < ttl <= DAY:
            raise Incorrect(
                "The key for a sent thought never expires (or lives over a day): expiring within a day, "
                "give it ex=24 * 60 * 60."
            )
        for thought_id, failure in ((base + 2, ConnectionError), (base + 3, TimeoutError)):
            _, error = run_perform(cls, thought_id, fail=failure)
            if error is None:
                raise Incorrect(
                    f"When deliver raised {failure.__name__}, perform did not raise it: raise again, RQ retries only "
                    "a failure."
                )
            retried, _ = run_perform(cls, thought_id)
            if len(retried.sent) != 1:
                raise Incorrect(
                    f"After a send that failed ({failure.__name__}), the retry sent nothing: the key stayed claimed. "
                    "When deliver raises (whatever it raises), delete the key and raise again."
                )
        if perform_twice_at_once(cls, base + 4) not in (1, None):
            raise Incorrect(
                "Two tries of one thought at once both sent it: each read the key before either set it. Claim the "
                "key with SET NX (r.set(key, ..., nx=True, ...)): Redis lets only one of them claim it."
            )
    finally:
        for k in [k for thought_id in ids for k in keys_for(thought_id)]:
            queues.connection().delete(k)
    return (
        "One email per thought_id, claimed with SET NX before the send (two tries at once sent one), the key expires "
        "within a day, and a failed send leaves the key for the retry."
    )


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


def _listed(conn: Any, job: Job) -> int:
    """How often `job`'s id is on the list, removed from it again."""
    count = [as_text(v) for v in conn.lrange(UNDELIVERED, 0, -1)].count(job.id)
    conn.lrem(UNDELIVERED, 0, job.id)
    return count


def _check_on_failure(path: Any) -> str:
    cls = job_class(path)
    module = load_module_from(Path(path))
    callback = getattr(module, "report_failure", None)
    if callback is None or is_placeholder(callback):
        raise NotAttempted("report_failure is missing, or still has a ____ in it: fill it in, then run its cell again.")
    conn = queues.connection()
    error = ConnectionError("the mail server did not answer")
    for retries_left in (2, 1):
        job = probe_job(retries_left)
        call(callback, job, conn, ConnectionError, error, None)
        if _listed(conn, job):
            raise Incorrect(
                f"report_failure listed a job that RQ will try again (retries_left {retries_left}): RQ calls "
                "on_failure after every failed try, so report only when job.retries_left is 0 or None."
            )
    for last in (0, None):
        job = probe_job(last)
        call(callback, job, conn, ConnectionError, error, None)
        times = _listed(conn, job)
        if times != 1:
            raise Incorrect(
                f"After the last try failed (retries_left {last}), job.id is on the Redis list {UNDELIVERED} "
                f"{times} times: when job.retries_left is 0 or None, rpush it once."
            )
    job = queued(cls)
    given = job.failure_callback
    if getattr(given, "__name__", None) != "report_failure" or getattr(given, "__module__", None) != module.__name__:
        raise Incorrect(
            "perform_later does not hand RQ your callback: add on_failure=Callback(report_failure) to enqueue."
        )
    return "report_failure lists a job once, only when its last try failed, and every GifSenderJob carries it."


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
    redis_reachable()
    fn = getattr(load_module_from(Path(path)), "create", None)
    if fn is None or is_placeholder(fn):
        raise NotAttempted(f"{Path(path).name}: create is missing, or still has a ____ in it: fill it in first.")
    create_once(fn, 1)
    create_once(fn, 2)  # another address and thought: a constant cannot pass
    email, text = capstone.address("check"), f"Check {uuid.uuid4().hex[:8]} rolled back"
    with capstone.commits_fail(), connections_opened() as opened:
        error = raised(sqlite3.Error, fn, email, text)
        still_open = left_open(opened)
    strays = capstone.queued_for(email)
    for stray in strays:
        stray.delete()
    if strays:
        raise Incorrect(
            "A request whose transaction was rolled back still queued a job: when the transaction fails, queue "
            "nothing (enqueue only after the `with db:` block)."
        )
    if error is None:
        raise Incorrect("When the commit failed, create returned anyway: let the error out.")
    if still_open:
        raise Incorrect(
            "create left its database connection open when the commit failed: on a connection closed at the end, "
            "as in 09 (with closing(thoughts_db.connect()) as db:)."
        )
    return (
        "Twice, create saved the thought, committed, and only then queued one GifSenderJob with its id; a failed "
        "commit queued nothing, and the connection was closed each time."
    )


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
