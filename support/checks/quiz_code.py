"""The code questions of 07_check_for_understanding (17 to 20): the learner writes a short function, and the check
runs it against the course's real Redis, on queues of its own that no course worker listens to (the plumbing:
``_quiz_code_runs``).

- Question 17: fix a controller that sends the email inside the request *and* queues the job (two emails).
- Question 18: queue a job with 3 retries that back off and a 30-second timeout; the check reads back what RQ
  stored for the job.
- Question 19: move a queue's failed jobs back onto it when their exception is a ConnectionError; the check makes
  real failed jobs first, run by a real ``rq worker --burst``.
- Question 20: a job written as a module file a worker imports, its data as arguments; a real ``rq worker --burst``
  runs it from the notebook's folder.

Each check deletes its queues, their registries and jobs again, however it ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rq import Queue
from rq.job import Job

from ..exercises import (
    Exercise,
    Incorrect,
    NotAttempted,
    call,
    describe,
    is_placeholder,
    load_module_from,
    require_function,
)
from ..rq_helpers import recovery
from ..workit import mailer
from ._check_trouble import redis_needed
from ._quiz_code_runs import call_shown, check_requeue, jobs_made, jobs_on, run_as_jobs, scratch_queues, send_arguments

SEND = "support.jobs.send_gif_email"


# --- Question 17: a controller that sends twice ---------------------------------------------------------------

PROBES = (("reader@example.com", "Two emails for one thought?"), ("writer@example.com", "One form, one job"))


@redis_needed
def _check_controller(create: Any) -> str:
    require_function(create, "create", ("queue", "email", "thought"))
    for email, thought in PROBES:  # two forms: a constant address or thought cannot pass both
        sent: list[tuple[Any, ...]] = []

        def record(*args: Any, sent: list[tuple[Any, ...]] = sent) -> str:  # deliver, in the check's thread only
            sent.append(args)
            return "<recorded>"

        with scratch_queues("controller") as (q,), mailer.stand_in(record), jobs_made(SEND, email) as elsewhere:
            returned = call(create, q, email, thought)
            queued = jobs_on(q)
        if sent:
            raise Incorrect(
                f"Your create() sent {len(sent)} email(s) itself, inside the request: the user waits for the mail "
                "server, and the worker sends the same email again. Send no email itself, inside the request: only "
                "queue the job."
            )
        others = [job for job in elsewhere if job.id not in {j.id for j in queued}]
        if len(queued) != 1 or others:
            shown = ", ".join(call_shown(j) for j in queued) or "nothing"
            besides = f", and {len(others)} more on {', '.join(sorted({j.origin for j in others}))}" if others else ""
            raise Incorrect(
                f"Your create() queued {len(queued)} job(s) ({shown}) on the queue it was given{besides}: queue "
                "exactly one job per form, on the queue it is given."
            )
        (job,) = queued
        if job.func_name != SEND or send_arguments(job) != {"email": email, "thought": thought}:
            raise Incorrect(
                f"Your create() queued {call_shown(job)} for the form ({email!r}, {thought!r}): queue "
                f"send_gif_email(email, thought) with the email and the thought it was given, "
                f"{SEND}({email!r}, {thought!r})."
            )
        if returned != job.id:
            raise Incorrect(
                f"Your create() queued the right job but returned {describe(returned)}: return that job's id (a "
                "str), for the page to link to."
            )
    return (
        f"Two forms, one job each ({call_shown(job)} the second time), no email sent in the request, and each job's "
        "id returned."
    )


q17 = Exercise(
    "Question 17",
    _check_controller,
    title="A controller that sends twice",
    hints=[
        "Count the emails one form makes with this controller: one in the request, and one more from the worker.",
        "queue.enqueue(...) returns the Job; its .id is what the page needs.",
    ],
    solution="""def create(queue, email, thought):
    job = queue.enqueue(send_gif_email, email, thought)  # the worker sends it: nothing is sent here
    return job.id""",
)


# --- Question 18: retries that back off, and a timeout ------------------------------------------------------------

TIMEOUT = 30
RETRIES = 3


WELCOMED = ("new-user@example.com", "second-user@example.com")  # two calls: a constant address cannot pass both


def _kwargs_said(job: Job) -> str:
    """What timeout= means when enqueue passed it on to the function instead of taking it as RQ's own option."""
    if "timeout" not in job.kwargs:
        return ""
    return (
        f" (enqueue hands timeout= to send_gif_email itself: give it a timeout of {TIMEOUT} seconds with RQ's own "
        f"job_timeout={TIMEOUT})"
    )


