"""The checks of 09_reliability, against real effects: rows committed (or not) in the app's SQLite file
when a real queue gets the job, RateLimit objects, and what Redis really holds for a job (JSON or a pickle).

Each exercise has its requirements table (``tests/exercise_table.py``): every answer is source text, run as the
notebook runs the learner's cell, with the names 09's set-up cell defined, then checked by the real check."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from exercise_table import Requirement, Table, define, table_test
from rq import RateLimit
from rq.exceptions import DuplicateJobError

from support.checks.production import ex_after_commit, ex_json_id, ex_mail_limit, stored_payload
from support.exercises import ____
from support.exercises.results import Result
from support.production_jobs import Thought, deliver_snapshot, deliver_thought, deliver_thought_once, deliveries
from support.rq_helpers import queues
from support.services import course, thoughts_db


def notebook_names() -> dict[str, Any]:
    """What 09's set-up cell (and the cells before each exercise) defined: a learner's cell may use any of it."""
    return {
        "os": os,
        "closing": closing,
        "RateLimit": RateLimit,
        "DuplicateJobError": DuplicateJobError,
        "____": ____,
        "Thought": Thought,
        "deliver_snapshot": deliver_snapshot,
        "deliver_thought": deliver_thought,
        "deliver_thought_once": deliver_thought_once,
        "deliveries": deliveries,
        "queues": queues,
        "thoughts_db": thoughts_db,
        "q": queues.queue("default"),
        "mailers": queues.queue("mailers"),
    }


def redis() -> None:
    course.up("redis", quiet=True)


# --- Exercise 1: enqueue after the commit ----------------------------------------------------------------------


def submit_save_thought(source: str) -> Result:
    return ex_after_commit.check(define(source, "save_thought", notebook_names()))


REFERENCE_SAVE = ex_after_commit.solution_code


def save_variant(body: str) -> str:
    return "def save_thought(q, email, text):\n" + body


SAVE_THOUGHT = Table(
    ex_after_commit,
    submit_save_thought,
    setup=redis,
    requirements=[
        Requirement(
            "save the thought with `thoughts_db.add_thought(db, email, text)` inside a transaction (`with db:`)",
            save_variant(
                "    with closing(thoughts_db.connect()) as db:\n"
                "        thought_id = thoughts_db.add_thought(db, email, text)  # no `with db:`: never committed\n"
                "    return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "never committed",
        ),
        Requirement(
            "save the thought with `thoughts_db.add_thought(db, email, text)`",
            REFERENCE_SAVE.replace("add_thought(db, email, text)", "add_thought(db, 'ada@example.com', text)"),
            "add_thought(db, email, text)",
        ),
        Requirement(
            "only **after the commit**, queue `deliver_thought` on `q`",
            save_variant(
                "    with closing(thoughts_db.connect()) as db:\n"
                "        with db:\n"
                "            thought_id = thoughts_db.add_thought(db, email, text)\n"
                "            return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "Enqueue only after the commit",
        ),
        Requirement(  # both inside the transaction and after it
            "only **after the commit**, queue `deliver_thought` on `q`",
            save_variant(
                "    with closing(thoughts_db.connect()) as db:\n"
                "        with db:\n"
                "            thought_id = thoughts_db.add_thought(db, email, text)\n"
                "            q.enqueue(deliver_thought, thought_id)\n"
                "    return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "queued 2 jobs for one thought",
        ),
        Requirement(  # twice after the commit, the first one returned
            "queue `deliver_thought` on `q` with the thought's **id** (nothing else); return the job",
            save_variant(
                "    with closing(thoughts_db.connect()) as db:\n"
                "        with db:\n"
                "            thought_id = thoughts_db.add_thought(db, email, text)\n"
                "    job = q.enqueue(deliver_thought, thought_id)\n"
                "    q.enqueue(deliver_thought, thought_id)\n"
                "    return job\n"
            ),
            "queue deliver_thought once",
        ),
        Requirement(
            "queue `deliver_thought` on `q`",
            REFERENCE_SAVE.replace("q.enqueue(deliver_thought,", "q.enqueue(deliver_thought_once,"),
            "the exercise asks for deliver_thought",
        ),
        Requirement(
            "queue `deliver_thought` on `q`",
            REFERENCE_SAVE.replace("return q.enqueue(", "return mailers.enqueue("),
            "queued no job",
        ),
        Requirement(
            "with the thought's **id** (nothing else)",
            REFERENCE_SAVE.replace("thought_id)", "thought_id, text)"),
            "pass only the thought's id",
        ),
        Requirement(
            "with the thought's **id** (nothing else)",
            REFERENCE_SAVE.replace("thought_id)", "thoughts_db.get_thought(thought_id))"),
            "pass only the thought's id",
        ),
        Requirement(
            "with the thought's **id** (nothing else)",
            REFERENCE_SAVE.replace("thought_id)", "str(thought_id))"),
            "pass only the thought's id",
        ),
        Requirement("return the job", REFERENCE_SAVE.replace("return q.enqueue(", "q.enqueue("), "return the job"),
        Requirement(
            "return the job",
            REFERENCE_SAVE.replace(
                "return q.enqueue(deliver_thought, thought_id)", "return q.enqueue(deliver_thought, thought_id).id"
            ),
            "return the job",
        ),
        Requirement(
            "when the save fails (an empty text raises `sqlite3.IntegrityError`), queue nothing and let the error out",
            save_variant(
                "    try:\n"
                "        with closing(thoughts_db.connect()) as db, db:\n"
                "            thought_id = thoughts_db.add_thought(db, email, text)\n"
                "    except Exception:\n"
                "        return None\n"
                "    return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "let the error out",
        ),
        Requirement(
            "when the save fails (an empty text raises `sqlite3.IntegrityError`), queue nothing and let the error out",
            save_variant(
                "    thought_id = None\n"
                "    try:\n"
                "        with closing(thoughts_db.connect()) as db, db:\n"
                "            thought_id = thoughts_db.add_thought(db, email, text)\n"
                "    finally:\n"
                "        job = q.enqueue(deliver_thought, thought_id)\n"
                "    return job\n"
            ),
            "queue nothing",
        ),
        Requirement(
            "close the connection in every case, the failed save included.",
            save_variant(
                "    db = thoughts_db.connect()\n"
                "    with db:\n"
                "        thought_id = thoughts_db.add_thought(db, email, text)\n"
                "    return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "left a database connection open",
        ),
        Requirement(  # the model answer before issue 23: close() not in a finally
            "close the connection in every case, the failed save included.",
            save_variant(
                "    db = thoughts_db.connect()\n"
                "    with db:\n"
                "        thought_id = thoughts_db.add_thought(db, email, text)\n"
                "    db.close()\n"
                "    return q.enqueue(deliver_thought, thought_id)\n"
            ),
            "the failed save included",
        ),
    ],
    right=[
        save_variant(  # close in a finally; the id passed by name
            "    db = thoughts_db.connect()\n"
            "    try:\n"
            "        with db:\n"
            "            new_id = thoughts_db.add_thought(db, email, text)\n"
            "    finally:\n"
            "        db.close()\n"
            "    job = q.enqueue(deliver_thought, thought_id=new_id)\n"
            "    return job\n"
        ),
        save_variant(  # one with-statement; enqueue_call; the enqueue inside closing() but after the commit
            "    with closing(thoughts_db.connect()) as db:\n"
            "        with db:\n"
            "            thought_id = thoughts_db.add_thought(db, email, text)\n"
            "        return q.enqueue_call(deliver_thought, args=(thought_id,))\n"
        ),
        save_variant(  # commit() and rollback() by hand
            "    import sqlite3\n"
            "    db = thoughts_db.connect()\n"
            "    try:\n"
            "        thought_id = thoughts_db.add_thought(db, email, text)\n"
            "        db.commit()\n"
            "    except sqlite3.Error:\n"
            "        db.rollback()\n"
            "        raise\n"
            "    finally:\n"
            "        db.close()\n"
            "    return q.enqueue(deliver_thought, args=[thought_id], description='deliver a thought')\n"
        ),
    ],
)


def test_save_thought_reference_is_correct_and_leaves_no_job(redis_up: Path) -> None:
    result = ex_after_commit.check(ex_after_commit.reference)
    assert result.correct and "committed before its one job was queued" in result.message, result
    assert queues.queue("default").count == 0  # the check's jobs are deleted again


def test_save_thought_with_the_wrong_arguments_or_no_function_is_incorrect(redis_up: Path) -> None:
    assert "(q, email, text)" in ex_after_commit.check(lambda q, email: None).message
    assert "should be a function" in ex_after_commit.check(3).message


def test_save_thought_blank_is_not_attempted(redis_up: Path) -> None:
    def save_thought(q, email, text):
        ____

    assert ex_after_commit.check(save_thought).kind == "not_attempted"
    assert ex_after_commit.check(____).kind == "not_attempted"
    assert ex_after_commit.use(____, quiet=True) is ex_after_commit.reference


def test_a_check_that_cannot_reach_redis_says_so(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Redis that does not answer (REDIS_URL: a server of the learner's, never started by the course): the checks
    say that they could not reach it, not that the answer raised."""
    job = queues.queue("default", serializer="json").create_job(deliver_thought, args=(1,))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # the discard port: nothing listens there
    for result in (ex_after_commit.check(ex_after_commit.reference), ex_json_id.check(job, Thought(1, "a@b.c", "x"))):
        assert result.kind == "incorrect" and "The check could not reach Redis" in result.message, result


