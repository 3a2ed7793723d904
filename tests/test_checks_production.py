"""The checks of 09_reliability, against real effects: rows committed (or not) in the app's SQLite file
when a real queue gets the job, RateLimit objects, and what Redis really holds for a job (JSON or a pickle)."""

from __future__ import annotations

from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import pytest
from rq import RateLimit

from support.checks.production import ex_after_commit, ex_json_id, ex_mail_limit, stored_payload
from support.exercises import ____
from support.production_jobs import Thought, deliver_thought, deliver_thought_once
from support.rq_helpers import queues
from support.services import thoughts_db

# --- Exercise 1: enqueue after the commit ----------------------------------------------------------------------


def after_commit(q, email, text):
    with closing(thoughts_db.connect()) as db, db:
        thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(deliver_thought, thought_id)


def test_save_thought_reference_is_correct_and_leaves_no_job(redis_up: Path) -> None:
    result = ex_after_commit.check(after_commit)
    assert result.correct, result
    assert "committed before the job was queued" in result.message
    assert ex_after_commit.check(ex_after_commit.reference).correct
    assert queues.queue("default").count == 0  # the check's jobs are deleted again


def test_save_thought_solution_shown_passes_and_closes_its_connection(redis_up: Path) -> None:
    """The model answer closes its connection even when the insert raises (issue 23: it leaked before)."""
    namespace = {"closing": closing, "thoughts_db": thoughts_db, "deliver_thought": deliver_thought}
    exec(ex_after_commit.solution_code, namespace)  # what a learner gets from .solution()
    assert "closing(" in ex_after_commit.solution_code
    assert ex_after_commit.check(namespace["save_thought"]).correct


def inside(q, email, text):
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, email, text)
        job = q.enqueue(deliver_thought, thought_id)
    db.close()
    return job


def never_committed(q, email, text):
    db = thoughts_db.connect()
    thought_id = thoughts_db.add_thought(db, email, text)
    job = q.enqueue(deliver_thought, thought_id)
    db.close()  # closing without commit rolls back
    return job


def with_the_text(q, email, text):
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(deliver_thought, thought_id, text)


def other_function(q, email, text):
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, email, text)
    return q.enqueue(deliver_thought_once, thought_id)


def returns_nothing(q, email, text):
    after_commit(q, email, text)


def queues_nothing(q, email, text):
    db = thoughts_db.connect()
    with db:
        thoughts_db.add_thought(db, email, text)


def swallows_the_error(q, email, text):
    try:
        return after_commit(q, email, text)
    except Exception:
        return None


def queues_even_when_it_fails(q, email, text):
    db = thoughts_db.connect()
    thought_id = None
    try:
        with db:
            thought_id = thoughts_db.add_thought(db, email, text)
    finally:
        job = q.enqueue(deliver_thought, thought_id)
    return job


def leaks_when_the_save_fails(q, email, text):  # the model answer before issue 23: close() not in a finally
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, email, text)
    db.close()
    return q.enqueue(deliver_thought, thought_id)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (leaks_when_the_save_fails, "Your function left a database connection open"),
        (inside, "When your function queued the job, the thought was not committed yet"),
        (never_committed, "the transaction was never committed"),
        (with_the_text, "pass only the thought's id"),
        (other_function, "the exercise asks for deliver_thought"),
        (returns_nothing, "Your function returned None: return the job"),
        (queues_nothing, "Your function queued no job"),
        (swallows_the_error, "Saving an empty thought failed, and your function returned None: let the error out"),
        (queues_even_when_it_fails, "but your function still queued a job first"),
    ],
    ids=[
        "close-the-connection",
        "commit-first",
        "commit-at-all",
        "only-the-id",
        "deliver_thought",
        "return-the-job",
        "queue-a-job",
        "let-the-error-out",
        "queue-nothing-on-failure",
    ],
)
def test_save_thought_breaking_one_stated_rule_is_incorrect(redis_up: Path, fn, message: str) -> None:
    result = ex_after_commit.check(fn)
    assert result.kind == "incorrect" and message in result.message, result
    assert queues.queue("default").count == 0


def test_save_thought_with_the_wrong_arguments_or_no_function_is_incorrect(redis_up: Path) -> None:
    assert "(q, email, text)" in ex_after_commit.check(lambda q, email: None).message
    assert "should be a function" in ex_after_commit.check(3).message


