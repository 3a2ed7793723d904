"""The checks of 11_capstone, per stated requirement (``tests/exercise_table.py``): the reference passes, answers
written differently pass, and for each requirement an answer that breaks only it is Incorrect with a message naming it.

Each answer becomes a real file (``capstone_job.py``, ``capstone_controller.py``) in a folder of its own, imported as
the notebook imports it; perform_later queues on the real Redis, create saves into the real SQLite file. An answer is
the part of the file its exercise asks for, the rest is the reference's:
- Exercise 1: the options ``retry`` and ``job_timeout``, as assignments (each one given goes to ``enqueue``);
- Exercise 2: ``perform``;
- Exercise 3: ``report_failure`` and the option ``on_failure``;
- Exercise 4: ``create``.
"""

from __future__ import annotations

import inspect
import sys
import tempfile
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from exercise_table import Requirement, Table, table_test
from rq import Retry

from support.checks.capstone import ex_controller, ex_on_failure, ex_retry_timeout, ex_send_once
from support.exercises import load_module_from
from support.exercises.results import Result
from support.lessons import capstone
from support.rq_helpers import queues, workers
from support.services import course, thoughts_db
from support.workit.mailer import deliver

JOB_HEADER = '''"""GifSenderJob, hardened (the check's answer file)."""
from rq import Callback, Retry

from support.active_job import ActiveJob, describe, job_path, perform_job
from support.rq_helpers import queues
from support.workit.mailer import deliver

'''
PERFORM_LATER = """
    @classmethod
    def perform_later(cls, email, thought, thought_id):
        args = [email, thought, thought_id]
        path, description = job_path(cls), describe(cls, args)  # what ActiveJob's perform_later hands enqueue
        options = {name: globals()[name] for name in ("retry", "job_timeout", "on_failure") if name in globals()}
        return queues.queue(cls.queue_as).enqueue(perform_job, path, args, description=description, **options)
"""
CONTROLLER_HEADER = '''"""Work-It's controller, hardened: save the thought, commit, then queue the email."""
from contextlib import closing

from capstone_job import GifSenderJob
from support.services import thoughts_db

'''
REFERENCE_OPTIONS = "retry = Retry(max=3, interval=[1, 2, 4])\njob_timeout = 30\n"
REFERENCE_PERFORM = ex_send_once.solution_code
REFERENCE_CALLBACK = inspect.getsource(capstone.report_failure) + "\n\non_failure = Callback(report_failure)\n"
REFERENCE_CREATE = ex_controller.solution_code
_FOLDER: list[Path] = []


