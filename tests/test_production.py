"""09_reliability's support code against real parts: the SQLite file, Redis, and real worker processes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from rq import RateLimit

from support import production_jobs as pj
from support.lessons import after_commit, rate_limits
from support.rq_helpers import job_watch, queues, recovery, workers
from support.services import thoughts_db


def _saved(email: str = "ada@example.com", text: str = "Stretch") -> int:
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, email, text)
    db.close()
    return thought_id


# --- the database ----------------------------------------------------------------------------------------------


def test_the_database_is_private_and_shows_other_connections_only_what_is_committed(course_home: Path) -> None:
    db = thoughts_db.connect()
    assert stat.S_IMODE(thoughts_db.path().stat().st_mode) == 0o600
    thought_id = thoughts_db.add_thought(db, "ada@example.com", "Not yet")
    assert thoughts_db.get_thought(thought_id) is None  # another connection: the row is not committed
    db.commit()
    assert thoughts_db.get_thought(thought_id) == {"id": thought_id, "email": "ada@example.com", "text": "Not yet"}
    thoughts_db.update_text(thought_id, "Now")
    assert thoughts_db.get_thought(thought_id)["text"] == "Now"
    db.close()
    for extra in course_home.glob("thoughts.sqlite3-*"):  # the WAL files, while they exist
        assert stat.S_IMODE(extra.stat().st_mode) == 0o600


def test_a_request_transaction_commits_rolls_back_on_request_and_lets_other_errors_through(shared_course: Path) -> None:
    kept = after_commit.Attempt(0, False)
    with after_commit.request_transaction(kept) as db:
        kept.thought_id = thoughts_db.add_thought(db, "ada@example.com", "Kept")
        assert thoughts_db.get_thought(kept.thought_id) is None  # not committed while the block runs
    assert kept.committed and thoughts_db.get_thought(kept.thought_id)["text"] == "Kept"

    failed = after_commit.Attempt(0, False)
    with after_commit.request_transaction(failed, roll_back=True) as db:
        failed.thought_id = thoughts_db.add_thought(db, "ada@example.com", "Rolled back")
    assert not failed.committed and thoughts_db.get_thought(failed.thought_id) is None

    crashed = after_commit.Attempt(0, False)
    with pytest.raises(KeyError):  # not the lesson's RequestFailed: it reaches the caller, and nothing is saved
        with after_commit.request_transaction(crashed) as db:
            crashed.thought_id = thoughts_db.add_thought(db, "ada@example.com", "Crashed")
            raise KeyError("a bug in the request")
    assert not crashed.committed and thoughts_db.get_thought(crashed.thought_id) is None


def test_a_rolled_back_id_is_not_handed_out_again_and_an_empty_text_is_refused(shared_course: Path) -> None:
    db = thoughts_db.connect()
    with pytest.raises(RuntimeError):
        with db:
            rolled_back = thoughts_db.add_thought(db, "ada@example.com", "Gone")
            raise RuntimeError("the request failed")
    assert thoughts_db.get_thought(rolled_back) is None
    assert _saved() != rolled_back
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        with db:
            thoughts_db.add_thought(db, "ada@example.com", "")
    db.close()


def test_asking_for_the_path_keeps_the_locks_of_open_connections(shared_course: Path) -> None:
    db = thoughts_db.connect()
    with db:
        thoughts_db.add_thought(db, "ada@example.com", "First")
    thoughts_db.path()  # opening and closing the file here would drop this process's SQLite locks
    with db:
        thoughts_db.add_thought(db, "ada@example.com", "Second")
    db.close()


def test_the_outbox_keeps_unsent_rows_until_they_are_marked(shared_course: Path) -> None:
    db = thoughts_db.connect()
    with db:
        thought_id = thoughts_db.add_thought(db, "ada@example.com", "Outboxed")
        first = thoughts_db.add_to_outbox(db, "support.production_jobs.deliver_thought", thought_id)
        thoughts_db.add_to_outbox(db, "support.production_jobs.deliver_thought", thought_id)
    assert [row["id"] for row in thoughts_db.unsent(db)][0] == first
    thoughts_db.mark_sent(db, first)
    assert len(thoughts_db.unsent(db)) == 1
    assert thoughts_db.clear_outbox() == 1 and thoughts_db.unsent(db) == []
    assert thoughts_db.token() == thoughts_db.token()
    db.close()


def test_a_database_file_made_again_gets_a_new_token_in_the_same_process(course_home: Path) -> None:
    """Notes in Redis are keyed by the file's token: a new file (ids from 1 again) must not meet the old one's,
    even in a kernel that asked for the old file's token before it was deleted."""
    old = thoughts_db.token()
    for file in course_home.glob(f"{thoughts_db.FILE_NAME}*"):
        file.unlink()
    new = thoughts_db.token()
    assert new != old and thoughts_db.token() == new