@redis_needed
def _check_enqueue(send_welcome: Any) -> str:
    require_function(send_welcome, "send_welcome", ("queue", "email"))
    for email in WELCOMED:
        with scratch_queues("retries") as (q,), jobs_made(SEND, email) as elsewhere:
            returned = call(send_welcome, q, email)
            queued = jobs_on(q)
        others = [job for job in elsewhere if job.id not in {j.id for j in queued}]
        if len(queued) != 1 or others:
            shown = ", ".join(call_shown(j) for j in queued) or "nothing"
            besides = f", and {len(others)} more on {', '.join(sorted({j.origin for j in others}))}" if others else ""
            raise Incorrect(
                f"send_welcome(queue, {email!r}) queued {len(queued)} job(s) on the queue it was given ({shown})"
                f"{besides}: queue exactly one job, on the queue it is given."
            )
        (job,) = queued
        pauses = recovery.retry_intervals(job)
        if job.func_name != SEND or send_arguments(job) != {"email": email, "thought": "Welcome!"}:
            raise Incorrect(
                f"send_welcome(queue, {email!r}) queued {call_shown(job)}{_kwargs_said(job)}: queue exactly one "
                f"job, send_gif_email(email, \"Welcome!\"): {SEND}({email!r}, 'Welcome!')."
            )
        if len(pauses) != RETRIES:
            raise Incorrect(
                f"RQ stored retries_left={job.retries_left or 0} for the job: give it {RETRIES} retries, "
                f"retry=Retry(max={RETRIES}, interval=[...])."
            )
        if min(pauses) <= 0 or any(later <= earlier for earlier, later in zip(pauses, pauses[1:])):
            raise Incorrect(
                f"RQ would wait {', '.join(f'{p} s' for p in pauses)} before the retries: that is no backoff. Make "
                "them back off: each wait before a retry longer than the one before, the first longer than 0 s "
                "(give Retry a list of growing intervals, one per retry)."
            )
        if job.timeout != TIMEOUT:
            default = " (the queue default, when enqueue is given none)" if job.timeout == Queue.DEFAULT_TIMEOUT else ""
            raise Incorrect(
                f"RQ stored a timeout of {job.timeout} s for the job{default}: give it a timeout of {TIMEOUT} "
                f"seconds, job_timeout={TIMEOUT}."
            )
        if not isinstance(returned, Job) or returned.id != job.id:
            raise Incorrect(
                f"send_welcome returned {describe(returned)}: return the job that enqueue gives back (the Job)."
            )
    return (
        f"Two calls, one job each: RQ stored {RETRIES} retries after waits of {', '.join(f'{p} s' for p in pauses)} "
        f"and a timeout of {TIMEOUT} s."
    )


q18 = Exercise(
    "Question 18",
    _check_enqueue,
    title="Retries that back off, and a timeout",
    hints=[
        "enqueue takes RQ's own keyword arguments besides the job's: retry=Retry(...) and job_timeout=...",
        "Retry(max=3, interval=[a, b, c]) waits a, then b, then c seconds: make each longer than the last.",
    ],
    solution="""def send_welcome(queue, email):
    return queue.enqueue(
        send_gif_email, email, "Welcome!", retry=Retry(max=3, interval=[10, 30, 90]), job_timeout=30
    )""",
)


# --- Question 19: requeue what a connection error failed ---------------------------------------------------------