def folder() -> Path:
    """This process's notebook folder for the answers' files (made once)."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="capstone-answers-")))
    return _FOLDER[0]


def job_source(
    options: str = REFERENCE_OPTIONS, perform: str = REFERENCE_PERFORM, callback: str = REFERENCE_CALLBACK
) -> str:
    """capstone_job.py with the given parts (module level: the callback and the options; in the class: perform)."""
    return (
        JOB_HEADER
        + callback.strip("\n")
        + "\n\n\n"
        + options.strip("\n")
        + '\n\n\nclass GifSenderJob(ActiveJob):\n    queue_as = "mailers"\n\n'
        + textwrap.indent(textwrap.dedent(perform).strip("\n"), "    ")
        + "\n"
        + PERFORM_LATER
    )


def checked(exercise, job: str, controller: str | None = None) -> Result:
    """Write the files, check the one the exercise is about, and forget the modules again."""
    (folder() / "capstone_job.py").write_text(job)
    saved = {name: sys.modules.get(name) for name in ("capstone_job", "capstone_controller")}
    try:
        if controller is None:
            return exercise.check(str(folder() / "capstone_job.py"))
        (folder() / "capstone_controller.py").write_text(controller)
        load_module_from(folder() / "capstone_job.py")  # the controller imports this one
        return exercise.check(str(folder() / "capstone_controller.py"))
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def redis() -> None:
    course.up("redis", quiet=True)


# --- Exercise 1: a Retry with backoff, and a job_timeout ---------------------------------------------------------

RETRIES = "`retry=`: at least 2 retries"
PAUSES = "at least 3 s of pauses in all (a 3-second outage)"
BACKOFF = "pauses that grow (backoff)"
FIRST_PAUSE = "the first 5 s at most"
TIMEOUT = "`job_timeout=`: between 15 and 60 s."


def options(retry: str | None, timeout: str | None) -> str:
    return "".join(f"{name} = {value}\n" for name, value in (("retry", retry), ("job_timeout", timeout)) if value)


IN_RANGE = "any job_timeout from 15 to 60 s meets the requirement: the proof's sends end well within it"
STILL_BACKOFF = (
    "still at least 2 retries, at least 3 s of pauses, the first 5 s at most, pauses that do not shrink and end longer "
    "than they start (when max outruns the list, RQ repeats its first pause: Job.get_retry_interval): right too"
)

RETRY_TIMEOUT = Table(
    ex_retry_timeout,
    lambda source: checked(ex_retry_timeout, job_source(options=source)),
    setup=redis,
    reference=REFERENCE_OPTIONS,
    equivalent={
        "L2 Constant 30->31": IN_RANGE,
        "L2 Constant 30->29": IN_RANGE,
        "L1 Constant 3->4": STILL_BACKOFF,
        "L1 Constant 3->2": STILL_BACKOFF,
        "L1 Constant 1->2": STILL_BACKOFF,
        "L1 Constant 1->0": STILL_BACKOFF,
        "L1 Constant 2->3": STILL_BACKOFF,
        "L1 Constant 2->1": STILL_BACKOFF,
        "L1 Constant 4->5": STILL_BACKOFF,
        "L1 Constant 4->3": STILL_BACKOFF,
    },
    requirements=[
        Requirement(RETRIES, options(None, "30"), "no retries"),
        Requirement(RETRIES, options("Retry(max=1, interval=[5])", "30"), "at least 2 retries"),
        Requirement(PAUSES, options("Retry(max=2, interval=[1, 1])", "30"), "at least 3 s"),
        Requirement(BACKOFF, options("Retry(max=3, interval=2)", "30"), "no backoff"),
        Requirement(BACKOFF, options("Retry(max=3, interval=[4, 2, 1])", "30"), "no backoff"),
        Requirement(FIRST_PAUSE, options("Retry(max=3, interval=[1000, 2000, 4000])", "30"), "5 s at most"),
        Requirement(TIMEOUT, options("Retry(max=3, interval=[1, 2, 4])", None), "RQ's default"),
        Requirement(TIMEOUT, options("Retry(max=3, interval=[1, 2, 4])", "180"), "RQ's default"),
        Requirement(TIMEOUT, options("Retry(max=3, interval=[1, 2, 4])", "5"), "15 to 60 s"),
        Requirement(TIMEOUT, options("Retry(max=3, interval=[1, 2, 4])", "30_000"), "15 to 60 s"),
    ],
    right=[
        options("Retry(max=4, interval=[1, 3, 9, 27])", "2 * 10"),
        options("Retry(2, [1, 5])", "60"),
        "from datetime import timedelta\n\nretry = Retry(max=3, interval=[2, 4, 8])\n"
        "job_timeout = int(timedelta(seconds=45).total_seconds())\n",
    ],
)


# --- Exercise 2: an idempotency key ---------------------------------------------------------------------------

CLAIM = 'if not r.set(key, "sent", nx=True, ex=24 * 60 * 60):'
KEY = 'key = f"workit:gif-sent:{thought_id}"'
PERFORM = "`perform(self, email, thought, thought_id)` gets the id of the saved thought."
NAMES_ID = "Claim a Redis key that names the `thought_id` with `SET NX`"
EXPIRES = "expiring within a day, before `deliver`"
RETURN = "when the claim fails, an earlier try sent it, so return without sending."
ON_ERROR = "When `deliver` raises, delete the key and raise again, so that the retry can send."


def perform_edit(old: str, new: str) -> str:
    assert old in REFERENCE_PERFORM, old
    return REFERENCE_PERFORM.replace(old, new)


def submit_send_once(source: str) -> Result:
    return checked(ex_send_once, job_source(perform=source))


ANY_KEY = "the key still names the thought_id and nothing else: the text asks no particular name"
UNREAD = "nobody reads the key's value (SET NX only asks whether the key exists): any value claims it alike"
WITHIN_A_DAY = "a little under a day is still 'expiring within a day'"

SEND_ONCE = Table(
    ex_send_once,
    submit_send_once,
    setup=redis,
    equivalent={
        "L5 Return 0": "a try that finds the key claimed returns without sending either way; the job's result (None or "
        "0) is read by nobody, the proof counts emails",
        "L9 Twice call": "deleting a key twice leaves it deleted, as once does",
        "L3 Constant 'workit:gif-sent:'->''": ANY_KEY,
        "L3 Constant 'workit:gif-sent:'->'workit:gif-sent:x'": ANY_KEY,
        "L4 Constant 'sent'->''": UNREAD,
        "L4 Constant 'sent'->'sentx'": UNREAD,
        "L4 Constant 60->59": WITHIN_A_DAY,
        "L4 Constant 24->23": WITHIN_A_DAY,
        "L4 Constant 60->59 #2": WITHIN_A_DAY,
    },
    requirements=[
        Requirement(
            PERFORM,
            perform_edit("def perform(self, email, thought, thought_id):", "def perform(self, email, thought, key):"),
            "perform(self, email, thought, thought_id)",
        ),
        Requirement(
            RETURN, perform_edit("return None  # an earlier try sent it", "pass  # sent anyway"), "sent it again"
        ),
        Requirement(  # 03's job sends what it was given
            "deliver(email, thought)",
            perform_edit("return deliver(email, thought)", "return deliver(email, str(thought_id))"),
            "deliver(email, thought)",
        ),
        Requirement(NAMES_ID, perform_edit(KEY, 'key = "workit:gif-sent"'), "must name the thought_id"),
        Requirement(NAMES_ID, perform_edit(KEY, 'key = f"workit:gif-sent:{email}"'), "not the address"),
        Requirement(  # read, then set: two tries at once both send
            NAMES_ID,
            perform_edit(CLAIM, 'if r.get(key) or not r.set(key, "sent", ex=24 * 60 * 60):'),
            "Claim the key with SET NX",
        ),
        Requirement(  # the key set after the send
            EXPIRES,
            textwrap.dedent("""\
                def perform(self, email, thought, thought_id):
                    r = queues.connection()
                    key = f"workit:gif-sent:{thought_id}"
                    if r.exists(key):
                        return None
                    sent = deliver(email, thought)
                    r.set(key, "sent", nx=True, ex=24 * 60 * 60)
                    return sent
            """),
            "before deliver",
        ),
        Requirement(EXPIRES, perform_edit(CLAIM, 'if not r.set(key, "sent", nx=True):'), "never expires"),
        Requirement(
            EXPIRES, perform_edit(CLAIM, 'if not r.set(key, "sent", nx=True, ex=7 * 24 * 60 * 60):'), "within a day"
        ),
        Requirement(ON_ERROR, perform_edit("        raise", "        return None"), "did not raise"),
        Requirement(
            ON_ERROR,
            perform_edit("        r.delete(key)  # it did not go out: let the retry send it\n", ""),
            "key stayed claimed",
        ),
        Requirement(  # only a refused connection releases the key: a timeout keeps it
            ON_ERROR, perform_edit("except Exception:", "except ConnectionError:"), "whatever it raises"
        ),
        Requirement(
            RETURN,
            perform_edit(
                "return deliver(email, thought)", "deliver(email, thought)\n        return deliver(email, thought)"
            ),
            "2 emails",
        ),
    ],
    right=[
        perform_edit(KEY, 'key = "mail:" + str(thought_id)').replace(
            CLAIM, "if r.set(key, 1, ex=3600, nx=True) is None:"
        ),
        textwrap.dedent("""\
            def perform(self, email, thought, thought_id):
                redis = queues.connection()
                claim = f"gif:{thought_id}:sent"
                if not redis.setnx(claim, "1"):
                    return "already sent"
                redis.expire(claim, 12 * 3600)
                try:
                    deliver(email, thought)
                except BaseException:
                    redis.delete(claim)
                    raise
        """),
    ],
)


# --- Exercise 3: a failure callback ------------------------------------------------------------------------------

GUARD = "    if job.retries_left:  # RQ tries again: not the end yet\n        return\n"
PUSH = '    connection.rpush("workit:undelivered", job.id)'
LAST_ONLY = "Report only the last one: when `job.retries_left` is 0 or `None`, push `job.id` onto the Redis list"
ONTO = "push `job.id` onto the Redis list `workit:undelivered`; otherwise do nothing."
HAND = "Hand it to `enqueue` as `on_failure=Callback(report_failure)`"


def callback_edit(old: str, new: str) -> str:
    assert old in REFERENCE_CALLBACK, old
    return REFERENCE_CALLBACK.replace(old, new)


ON_FAILURE = Table(
    ex_on_failure,
    lambda source: checked(ex_on_failure, job_source(callback=source)),
    setup=redis,
    reference=REFERENCE_CALLBACK,
    requirements=[
        Requirement(LAST_ONLY, callback_edit(GUARD, ""), "will try again"),
        Requirement(  # off by one: the try before the last is reported too
            LAST_ONLY, callback_edit("if job.retries_left:", "if job.retries_left > 1:"), "retries_left 1"
        ),
        Requirement(  # None (a job with no Retry) is not reported
            LAST_ONLY,
            callback_edit(GUARD, "    if job.retries_left != 0:\n        return\n"),
            "retries_left None",
        ),
        Requirement(ONTO, callback_edit(PUSH, PUSH.replace("workit:undelivered", "workit:failed")), "0 times"),
        Requirement(ONTO, callback_edit(PUSH, PUSH.replace("job.id", "job.description")), "0 times"),
        Requirement(ONTO, callback_edit(PUSH, PUSH + "\n" + PUSH), "2 times"),
        Requirement(HAND, callback_edit("\non_failure = Callback(report_failure)\n", ""), "on_failure=Callback"),
        Requirement(
            HAND,
            callback_edit("on_failure = Callback(report_failure)", "on_success = Callback(report_failure)"),
            "on_failure=Callback",
        ),
    ],
    right=[
        callback_edit(GUARD, "    if job.retries_left is not None and job.retries_left > 0:\n        return None\n"),
        textwrap.dedent("""\
            def report_failure(job, connection, type, value, traceback):
                if not job.retries_left:
                    queues.connection().lpush("workit:undelivered", job.id)


            on_failure = Callback(report_failure, timeout=10)
        """),
    ],
)


# --- Exercise 4: enqueue after commit, from the controller ------------------------------------------------------

SAVE = (
    "save the thought with `thoughts_db.add_thought(db, email, thought)` inside a transaction (`with db:`, on a "
    "connection closed at the end as in 09)"
)
AFTER = "only **after the commit** call `GifSenderJob.perform_later(email, thought, thought_id)`. Return the job."
FAILS = "When the transaction fails, queue nothing and let the error out."


def submit_controller(source: str) -> Result:
    return checked(ex_controller, job_source(), CONTROLLER_HEADER + source)


CONTROLLER = Table(
    ex_controller,
    submit_controller,
    setup=redis,
    requirements=[
        Requirement(
            AFTER,
            textwrap.dedent("""\
                def create(email, thought):
                    with closing(thoughts_db.connect()) as db:
                        with db:
                            thought_id = thoughts_db.add_thought(db, email, thought)
                            return GifSenderJob.perform_later(email, thought, thought_id)
            """),
            "queue nothing",
        ),
        Requirement(
            AFTER,
            textwrap.dedent("""\
                def create(email, thought):
                    with closing(thoughts_db.connect()) as db:
                        with db:
                            thought_id = thoughts_db.add_thought(db, email, thought)
                    job = GifSenderJob.perform_later(email, thought, thought_id)
                    GifSenderJob.perform_later(email, thought, thought_id)
                    return job
            """),
            "2 jobs for one thought",
        ),
        Requirement(
            SAVE, "def create(email, thought):\n    return GifSenderJob.perform_later(email, thought, 42)\n", "saved"
        ),
        Requirement(
            SAVE,
            REFERENCE_CREATE.replace("add_thought(db, email, thought)", "add_thought(db, 'ada@example.com', thought)"),
            "add_thought(db, email, thought)",
        ),
        Requirement(
            SAVE,
            textwrap.dedent("""\
                def create(email, thought):
                    db = thoughts_db.connect()
                    with db:
                        thought_id = thoughts_db.add_thought(db, email, thought)
                    return GifSenderJob.perform_later(email, thought, thought_id)
            """),
            "connection closed at the end",
        ),
        Requirement(
            AFTER,
            REFERENCE_CREATE.replace(
                "return GifSenderJob.perform_later(email, thought, thought_id)",
                "GifSenderJob.perform_later(email, thought, thought_id)",
            ),
            "did not return the job",
        ),
        Requirement(
            AFTER,
            REFERENCE_CREATE.replace(
                "perform_later(email, thought, thought_id)", "perform_later(thought, email, thought_id)"
            ),
            "perform_later(email, thought, thought_id)",
        ),
        Requirement(
            FAILS,
            textwrap.dedent("""\
                def create(email, thought):
                    try:
                        with closing(thoughts_db.connect()) as db, db:
                            thought_id = thoughts_db.add_thought(db, email, thought)
                    except Exception:
                        return None
                    return GifSenderJob.perform_later(email, thought, thought_id)
            """),
            "let the error out",
        ),
    ],
    right=[
        textwrap.dedent("""\
            def create(email, thought):
                db = thoughts_db.connect()
                try:
                    with db:
                        new_id = thoughts_db.add_thought(db, email, thought)
                finally:
                    db.close()
                job = GifSenderJob.perform_later(email, thought, new_id)
                return job
        """),
        textwrap.dedent("""\
            def create(email, thought):
                with closing(thoughts_db.connect()) as db, db:
                    thought_id = thoughts_db.add_thought(db, email, thought)
                return GifSenderJob.perform_later(email, thought, thought_id=thought_id)
        """),
    ],
)

TABLES = [RETRY_TIMEOUT, SEND_ONCE, ON_FAILURE, CONTROLLER]
test_requirements_table = table_test(TABLES)


def test_blank_files_are_not_attempted(redis_up: Path) -> None:
    blank_job = job_source(
        options="retry = ____\njob_timeout = ____\n",
        perform=REFERENCE_PERFORM.replace('r.set(key, "sent"', 'r.set(____, "sent"'),
        callback=REFERENCE_CALLBACK.replace(GUARD, "    ____\n"),
    )  # no ____ imported, as in the learner edition: a NameError for it
    for exercise in (ex_retry_timeout, ex_send_once, ex_on_failure):
        result = checked(exercise, blank_job)
        assert result.kind == "not_attempted", (exercise.name, result)
    blank = checked(ex_controller, job_source(), CONTROLLER_HEADER + "def create(email, thought):\n    ____\n")
    assert blank.kind == "not_attempted", blank
    assert queues.queue("mailers").count == 0  # the checks delete the jobs they queued


def test_the_proof_falls_back_to_the_reference_files(redis_up: Path) -> None:
    checked(ex_send_once, job_source(perform=REFERENCE_PERFORM.replace(CLAIM, "if False:")))
    (folder() / "capstone_controller.py").write_text(CONTROLLER_HEADER + REFERENCE_CREATE)
    load_module_from(folder() / "capstone_job.py")
    try:
        assert ex_controller.use(str(folder() / "capstone_controller.py")) is capstone.create
    finally:
        for name in ("capstone_job", "capstone_controller"):
            sys.modules.pop(name, None)


def test_a_check_that_cannot_reach_redis_says_so(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # the discard port: nothing listens there
    for exercise in (ex_retry_timeout, ex_send_once, ex_controller):
        result = checked(
            exercise, job_source(), None if exercise is not ex_controller else CONTROLLER_HEADER + REFERENCE_CREATE
        )
        assert result.kind == "incorrect" and "The check could not reach Redis" in result.message, result


@pytest.mark.parametrize("dequeue", ["lpop", "lmove"])
def test_queued_for_finds_a_job_a_worker_is_taking(redis_up: Path, dequeue: str) -> None:
    """The checks count a create's jobs with queued_for while a learner's worker may be taking them: with BLPOP (a
    worker on several queues, as 03's terminal worker) the job is in no list for a moment, with LMOVE (a worker on
    mailers alone, as capstone.start_worker) in the queue's intermediate list. Found by its hash, it counts."""
    mailers = queues.queue("mailers")
    email = capstone.address("taken")
    job = mailers.enqueue(deliver, email, "taken by a worker")
    conn = queues.connection()
    try:
        taken = conn.lpop(mailers.key) if dequeue == "lpop" else conn.lmove(mailers.key, mailers.intermediate_queue_key)
        assert taken == job.id.encode()
        assert [found.id for found in capstone.queued_for(email)] == [job.id]
        assert capstone.queued_for(capstone.address("nobody")) == []
    finally:
        conn.lrem(mailers.intermediate_queue_key, 0, job.id)
        job.delete()