# --- the jobs, called here -------------------------------------------------------------------------------------


def test_the_jobs_deliver_what_they_are_given_and_once_per_key(redis_up: Path) -> None:
    thought_id = _saved()
    with pytest.raises(LookupError, match="is not in the database"):
        pj.deliver_thought(thought_id + 1)
    assert pj.deliver_thought(thought_id) == "To ada@example.com: Stretch"
    assert pj.deliver_snapshot(pj.Thought(thought_id, "ada@example.com", "Old")) == "To ada@example.com: Old"
    other = _saved(text="Once")
    assert pj.deliver_thought_once(other) == "To ada@example.com: Once"
    assert pj.deliver_thought_once(other) is None
    assert pj.deliveries(thought_id) == 2 and pj.deliveries(other) == 1


def test_peak_counts_an_end_before_a_start_at_the_same_moment() -> None:
    assert rate_limits.peak([(0, 1), (1, -1), (1, 1), (2, -1)]) == 1
    assert rate_limits.peak([(0, 1), (0.5, 1), (1, -1), (2, -1)]) == 2
    assert rate_limits.peak([]) == 0


# --- with a real worker ----------------------------------------------------------------------------------------


@pytest.fixture
def worker(redis_up: Path):
    q = queues.queue("default")
    queues.empty(q)
    service = workers.start_worker(["default"], with_scheduler=False)
    yield q
    workers.stop_worker(service)


def test_the_three_ways_counted(worker) -> None:
    inside = after_commit.run_requests(after_commit.submit_enqueue_inside, worker, requests=8, worker_first=True)
    assert (inside.jobs, inside.jobs_for_rolled_back, inside.found_nothing, inside.delivered) == (8, 2, 8, 0)
    after = after_commit.run_requests(after_commit.submit_after_commit, worker, requests=8)
    assert (after.jobs, after.jobs_for_rolled_back, after.found_nothing, after.delivered) == (6, 0, 0, 6)
    outbox = after_commit.run_requests(
        after_commit.submit_with_outbox, worker, requests=8, after=lambda: after_commit.relay(worker)
    )
    assert (outbox.jobs, outbox.jobs_for_rolled_back, outbox.found_nothing, outbox.delivered) == (6, 0, 0, 6)
    assert outbox.committed == 6 and outbox.rolled_back == 2


def test_a_relay_that_crashes_queues_twice_and_the_idempotent_job_delivers_once(worker) -> None:
    thoughts_db.clear_outbox()
    attempt = after_commit.submit_with_outbox(worker, "ada@example.com", "Ship it")
    with pytest.raises(after_commit.RelayCrashed) as crash:
        after_commit.relay(worker, crash_after_enqueue=True)
    again = after_commit.relay(worker)
    assert after_commit.relay(worker) == []  # marked sent this time
    both = crash.value.jobs + again
    assert job_watch.wait_for_jobs(both) == {"finished": 2}
    assert pj.deliveries(attempt.thought_id) == 1


def test_a_json_job_fails_on_a_pickle_worker_and_runs_on_a_json_worker(worker) -> None:
    thought_id = _saved()
    json_queue = queues.queue("default", serializer="json")
    job = json_queue.enqueue(pj.deliver_thought, thought_id)
    assert job_watch.wait_for_jobs([job]) == {"failed": 1}
    assert recovery.error_line(job) == "rq.exceptions.DeserializationError"
    json_worker = workers.start_worker(["mailers"], with_scheduler=False, serializer="json")
    try:
        again = queues.queue("mailers", serializer="json").enqueue(pj.deliver_thought, thought_id)
        assert job_watch.wait_for_jobs([again]) == {"finished": 1}
        assert again.return_value() == "To ada@example.com: Stretch"
    finally:
        workers.stop_worker(json_worker)


@pytest.mark.slow
def test_a_rate_limit_holds_back_the_jobs_over_it(redis_up: Path) -> None:
    q = queues.queue("default")
    queues.empty(q)
    started = [workers.start_worker(["default"], with_scheduler=False) for _ in range(2)]
    try:
        rate_limits.reset_limit("test-limit")
        free = rate_limits.run_calls(q, jobs=4, seconds=0.2, at_once=2)
        assert free.peak == 2 and free.while_running == {"queued": 2, "started": 2}
        limited = rate_limits.run_calls(q, jobs=4, seconds=0.2, at_once=1, rate_limit=RateLimit("test-limit", 1))
        assert limited.peak == 1 and limited.while_running == {"rate_limited": 3, "started": 1}
        assert (limited.on_queue, limited.held_back) == (0, 3)
        assert limited.wall >= 4 * 0.2 and limited.statuses == {"finished": 4}
    finally:
        for service in started:
            workers.stop_worker(service)