q19 = Exercise(
    "Question 19",
    redis_needed(check_requeue),
    title="Requeue what a connection error failed",
    hints=[
        "queue.failed_job_registry.get_job_ids() lists the failed jobs; Job.fetch(job_id, connection=queue.connection) "
        "loads one.",
        "job.latest_result().exc_string is the traceback as text: its last line is the exception, as "
        "'ConnectionError: the payment service did not answer ...'.",
        "queue.failed_job_registry.requeue(job) puts one back on its queue.",
    ],
    solution="""def requeue_connection_errors(queue):
    registry = queue.failed_job_registry
    count = 0
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection)
        result = job.latest_result()
        last_line = result.exc_string.strip().splitlines()[-1] if result and result.exc_string else ""
        if last_line.startswith("ConnectionError"):
            registry.requeue(job)
            count += 1
    return count""",
)


# --- Question 20: a job a worker can import ---------------------------------------------------------------------

GREETINGS = [("Ada", "Welcome"), ("Grace", "Good morning")]  # (name, greeting): each run as a job


@redis_needed
def _check_greetings(path: Any) -> str:
    if is_placeholder(path):
        raise NotAttempted()
    file = Path(path).resolve()
    if not file.exists():
        raise Incorrect(
            f"There is no file {file.name} beside this notebook ({file.parent}): define greet in greetings.py, "
            "beside this notebook, with %%writefile greetings.py as the first line of its cell, and run that cell."
        )
    module = load_module_from(file)  # NotAttempted with a ____ left; Incorrect when missing or it does not import
    if is_placeholder(module):
        raise NotAttempted(f"{file.name} still has a ____ in it: fill it in, then run its cell again.")
    greet = getattr(module, "greet", None)
    if greet is None:
        raise Incorrect(
            f"{file.name} has no function greet: define greet in {file.name}; the worker looks it up by that name, "
            f"{file.stem}.greet."
        )
    require_function(greet, "greet", ("name", "greeting"))
    outcomes = run_as_jobs(file, "greet", GREETINGS)
    for (name, greeting), (status, _, error) in zip(GREETINGS, outcomes):
        if status != "finished" and error.startswith("ValueError: Invalid attribute name"):
            raise Incorrect(
                f"The worker could not import {file.stem}.greet ({error}): RQ says so when importing {file.name} "
                "in the worker's process raises ImportError. A worker sees no variable of this notebook (its "
                "__main__ is not your notebook): take the greeting as an argument, greet(name, greeting)."
            )
        if status != "finished":
            raise Incorrect(
                f"The worker ran greet({name!r}, {greeting!r}) from {file.name} and the job {status}"
                f"{': ' + error if error else ''}. Run greet({name!r}, {greeting!r}) in a cell to see why."
            )
    values = [value for _, value, _ in outcomes]
    wanted = [f"{greeting}, {name}!" for name, greeting in GREETINGS]
    if any(not (isinstance(v, str) and greeting in v) for v, (_, greeting) in zip(values, GREETINGS)):
        raise Incorrect(
            f"The worker's jobs, given the greetings {GREETINGS[0][1]!r} and {GREETINGS[1][1]!r}, returned "
            f"{describe(values[0])} and {describe(values[1])}: greet did not use the greeting it was given. Take "
            "the greeting as an argument, greet(name, greeting), and use it: a worker sees no variable of this "
            "notebook."
        )
    for (name, greeting), value, right in zip(GREETINGS, values, wanted):
        if value != right:
            raise Incorrect(
                f"The worker ran greet({name!r}, {greeting!r}) and it returned {describe(value)}: return the "
                f"greeting, a comma and a space, the name and '!': {right!r}."
            )
    return f"A worker imported {file.stem}.greet from {file.name} and returned {values[0]!r} and {values[1]!r}."


q20 = Exercise(
    "Question 20",
    _check_greetings,
    title="A job a worker can import",
    hints=[
        "%%writefile greetings.py at the top of the cell writes the cell into that file: a module the worker imports.",
        "The worker runs in another process: give greet the greeting as its second argument.",
    ],
    solution='''%%writefile greetings.py
def greet(name, greeting):
    return f"{greeting}, {name}!"''',
)

QUESTIONS: list[Exercise] = [q17, q18, q19, q20]