# --- Exercise 2: a rate limit for the mail provider --------------------------------------------------------------


def submit_mail_limit(source: str) -> Result:
    return ex_mail_limit.check(define(source, "mail_limit", notebook_names()))


def limit_answer(expression: str) -> str:
    return f"def mail_limit(email):\n    return {expression}\n"


MAIL_LIMIT = Table(
    ex_mail_limit,
    submit_mail_limit,
    setup=redis,
    requirements=[
        Requirement(
            "The mail provider accepts **2** connections at once from your account, and refuses more.",
            limit_answer('RateLimit(key="mail-provider", concurrency=3)'),
            "accepts 2 connections at once",
        ),
        Requirement(
            "2 mail jobs can run at once over all your users, and never more",
            limit_answer('RateLimit(key="mail-provider", concurrency=1)'),
            "accepts 2 connections at once",
        ),
        Requirement(
            "2 mail jobs can run at once over all your users, and never more",
            limit_answer('RateLimit(key=f"mail-{email}", concurrency=2)'),
            "over all your users",
        ),
        Requirement(  # one key per mail provider's domain: two users of two domains get two keys
            "2 mail jobs can run at once over all your users, and never more",
            limit_answer('RateLimit(key="mail-" + email.split("@")[1], concurrency=2)'),
            "over all your users",
        ),
        Requirement(
            "it returns the `RateLimit` for the job that mails `email`",
            limit_answer('("mail-provider", 2)'),
            "return an rq RateLimit",
        ),
    ],
    equivalent={
        "L2 Constant 'mail-provider'->'mail-providerx'": "any key that every mail job shares meets the requirement: "
        "the text names no key, and the limit works the same under any name",
    },
    right=[
        'PROVIDER_LIMIT = RateLimit("smtp-account", 2)\n\n\ndef mail_limit(email):\n    return PROVIDER_LIMIT\n',
        "def mail_limit(email):\n"
        "    connections = 2\n"
        "    return RateLimit(concurrency=connections, key='provider:mail')\n",
    ],
)