# --- the proof's faults tell a wrong answer from a right one --------------------------------------------------------


def _enqueue_inside(email: str, thought: str) -> object:
    with closing(thoughts_db.connect()) as db, db:
        thought_id = thoughts_db.add_thought(db, email, thought)
        return capstone.GifSenderJob.perform_later(email, thought, thought_id)


def _without_key(email: str, thought: str) -> object:
    with closing(thoughts_db.connect()) as db, db:
        thoughts_db.add_thought(db, email, thought)
    return queues.queue("mailers").enqueue(deliver, email, thought, retry=Retry(max=3, interval=[1, 2, 4]))


@pytest.mark.slow
def test_the_faults_judge_by_the_inbox(services: Path) -> None:
    """Not carried by the notebook's run, which proves only the reference or a right answer: here a send without
    the key mails twice after the kill, and an enqueue inside the transaction mails for a rolled-back request."""
    worker = capstone.start_worker()
    try:
        right = capstone.kill_worker_mid_send(capstone.create, "right", worker)
        twice = capstone.kill_worker_mid_send(_without_key, "no key", worker)
        rolled_back = capstone.rolled_back_request(_enqueue_inside, "inside")
    finally:
        workers.stop_worker(worker)
    assert (right.status, right.emails) == ("finished", 1)
    assert (twice.status, twice.emails) == ("finished", 2)
    assert rolled_back.job is not None and rolled_back.emails == 1


@pytest.mark.slow
def test_the_outage_is_outlasted_and_not_reported(services: Path) -> None:
    """The reference's Retry outlasts the outage; its callback, called after the failed first try with retries left
    (rq 3.0.0 BaseWorker._finalize_failure), leaves the job off workit:undelivered."""
    worker = capstone.start_worker()
    try:
        outage = capstone.smtp_down_for_a_while(capstone.create, "right")
    finally:
        workers.stop_worker(worker)
    assert outage.notes == ["After the first try: scheduled"]
    assert (outage.status, outage.emails, outage.listed_undelivered) == ("finished", 1, False)
