"""The code questions of 07_check_for_understanding (17 to 20), checked for real on the course's Redis. Each
question's requirements table (quoted from the notebook, a wrong answer per requirement rejected naming it, right
answers written differently) is at the end; besides, a blank is not attempted, the summary counts the questions, and
nothing of a check is left in Redis."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import redis
from exercise_table import Requirement, Table, define, table_test
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Retry
from rq.job import Job

from support.checks import quiz, quiz_code
from support.checks.quiz_code import q17, q18, q19, q20
from support.exercises import ____
from support.exercises.results import Result
from support.jobs import send_gif_email
from support.rq_helpers import queues
from support.services import course, state
from support.workit.mailer import deliver

# what the notebook has imported by the time a learner writes each answer
NOTEBOOK_NAMES = {"send_gif_email": send_gif_email, "deliver": deliver, "Retry": Retry, "Job": Job, "____": ____}


def up() -> None:
    course.up("redis", quiet=True)


def quiz_keys() -> list[bytes]:
    return sorted(k for k in queues.connection().scan_iter(count=1000) if b"quiz-" in k)


def job_keys() -> list[bytes]:
    return sorted(queues.connection().scan_iter(match="rq:job:*", count=1000))


def submitter(question: Any, name: str) -> Any:
    def submit(source: str) -> Result:
        return question.check(define(source, name, NOTEBOOK_NAMES))

    return submit


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


def test_redis_that_does_not_answer_is_the_checks_trouble(redis_up: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = redis.Redis(port=1, socket_connect_timeout=0.2, retry=RedisRetry(NoBackoff(), 0))  # nothing there
    monkeypatch.setattr(queues, "connection", lambda: nowhere)
    namespace = dict(NOTEBOOK_NAMES)
    exec(q17.solution_code, namespace)
    result = q17.check(namespace["create"])
    assert result.message.startswith("The check could not talk to the course's Redis: ConnectionError"), result


# --- Question 17: a controller that sends twice --------------------------------------------------------------------


def create(*body: str) -> str:
    return "def create(queue, email, thought):\n" + "".join(f"    {line}\n" for line in body)


ENQUEUE = "job = queue.enqueue(send_gif_email, email, thought)"
Q17 = Table(
    q17,
    submitter(q17, "create"),
    setup=up,
    requirements=[
        Requirement(
            "send no email itself, inside the request",
            create("deliver(email, thought)", ENQUEUE, "return job.id"),
            "Send no email itself, inside the request",
        ),
        Requirement(
            "send no email itself, inside the request",
            create("send_gif_email(email, thought, 0)  # at once, to be sure", ENQUEUE, "return job.id"),
            "Send no email itself, inside the request",
        ),
        Requirement(
            "queue exactly one job, `send_gif_email(email, thought)`, on the `queue` it is given",
            create("queue.enqueue(send_gif_email, email, thought)", ENQUEUE, "return job.id"),
            "queue exactly one job per form",
        ),
        Requirement(
            "queue exactly one job, `send_gif_email(email, thought)`, on the `queue` it is given",
            create(
                "from rq import Queue",
                "job = Queue('mailers', connection=queue.connection).enqueue(send_gif_email, email, thought)",
                "return job.id",
            ),
            "on the queue it is given",
        ),
        Requirement(
            "queue exactly one job, `send_gif_email(email, thought)`, on the `queue` it is given",
            create(
                "from rq import Queue",
                "Queue('default', connection=queue.connection).enqueue(send_gif_email, email, thought)",
                ENQUEUE,
                "return job.id",
            ),
            "queue exactly one job per form",
        ),
        Requirement(
            "queue exactly one job, `send_gif_email(email, thought)`, on the `queue` it is given",
            create("job = queue.enqueue(send_gif_email, thought, email)", "return job.id"),
            "send_gif_email(email, thought) with the email and the thought it was given",
        ),
        Requirement(
            "queue exactly one job, `send_gif_email(email, thought)`, on the `queue` it is given",
            create("job = queue.enqueue(send_gif_email, 'reader@example.com', thought)", "return job.id"),
            "send_gif_email(email, thought) with the email and the thought it was given",
        ),
        Requirement("return that job's id", create(ENQUEUE, "return job"), "return that job's id"),
    ],
    right=[
        create("return queue.enqueue('support.jobs.send_gif_email', email=email, thought=thought).id"),
        create("job = queue.enqueue(send_gif_email, args=(email, thought))", "return str(job.id)"),
    ],
)


# --- Question 18: retries that back off, and a timeout -------------------------------------------------------------


def welcome(call: str = 'send_gif_email, email, "Welcome!"', retry: str = "retry=Retry(max=3, interval=[10, 30, 90])",
            timeout: str = "job_timeout=30", on: str = "queue", then: str = "") -> str:  # fmt: skip
    return (
        f"def send_welcome(queue, email):\n    job = {on}.enqueue({call}, {retry}, {timeout})\n    return job{then}\n"
    )


Q18 = Table(
    q18,
    submitter(q18, "send_welcome"),
    setup=up,
    requirements=[
        Requirement(
            'queue exactly one job, `send_gif_email(email, "Welcome!")`, on the `queue` it is given',
            welcome(on="__import__('rq').Queue('default', connection=queue.connection)"),
            "queue exactly one job, on the queue it is given",
        ),
        Requirement(
            'queue exactly one job, `send_gif_email(email, "Welcome!")`, on the `queue` it is given',
            welcome().replace("    job = ", "    queue.enqueue(send_gif_email, email, 'Welcome!')\n    job = ", 1),
            "queue exactly one job, on the queue it is given",
        ),
        Requirement(
            'queue exactly one job, `send_gif_email(email, "Welcome!")`, on the `queue` it is given',
            welcome('send_gif_email, email, "Welcome"'),
            """send_gif_email(email, "Welcome!")""",
        ),
        Requirement(
            'queue exactly one job, `send_gif_email(email, "Welcome!")`, on the `queue` it is given',
            welcome('send_gif_email, "new-user@example.com", "Welcome!"'),
            """send_gif_email(email, "Welcome!")""",
        ),
        Requirement("give it 3 retries", welcome(retry="retry=Retry(max=2, interval=[10, 30])"), "give it 3 retries"),
        Requirement(
            "make them back off: each wait before a retry longer than the one before",
            welcome(retry="retry=Retry(max=3, interval=30)"),
            "make them back off",
        ),
        Requirement(
            "make them back off: each wait before a retry longer than the one before",
            welcome(retry="retry=Retry(max=3, interval=[90, 30, 10])"),
            "each wait before a retry longer than the one before",
        ),
        Requirement(
            "the first longer than 0 s",
            welcome(retry="retry=Retry(max=3, interval=[0, 10, 20])"),
            "the first longer than 0 s",
        ),
        Requirement("give it a timeout of 30 seconds", welcome(timeout="result_ttl=30"), "a timeout of 30 seconds"),
        Requirement(
            "give it a timeout of 30 seconds", welcome(timeout="job_timeout=30_000"), "a timeout of 30 seconds"
        ),
        Requirement("give it a timeout of 30 seconds", welcome(timeout="timeout=30"), "a timeout of 30 seconds"),
        Requirement(
            "return the job that `enqueue` gives back", welcome(then=".id"), "return the job that enqueue gives back"
        ),
    ],
    right=[
        'def send_welcome(queue, email):\n    return queue.enqueue(send_gif_email, email, thought="Welcome!",\n'
        '                         retry=Retry(max=3, interval=[1, 5, 25]), job_timeout="30s")',
        "def send_welcome(queue, email):\n    backoff = Retry(3, [2, 4, 8])\n    return queue.enqueue_call(\n"
        '        "support.jobs.send_gif_email", args=[email, "Welcome!"], timeout=30, retry=backoff\n    )',
    ],
    equivalent={
        mutant: "the waits still grow from a first above 0 s, which is all the text asks of them"
        for mutant in (
            "L3 Constant 10->11",
            "L3 Constant 10->9",
            "L3 Constant 30->31 #2",
            "L3 Constant 30->29 #2",
            "L3 Constant 90->91",
            "L3 Constant 90->89",
        )
    },
)


# --- Question 19: requeue what a connection error failed -------------------------------------------------------------


def requeue(*body: str) -> str:
    return "def requeue_connection_errors(queue):\n" + "".join(f"    {line}\n" for line in body)


FAILED = "ids = queue.failed_job_registry.get_job_ids()"
IS_CONNECTION = (
    "def is_connection(job_id, q=None):\n"
    "        result = Job.fetch(job_id, connection=queue.connection).latest_result()\n"
    "        return result.exc_string.strip().splitlines()[-1].startswith('ConnectionError')"
)
Q19 = Table(
    q19,
    submitter(q19, "requeue_connection_errors"),
    setup=up,
    requirements=[
        Requirement(
            "move every failed job of `queue` whose exception is a `ConnectionError` back onto `queue`",
            requeue(
                FAILED,
                IS_CONNECTION,
                "picked = [i for i in ids if is_connection(i)]",
                "if picked:",
                "    queue.failed_job_registry.requeue(picked[0])",
                "return len(picked)",
            ),
            "move every failed job of queue whose exception is a ConnectionError back onto queue",
        ),
        Requirement(
            "move every failed job of `queue` whose exception is a `ConnectionError` back onto `queue`",
            requeue(
                FAILED,
                IS_CONNECTION,
                "picked = [i for i in ids if is_connection(i)]",
                "for i in picked:",
                "    queue.enqueue_job(Job.fetch(i, connection=queue.connection))",
                "return len(picked)",
            ),
            "move them back onto queue, out of the registry",
        ),
        Requirement(
            "leave the queue's other failed jobs in its failed registry",
            requeue(
                FAILED,
                IS_CONNECTION,
                "for i in ids:",
                "    queue.failed_job_registry.requeue(i)",
                "return len([i for i in ids if is_connection(i)])",
            ),
            "leave the queue's other failed jobs in its failed registry",
        ),
        Requirement(
            "touch no failed job of another queue",
            requeue(
                "from rq import Queue",
                "count = 0",
                "for q in Queue.all(connection=queue.connection):",
                "    for i in q.failed_job_registry.get_job_ids():",
                "        result = Job.fetch(i, connection=q.connection).latest_result()",
                "        if 'ConnectionError' in result.exc_string:",
                "            q.failed_job_registry.requeue(i)",
                "            count += q.name == queue.name",
                "return count",
            ),
            "touch no failed job of another queue",
        ),
        Requirement(
            "return how many jobs it requeued",
            requeue(
                FAILED,
                IS_CONNECTION,
                "for i in [i for i in ids if is_connection(i)]:",
                "    queue.failed_job_registry.requeue(i)",
                "return 2",
            ),
            "return how many jobs it requeued (1 there)",
        ),
    ],
    right=[
        requeue(
            "registry = queue.failed_job_registry",
            "picked = [job for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection)",
            "          if job is not None and 'ConnectionError' in (job.exc_info or '')]",
            "for job in picked:",
            "    job.requeue()",
            "return len(picked)",
        ),
        requeue(
            "from rq.job import requeue_job",
            "count = 0",
            "for job_id in queue.failed_job_registry.get_job_ids():",
            "    result = Job.fetch(job_id, connection=queue.connection).latest_result()",
            "    exception = result.exc_string.strip().splitlines()[-1].split(':')[0] if result else ''",
            "    if exception == 'ConnectionError':",
            "        requeue_job(job_id, connection=queue.connection)",
            "        count += 1",
            "return count",
        ),
    ],
    equivalent={
        mutant: (
            "the else branch is never taken: every job in an RQ 3.0 failed registry has a failure result with its "
            "traceback (a raise, a timeout, or 'Moved to FailedJobRegistry, due to AbandonedJobError')"
        )
        for mutant in ("L7 BoolOp And->Or", "L7 Constant ''->'x'", "L7 Constant ''->None")
    },
)


# --- Question 20: a job a worker can import -------------------------------------------------------------------------

REFERENCE_GREET = 'def greet(name, greeting):\n    return f"{greeting}, {name}!"\n'


def submit_greetings(source: str) -> Result:
    """Run the answer cell as the notebook does: ``%%writefile <path>`` writes the rest of the cell into that path
    (a plain source goes into greetings.py) in a notebook folder of its own; then the check, given greetings.py."""
    first, _, rest = source.partition("\n")
    path, body = (
        (first.split(None, 1)[1].strip(), rest) if first.startswith("%%writefile") else ("greetings.py", source)
    )
    folder = Path(tempfile.mkdtemp(prefix="quiz20-", dir=state.home()))
    try:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(body, encoding="utf-8")
        result = q20.check(str(folder / "greetings.py"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        sys.modules.pop("greetings", None)
    return result


Q20 = Table(
    q20,
    submit_greetings,
    setup=up,
    reference=REFERENCE_GREET,
    requirements=[
        Requirement(
            "define `greet` in `greetings.py`",
            "def hello(name, greeting):\n    return f'{greeting}, {name}!'\n",
            "define greet in greetings.py",
        ),
        Requirement(
            "define `greet` in `greetings.py`, beside this notebook",
            "%%writefile jobs/greetings.py\n" + REFERENCE_GREET,
            "beside this notebook",
        ),
        Requirement(
            "take the greeting as an argument, `greet(name, greeting)`",
            "def greet(name):\n    return f'Welcome, {name}!'\n",
            "greet should take two arguments: (name, greeting)",
        ),
        Requirement(
            "take the greeting as an argument, `greet(name, greeting)`: a worker sees no variable of this notebook",
            'greeting = "Welcome"\n\n\ndef greet(name, greeting_=None):\n    return f"{greeting}, {name}!"\n',
            "take the greeting as an argument, greet(name, greeting)",
        ),
        Requirement(
            "return the greeting, a comma and a space, the name and `!`",
            "def greet(name, greeting):\n    return f'{greeting} {name}'\n",
            "return the greeting, a comma and a space, the name and '!'",
        ),
        Requirement(
            "return the greeting, a comma and a space, the name and `!`",
            "def greet(name, greeting):\n    return 1 / 0\n",
            "the job failed: ZeroDivisionError: division by zero",
        ),
    ],
    right=[
        "%%writefile greetings.py\ndef greet(name, greeting):\n    return greeting + ', ' + name + '!'\n",
        '"""Greetings, as jobs."""\n\n\ndef greet(name, greeting="Hello"):\n'
        '    return "{}, {}!".format(greeting, name)\n',
    ],
)


def test_greetings_that_read_the_notebooks_variable_fail_in_the_worker(
    redis_up: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules["__main__"], "greeting", "Welcome", raising=False)  # the notebook's variable
    path = tmp_path / "greetings.py"
    path.write_text(
        'from __main__ import greeting\n\n\ndef greet(name, greeting_):\n    return f"{greeting}, {name}!"\n'
    )
    result = q20.check(str(path))
    assert result.kind == "incorrect"
    for phrase in ("The worker could not import greetings.greet (ValueError: Invalid attribute name: greetings.greet)",
                   "raises ImportError", "sees no variable of this notebook"):  # fmt: skip
        assert phrase in result.message, result.message


def test_greetings_blank_is_not_attempted(redis_up: Path, tmp_path: Path) -> None:
    blank = tmp_path / "greetings.py"
    blank.write_text("from support.exercises import ____\n\n\ndef greet(name, greeting):\n    ____\n")
    assert q20.check(str(blank)).kind == "not_attempted"


TABLES = [Q17, Q18, Q19, Q20]


@pytest.mark.slow
@pytest.mark.parametrize("table", [Q17, Q19], ids=lambda t: t.name)
def test_a_check_leaves_nothing_in_redis(redis_up: Path, table: Table) -> None:
    """Its scratch queues, their registries and jobs (Question 19's failed by a worker), and the jobs the learner's
    code queued elsewhere (Question 17's, as Question 18's): all gone. Question 20's queue is a scratch queue too."""
    table.submit(table.requirements[4].wrong if table is Q17 else table.reference_source)  # Q17's: one on default too
    assert quiz_keys() == [] and job_keys() == []


test_requirements_table = table_test(TABLES)