def test_mail_limit_blank_is_not_attempted() -> None:
    def mail_limit(email):
        return ____

    assert ex_mail_limit.check(mail_limit).kind == "not_attempted"
    assert ex_mail_limit.check(____).kind == "not_attempted"
    assert "should be a function" in ex_mail_limit.check(RateLimit("mail", 2)).message
    assert ex_mail_limit.use(____, quiet=True)("x@example.com").concurrency == 2


# --- Exercise 3: an id, stored as JSON ---------------------------------------------------------------------------


def new_thought() -> Thought:
    with closing(thoughts_db.connect()) as db, db:
        thought_id = thoughts_db.add_thought(db, "grace@example.com", "Drink water")
    return Thought(thought_id, "grace@example.com", "Drink water")


def submit_json_id(source: str) -> Result:
    """The cell runs after 09's `json_queue` and `thought` cells; the jobs it queued are removed again (no worker
    runs in the test, so they would wait on the queue)."""
    thought = new_thought()
    names = notebook_names() | {"thought": thought, "json_queue": queues.queue("default", serializer="json")}
    try:
        return ex_json_id.check(define(source, "by_id", names), thought)
    finally:
        for name in ("default", "mailers"):
            queues.queue(name).empty()


JSON_ID = Table(
    ex_json_id,
    submit_json_id,
    setup=redis,
    requirements=[
        Requirement(
            "Queue `deliver_thought` for `thought` on `json_queue`",
            "by_id = q.enqueue(deliver_thought, thought.id)",
            "Redis holds this job as a pickle",
        ),
        Requirement(
            "Queue `deliver_thought` for `thought` on `json_queue`",
            'by_id = queues.queue("mailers", serializer="json").enqueue(deliver_thought, thought.id)',
            "queue it on json_queue",
        ),
        Requirement(
            "Queue `deliver_thought` for `thought` on `json_queue`",
            "from datetime import timedelta\n\n"
            "by_id = json_queue.enqueue_in(timedelta(minutes=1), deliver_thought, thought.id)",
            "not queued",
        ),
        Requirement(
            "Queue `deliver_thought` for `thought` on `json_queue`",
            "by_id = json_queue.enqueue(deliver_thought_once, thought.id)",
            "the exercise asks for deliver_thought",
        ),
        Requirement(
            "passing only its id",
            "from dataclasses import asdict\nby_id = json_queue.enqueue(deliver_thought, asdict(thought))",
            "pass only thought.id",
        ),
        Requirement(
            "passing only its id",
            "by_id = json_queue.enqueue(deliver_thought, thought.id, thought.text)",
            "pass only thought.id",
        ),
        Requirement(
            "passing only its id",
            "by_id = json_queue.enqueue(deliver_thought, str(thought.id))",
            "pass only thought.id",
        ),
        Requirement(
            "Keep the job in `by_id`.",
            "by_id = json_queue.enqueue(deliver_thought, thought.id).id",
            "it should be the job that enqueue returns",
        ),
    ],
    right=[
        "job = json_queue.enqueue(deliver_thought, thought_id=thought.id)\nby_id = job",
        'by_id = json_queue.enqueue_call("support.production_jobs.deliver_thought", args=[thought.id], result_ttl=600)',
        "from rq import Queue\nfrom rq.serializers import JSONSerializer\n"
        'by_id = Queue("default", connection=queues.connection(), serializer=JSONSerializer).enqueue(\n'
        "    deliver_thought, thought.id\n)",
    ],
)


def test_json_job_reference_is_stored_as_json_and_use_goes_on_with_it(redis_up: Path) -> None:
    thought = new_thought()
    json_queue = queues.queue("mailers", serializer="json")
    job = queues.queue("default", serializer="json").enqueue(deliver_thought, thought.id)
    assert stored_payload(job) == ["support.production_jobs.deliver_thought", None, [thought.id], {}]
    assert ex_json_id.check(job, thought).correct
    assert ex_json_id.use(job, json_queue, thought, quiet=True) is job


def test_json_job_blank_is_not_attempted_and_use_makes_the_reference(redis_up: Path) -> None:
    thought = new_thought()
    json_queue = queues.queue("mailers", serializer="json")
    assert ex_json_id.check(____, thought).kind == "not_attempted"
    made = ex_json_id.use(____, json_queue, thought, quiet=True)
    assert stored_payload(made)[2] == [thought.id]


TABLES = [SAVE_THOUGHT, MAIL_LIMIT, JSON_ID]
test_requirements_table = table_test(TABLES)
