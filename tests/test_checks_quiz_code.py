"""The code questions of 07_check_for_understanding (17 to 20), checked for real on the course's Redis: per stated
requirement, one wrong answer that breaks only that requirement (Incorrect, its message naming it), two right answers
written differently from the reference, the solution shown, a blank, and nothing left behind in Redis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, Retry
from rq.job import Job, requeue_job

from support.checks import quiz, quiz_code
from support.checks.quiz_code import q17, q18, q19, q20
from support.exercises import ____
from support.jobs import send_gif_email
from support.rq_helpers import queues
from support.workit.mailer import deliver

# what the notebook has imported by the time a learner writes each answer
NOTEBOOK_NAMES = {"send_gif_email": send_gif_email, "deliver": deliver, "Retry": Retry, "Job": Job}


def quiz_keys() -> list[bytes]:
    return sorted(k for k in queues.connection().scan_iter(count=1000) if b"quiz-" in k)


def assert_incorrect(result: Any, *phrases: str) -> None:
    assert result.kind == "incorrect", result
    for phrase in phrases:
        assert phrase in result.message, result.message


@pytest.mark.parametrize(
    ("question", "name"), [(q17, "create"), (q18, "send_welcome"), (q19, "requeue_connection_errors")]
)  # Question 20's solution is a %%writefile cell: test_greetings_solution_shown runs it
def test_the_solution_shown_passes_and_leaves_nothing_in_redis(redis_up: Path, question: Any, name: str) -> None:
    namespace = dict(NOTEBOOK_NAMES)
    exec(question.solution_code, namespace)  # what a learner gets when they paste .solution() into a cell
    result = question.check(namespace[name])
    assert result.correct, result
    assert quiz_keys() == []


@pytest.mark.parametrize("question", quiz_code.QUESTIONS, ids=lambda q: q.name.replace(" ", ""))
def test_blank_is_not_attempted(question: Any) -> None:
    def blank(*args: Any) -> Any:
        return ____

    assert question.check(____).kind == "not_attempted"
    assert question.check(blank).kind == "not_attempted"


def test_summary_counts_the_code_questions(redis_up: Path) -> None:
    for question in quiz.EVERY_QUESTION:
        question.check(____)
    assert quiz.summary() == "Correct: 0 of 20; not answered yet: 20"
    q18.check(lambda queue, email: queue.enqueue(send_gif_email, email, "Welcome!"))
    assert quiz.summary() == "Correct: 0 of 20; to look at again: Question 18; not answered yet: 19"


# --- Question 17: a controller that sends twice --------------------------------------------------------------------


def create_right_1(queue: Queue, email: str, thought: str) -> str:
    return queue.enqueue("support.jobs.send_gif_email", email, thought).id


def create_right_2(queue: Queue, email: str, thought: str) -> str:
    job = queue.enqueue(send_gif_email, args=(email, thought))
    return str(job.id)


@pytest.mark.parametrize("create", [create_right_1, create_right_2])
def test_controller_right_answers(redis_up: Path, create: Any) -> None:
    assert q17.check(create).correct


def still_sends(queue: Queue, email: str, thought: str) -> str:
    deliver(email, thought)
    return queue.enqueue(send_gif_email, email, thought).id


def queues_twice(queue: Queue, email: str, thought: str) -> str:
    queue.enqueue(send_gif_email, email, thought)
    return queue.enqueue(send_gif_email, email, thought).id


def other_queue(queue: Queue, email: str, thought: str) -> str:
    return Queue("mailers", connection=queue.connection).enqueue(send_gif_email, email, thought).id


def swapped(queue: Queue, email: str, thought: str) -> str:
    return queue.enqueue(send_gif_email, thought, email).id


def returns_the_job(queue: Queue, email: str, thought: str) -> Job:
    return queue.enqueue(send_gif_email, email, thought)


@pytest.mark.parametrize(
    ("create", "phrases"),
    [
        (still_sends, ("sent 1 email(s) itself, inside the request", "Send nothing in the request")),
        (queues_twice, ("queued 2 job(s)", "exactly one job")),
        (other_queue, ("queued 0 job(s) (nothing)", "on the queue it is given")),
        (swapped, ("with the email and the thought it was given",)),
        (returns_the_job, ("returned", "return the job's id")),
    ],
)
def test_controller_wrong_answers(redis_up: Path, create: Any, phrases: tuple[str, ...]) -> None:
    assert_incorrect(q17.check(create), *phrases)


def test_controller_that_is_not_a_function_of_three(redis_up: Path) -> None:
    assert_incorrect(q17.check(lambda email, thought: None), "create should take three arguments")


# --- Question 18: retries that back off, and a timeout -------------------------------------------------------------


def welcome_right_1(queue: Queue, email: str) -> Job:
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=Retry(max=3, interval=[1, 5, 25]), job_timeout="30s")


def welcome_right_2(queue: Queue, email: str) -> Job:
    return queue.enqueue_call(
        "support.jobs.send_gif_email", args=[email, "Welcome!"], timeout=30, retry=Retry(3, [2, 4, 8])
    )


@pytest.mark.parametrize("send_welcome", [welcome_right_1, welcome_right_2])
def test_enqueue_right_answers(redis_up: Path, send_welcome: Any) -> None:
    result = q18.check(send_welcome)
    assert result.correct, result


def two_retries(queue: Queue, email: str) -> Job:
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=Retry(max=2, interval=[10, 30]), job_timeout=30)


def steady_waits(queue: Queue, email: str) -> Job:
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=Retry(max=3, interval=30), job_timeout=30)


def no_first_wait(queue: Queue, email: str) -> Job:
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=Retry(max=3, interval=[0, 10, 20]), job_timeout=30)


def no_timeout(queue: Queue, email: str) -> Job:
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=Retry(max=3, interval=[10, 30, 90]))


def other_thought(queue: Queue, email: str) -> Job:
    retry = Retry(max=3, interval=[10, 30, 90])
    return queue.enqueue(send_gif_email, email, "Welcome", retry=retry, job_timeout=30)


def welcome_elsewhere(queue: Queue, email: str) -> Job:
    retry = Retry(max=3, interval=[10, 30, 90])
    return Queue("default", connection=queue.connection).enqueue(
        send_gif_email, email, "Welcome!", retry=retry, job_timeout=30
    )


def returns_the_id(queue: Queue, email: str) -> str:
    retry = Retry(max=3, interval=[10, 30, 90])
    return queue.enqueue(send_gif_email, email, "Welcome!", retry=retry, job_timeout=30).id


@pytest.mark.parametrize(
    ("send_welcome", "phrases"),
    [
        (welcome_elsewhere, ("queued 0 job(s) on the queue it was given",)),
        (other_thought, ("queue support.jobs.send_gif_email('new-user@example.com', 'Welcome!')",)),
        (two_retries, ("retries_left=2", "give it 3 retries")),
        (steady_waits, ("wait 30 s, 30 s, 30 s", "no backoff")),
        (no_first_wait, ("wait 0 s, 10 s, 20 s", "the first more than 0 s")),
        (
            no_timeout,
            ("a timeout of 180 s for the job (the queue default, when enqueue is given none)", "job_timeout=30"),
        ),
        (returns_the_id, ("send_welcome returned", "return the Job")),
    ],
)
def test_enqueue_wrong_answers(redis_up: Path, send_welcome: Any, phrases: tuple[str, ...]) -> None:
    assert_incorrect(q18.check(send_welcome), *phrases)
    assert quiz_keys() == []


# --- Question 19: requeue what a connection error failed -------------------------------------------------------------


def requeue_right_1(queue: Queue) -> int:
    registry = queue.failed_job_registry
    picked = [
        job
        for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection)
        if job is not None and "ConnectionError" in (job.exc_info or "")
    ]
    for job in picked:
        job.requeue()
    return len(picked)


def requeue_right_2(queue: Queue) -> int:
    count = 0
    for job_id in queue.failed_job_registry.get_job_ids():
        result = Job.fetch(job_id, connection=queue.connection).latest_result()
        exception = result.exc_string.strip().splitlines()[-1].split(":")[0] if result and result.exc_string else ""
        if exception == "ConnectionError":
            requeue_job(job_id, connection=queue.connection)
            count += 1
    return count


@pytest.mark.parametrize("requeue", [requeue_right_1, requeue_right_2])
def test_requeue_right_answers(redis_up: Path, requeue: Any) -> None:
    result = q19.check(requeue)
    assert result.correct, result
    assert quiz_keys() == []


def only_the_first(queue: Queue) -> int:
    registry = queue.failed_job_registry
    for job_id in registry.get_job_ids():
        if "ConnectionError" in (Job.fetch(job_id, connection=queue.connection).latest_result().exc_string or ""):
            registry.requeue(job_id)
            break
    return 2


def pushes_without_moving(queue: Queue) -> int:
    count = 0
    for job_id in queue.failed_job_registry.get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection)
        if "ConnectionError" in (job.latest_result().exc_string or ""):
            queue.enqueue_job(job)
            count += 1
    return count


def every_failed_job(queue: Queue) -> int:
    ids = queue.failed_job_registry.get_job_ids()
    for job_id in ids:
        queue.failed_job_registry.requeue(job_id)
    return 2


def every_queue(queue: Queue) -> int:
    count = 0
    for q in Queue.all(connection=queue.connection):
        for job_id in q.failed_job_registry.get_job_ids():
            if "ConnectionError" in (Job.fetch(job_id, connection=q.connection).latest_result().exc_string or ""):
                q.failed_job_registry.requeue(job_id)
                count += 1 if q.name == queue.name else 0
    return count


def returns_nothing(queue: Queue) -> None:
    for job_id in queue.failed_job_registry.get_job_ids():
        if "ConnectionError" in (Job.fetch(job_id, connection=queue.connection).latest_result().exc_string or ""):
            queue.failed_job_registry.requeue(job_id)


@pytest.mark.parametrize(
    ("requeue", "phrases"),
    [
        (only_the_first, ("1 of the 2 jobs that failed with ConnectionError are not back on the queue",)),
        (pushes_without_moving, ("on the queue again but still in the failed registry too",)),
        (every_failed_job, ("The job that failed with ValueError left the failed registry",)),
        (every_queue, ("A ConnectionError job of another queue was requeued too",)),
        (returns_nothing, ("requeued the right jobs but returned None", "return how many")),
    ],
)
def test_requeue_wrong_answers(redis_up: Path, requeue: Any, phrases: tuple[str, ...]) -> None:
    assert_incorrect(q19.check(requeue), *phrases)
    assert quiz_keys() == []


# --- Question 20: a job a worker can import -------------------------------------------------------------------------


def greetings_file(folder: Path, source: str) -> Path:
    path = folder / "greetings.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_greetings_solution_shown(redis_up: Path, tmp_path: Path) -> None:
    magic, source = q20.solution_code.split("\n", 1)
    assert magic == "%%writefile greetings.py"
    result = q20.check(str(greetings_file(tmp_path, source)))
    assert result.correct, result
    assert "returned 'Welcome, Ada!' and 'Good morning, Grace!'" in result.message
    assert quiz_keys() == []


@pytest.mark.parametrize(
    "source",
    [
        'def greet(name, greeting):\n    return greeting + ", " + name + "!"\n',
        '"""Greetings, as jobs."""\n\n\ndef greet(name, greeting="Hello"):\n'
        '    return "{}, {}!".format(greeting, name)\n',
    ],
)
def test_greetings_right_answers(redis_up: Path, tmp_path: Path, source: str) -> None:
    result = q20.check(str(greetings_file(tmp_path, source)))
    assert result.correct, result


GLOBAL_GREETING = 'greeting = "Welcome"\n\n\ndef greet(name, greeting_=None):\n    return f"{greeting}, {name}!"\n'
FROM_THE_NOTEBOOK = (
    'from __main__ import greeting\n\n\ndef greet(name, greeting_):\n    return f"{greeting}, {name}!"\n'
)


@pytest.mark.parametrize(
    ("source", "phrases"),
    [
        ("def greet(name, greeting):\n    return 1 / 0\n", ("the job failed: ZeroDivisionError: division by zero",)),
        ("def hello(name, greeting):\n    return f'{greeting}, {name}!'\n", ("has no function greet",)),
        ("def greet(name):\n    return f'Welcome, {name}!'\n", ("greet should take two arguments",)),
        (GLOBAL_GREETING, ("returned 'Welcome, Ada!' and 'Welcome, Grace!'", "did not use the greeting")),
        (
            "def greet(name, greeting):\n    return f'{greeting} {name}'\n",
            ("it returned 'Welcome Ada'", "'Welcome, Ada!'"),
        ),
    ],
)
def test_greetings_wrong_answers(redis_up: Path, tmp_path: Path, source: str, phrases: tuple[str, ...]) -> None:
    assert_incorrect(q20.check(str(greetings_file(tmp_path, source))), *phrases)
    assert quiz_keys() == []


def test_greetings_that_read_the_notebooks_variable_fail_in_the_worker(
    redis_up: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules["__main__"], "greeting", "Welcome", raising=False)  # the notebook's variable
    result = q20.check(str(greetings_file(tmp_path, FROM_THE_NOTEBOOK)))
    assert_incorrect(
        result,
        "The worker could not import greetings.greet (ValueError: Invalid attribute name: greetings.greet)",
        "raises ImportError",
        "sees no variable of your notebook",
    )


def test_greetings_file_missing_or_blank(redis_up: Path, tmp_path: Path) -> None:
    assert_incorrect(q20.check(str(tmp_path / "greetings.py")), "There is no file greetings.py yet")
    blank = greetings_file(tmp_path, "from support.exercises import ____\n\n\ndef greet(name, greeting):\n    ____\n")
    assert q20.check(str(blank)).kind == "not_attempted"
