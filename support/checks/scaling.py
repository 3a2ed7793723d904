"""Exercises of 06_scaling_and_scheduling: schedule a reminder, predict a wall time, choose a worker class."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from rq.job import Job, JobStatus

from .. import jobs
from ..exercises import Choice, Exercise, Incorrect, call, describe, require_function
from ..lessons import scaling
from ..rq_helpers import queues

# --- Exercise 1: schedule the reminder ---------------------------------------------------------------------------

REMINDER_TO = "you@example.com"
REMINDER_THOUGHT = "Time to stretch"
REMINDER_FUNC = "support.jobs.send_gif_email"
DELAY_SECONDS = 2
# RQ keeps a due time in whole seconds (rounded down), so "2 s from now" is due between 1 and 2 s after the job
# was created. Seen from created_at, enqueue_in(timedelta(seconds=d)) is due in (d - 1, d] seconds.


def schedule_reference() -> Job:
    """What the reference solution does: the reminder, 2 s from now, on the mailers queue."""
    return queues.queue("mailers").enqueue_in(
        timedelta(seconds=2), jobs.send_gif_email, REMINDER_TO, REMINDER_THOUGHT, 0
    )


def check_schedule(job: Any) -> str:
    if not isinstance(job, Job):
        raise Incorrect(
            f"reminder is {describe(job)}; it should be the job that enqueue_in returns: "
            "reminder = mailers.enqueue_in(...)."
        )
    if job.func_name != REMINDER_FUNC:
        raise Incorrect(f"That job runs {job.func_name}; the reminder is an email: schedule send_gif_email.")
    if len(job.args) < 2:
        raise Incorrect(
            f"send_gif_email needs the email address and the thought; your job passes {len(job.args)} argument(s)."
        )
    email, thought, *rest = job.args
    if str(email).strip().lower() != REMINDER_TO:
        raise Incorrect(f"Your reminder goes to {describe(email)}; the exercise sends it to {REMINDER_TO}.")
    if thought != REMINDER_THOUGHT:
        raise Incorrect(f"Your reminder's thought is {describe(thought)}; the exercise asks for {REMINDER_THOUGHT!r}.")
    delay = rest[0] if rest else job.kwargs.get("delay")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay != 0:
        given = "no delay, so the mailer takes its slow default" if delay is None else f"a delay of {describe(delay)}"
        raise Incorrect(
            f"Your reminder passes {given}; the exercise asks for a delay of 0: the scheduler already does the waiting."
        )
    if job.origin != "mailers":
        raise Incorrect(
            f"You scheduled it on the {job.origin!r} queue; the reminder is an email, so it belongs on "
            "mailers (use the mailers queue object)."
        )
    status = job.get_status()
    due = scaling.scheduled_time(job)
    if due is not None:
        delay = scaling.seconds_between(job.created_at, due)
        asked = math.ceil(delay - 1e-7)  # the whole number of seconds the learner asked for
        # (the 10 ms of slack cover the moment between enqueue_in reading the clock and the job being created)
        if not DELAY_SECONDS - 1 - 0.01 < delay <= DELAY_SECONDS + 0.01:
            raise Incorrect(
                f"It waits in the ScheduledJobRegistry of mailers, but due about {asked} s after you "
                "created it; the reminder should be due 2 s after: timedelta(seconds=2)."
            )
        return "The reminder waits in the ScheduledJobRegistry of mailers, due 2 s after you created it."
    if status == JobStatus.DEFERRED:
        raise Incorrect("That job is deferred (it waits for another job to finish), not scheduled at a time.")
    waited = scaling.seconds_between(job.created_at, job.enqueued_at) if job.enqueued_at else 0.0
    if waited < 0.9:
        raise Incorrect(
            f"That job went straight onto the mailers queue (status {getattr(status, 'value', status)}): "
            "enqueue() hands it to the next free worker at once. Use enqueue_in(timedelta(seconds=2), "
            "...) so that it waits in the ScheduledJobRegistry first."
        )
    return (
        "It was scheduled, and a scheduler has already moved it onto the mailers queue (it is no longer in the "
        "ScheduledJobRegistry)."
    )


ex_schedule = Exercise(
    "Exercise 1",
    check_schedule,
    title="Schedule the reminder 2 s from now on mailers",
    hints=[
        "mailers.enqueue_in(delay, function, *arguments) works like enqueue, with a timedelta first.",
        "The function is send_gif_email; its arguments are the address, the thought and a delay of 0.",
        "reminder = mailers.enqueue_in(timedelta(seconds=2), send_gif_email, ...)",
    ],
    solution=f'reminder = mailers.enqueue_in(timedelta(seconds=2), send_gif_email, "{REMINDER_TO}", '
    f'"{REMINDER_THOUGHT}", 0)',
    fallback=schedule_reference,
)  # a job is not a value to keep in advance: a reference job is scheduled then

# --- Exercise 2: predict the wall time ---------------------------------------------------------------------------

CASES = [(20, 1, 1.0), (20, 2, 1.0), (20, 4, 1.0), (20, 3, 1.0), (5, 8, 1.0), (10, 4, 2.0)]


def wall_time_reference(jobs: int, workers: int, seconds_per_job: float) -> float:
    return math.ceil(jobs / workers) * seconds_per_job


def check_wall_time(fn: Any) -> str:
    require_function(fn, "wall_time", ("jobs", "workers", "seconds_per_job"))
    for jobs_, workers_, seconds in CASES:
        got = call(fn, jobs_, workers_, seconds)
        want = wall_time_reference(jobs_, workers_, seconds)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise Incorrect(
                f"wall_time({jobs_}, {workers_}, {seconds:g}) returned {describe(got)}; return a number of seconds."
            )
        if math.isclose(got, want, abs_tol=1e-9):
            continue
        if math.isclose(got, jobs_ / workers_ * seconds, abs_tol=1e-9):
            raise Incorrect(
                f"wall_time({jobs_}, {workers_}, {seconds:g}) returned {got:.3g}; but a job cannot be "
                f"split between workers. {jobs_} jobs on {workers_} workers take "
                f"{math.ceil(jobs_ / workers_)} rounds: round up (math.ceil)."
            )
        raise Incorrect(
            f"wall_time({jobs_}, {workers_}, {seconds:g}) returned {describe(got)}; count the rounds: "
            f"each round, every worker runs one job of {seconds:g} s."
        )
    return "Rounds (jobs / workers, rounded up) times the length of one job: 20 s, 10 s and 5 s for 1, 2, 4 workers."


ex_wall_time = Exercise(
    "Exercise 2",
    check_wall_time,
    title="Predict the wall time",
    hints=[
        "Each worker runs one job at a time. In one round, W workers finish W jobs.",
        "20 jobs on 3 workers: 6 full rounds finish 18 jobs; the last 2 need a 7th round.",
        "return math.ceil(jobs / workers) * seconds_per_job",
    ],
    solution="def wall_time(jobs, workers, seconds_per_job):\n    return math.ceil(jobs / workers) * seconds_per_job",
    reference=wall_time_reference,
)

# --- Exercise 3: which worker class ---------------------------------------------------------------------------------

ex_worker_class = Choice(
    "Exercise 3",
    "Your mail job renders a PDF with a library that leaks memory and, once in a while, crashes the process "
    "(a segfault). Each job takes about 2 s, and you deploy new job code several times a day. Which worker do you run?",
    {
        "a": "SimpleWorker: it is several times faster per job",
        "b": "Worker (the forking one): every job runs in a fresh child process",
        "c": "Either: with 2-second jobs the choice makes no difference",
    },
    "b",
    explanations={
        "a": "SimpleWorker saves milliseconds per job, nothing next to 2 s; and it runs every job in the worker "
        "process itself, so the leak piles up, a segfault kills the worker, and it keeps running old code "
        "until you restart it.",
        "b": "A fork per job costs milliseconds; in return a crash or a leak dies with the child, the worker lives "
        "on, and each child imports the job code afresh.",
        "c": "The speed difference is negligible at 2 s per job, but the isolation is not: with SimpleWorker a "
        "segfault in one job takes the whole worker down and the leak grows from job to job.",
    },
    title="Choose the worker class",
)