def test_save_thought_blank_is_not_attempted(redis_up: Path) -> None:
    def save_thought(q, email, text):
        ____

    assert ex_after_commit.check(save_thought).kind == "not_attempted"
    assert ex_after_commit.check(____).kind == "not_attempted"
    assert ex_after_commit.use(____, quiet=True) is ex_after_commit.reference


# --- Exercise 2: a rate limit for the mail provider --------------------------------------------------------------


def test_mail_limit_reference_is_correct() -> None:
    result = ex_mail_limit.check(lambda email: RateLimit(key="mail-provider", concurrency=2))
    assert result.correct and "shares the key 'mail-provider'" in result.message
    assert ex_mail_limit.check(ex_mail_limit.reference).correct


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda email: RateLimit("mail", 4), "concurrency=4 lets 4 sends run at once"),
        (lambda email: RateLimit("mail", 1), "concurrency=1 is safe but slower than needed"),
        (lambda email: RateLimit(f"mail-{email}", 2), "Two addresses got two keys"),
        (lambda email: ("mail", 2), "return an rq RateLimit"),
    ],
    ids=["at-most-2", "not-fewer-than-2", "one-key-for-all", "a-rate-limit"],
)
def test_mail_limit_breaking_one_stated_rule_is_incorrect(fn, message: str) -> None:
    result = ex_mail_limit.check(fn)
    assert result.kind == "incorrect" and message in result.message, result


def test_mail_limit_blank_is_not_attempted() -> None:
    def mail_limit(email):
        return ____

    assert ex_mail_limit.check(mail_limit).kind == "not_attempted"
    assert ex_mail_limit.check(____).kind == "not_attempted"
    assert "should be a function" in ex_mail_limit.check(RateLimit("mail", 2)).message
    assert ex_mail_limit.use(____, quiet=True)("x@example.com").concurrency == 2


# --- Exercise 3: an id, stored as JSON ---------------------------------------------------------------------------


@pytest.fixture
def thought(redis_up: Path) -> Thought:
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, "grace@example.com", "Drink water")
    db.close()
    return Thought(thought_id, "grace@example.com", "Drink water")


def test_json_job_reference_is_correct_and_use_goes_on_with_it(thought: Thought) -> None:
    json_queue = queues.queue("mailers", serializer="json")
    job = json_queue.enqueue(deliver_thought, thought.id)
    result = ex_json_id.check(job, thought)
    assert result.correct and "stored as JSON" in result.message
    assert stored_payload(job) == ["support.production_jobs.deliver_thought", None, [thought.id], {}]
    assert ex_json_id.use(job, json_queue, thought, quiet=True) is job


def test_json_job_stored_as_a_pickle_is_incorrect(thought: Thought) -> None:
    job = queues.queue("mailers").enqueue(deliver_thought, thought.id)
    result = ex_json_id.check(job, thought)
    assert result.kind == "incorrect" and "Redis holds this job as a pickle" in result.message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda q, t: q.enqueue(deliver_thought_once, t.id),
            "The job runs support.production_jobs.deliver_thought_once",
        ),
        (lambda q, t: q.enqueue(deliver_thought, asdict(t)), "pass only thought.id"),
        (lambda q, t: q.enqueue(deliver_thought, t.id, t.text), "pass only thought.id"),
    ],
    ids=["deliver_thought", "the-id-not-the-fields", "only-the-id"],
)
def test_json_job_breaking_one_stated_rule_is_incorrect(thought: Thought, call, message: str) -> None:
    job = call(queues.queue("mailers", serializer="json"), thought)
    result = ex_json_id.check(job, thought)
    assert result.kind == "incorrect" and message in result.message, result


def test_json_job_blank_is_not_attempted_and_use_makes_the_reference(thought: Thought) -> None:
    json_queue = queues.queue("mailers", serializer="json")
    assert ex_json_id.check(____, thought).kind == "not_attempted"
    assert "it should be the job that enqueue returns" in ex_json_id.check("a job", thought).message
    made = ex_json_id.use(____, json_queue, thought, quiet=True)
    assert stored_payload(made)[2] == [thought.id]
