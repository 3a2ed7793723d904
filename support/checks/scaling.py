"""Exercises of 06_scaling_and_scheduling: schedule a reminder, predict who runs which job across two workers and
three queues (run for real), choose a worker class."""

from __future__ import annotations

import inspect
import math
from datetime import datetime, timedelta
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from .. import jobs
from ..exercises import Choice, Exercise, Incorrect, describe
from ..lessons import scaling
from ..rq_helpers import queues
from ._check_trouble import redis_needed
from ._scaling_scenario import LABELS, WORKERS, run_scenario

# --- Exercise 1: schedule the reminder ---------------------------------------------------------------------------

REMINDER_TO = "you@example.com"
REMINDER_THOUGHT = "Time to stretch"
REMINDER_FUNC = "support.jobs.send_gif_email"
DELAY_SECONDS = 2
# enqueue_in(timedelta(seconds=2)) reads the clock (r), creates the job (created_at, c: 0.2 ms later at most, measured
# on a busy machine) and files it due at floor(r + 2): floor(c) + 2, or floor(c) + 1 when the second turned between r
# and c, which counts only in the first CLOCK_SLACK of a second (an answer of 1 s passes in 0.3 % of the runs).
CLOCK_SLACK = 0.003
TOGETHER = 1.0  # reminders created less than this apart came from one run of the cell: it scheduled more than one


def schedule_reference() -> Job:
    """What the reference solution does: the reminder, 2 s from now, on the mailers queue."""
    return queues.queue("mailers").enqueue_in(
        timedelta(seconds=2), jobs.send_gif_email, REMINDER_TO, REMINDER_THOUGHT, 0
    )


def _seconds_asked(created: datetime, due: datetime) -> int | None:
    """The whole seconds after `created` that a job due at `due` was scheduled for (see DELAY_SECONDS' note), or
    None when it is due DELAY_SECONDS after its creation."""
    whole = math.floor(created.timestamp())
    ahead = round(due.timestamp()) - whole
    if ahead == DELAY_SECONDS or (ahead == DELAY_SECONDS - 1 and created.timestamp() - whole < CLOCK_SLACK):
        return None
    return ahead


def _arguments(job: Job) -> dict[str, Any]:
    """send_gif_email's arguments in the job, by name, given by position or keyword alike ({} when they do not fit)."""
    try:
        return dict(inspect.signature(jobs.send_gif_email).bind(*job.args, **job.kwargs).arguments)
    except TypeError:
        return {}


def _other_reminders(job: Job) -> list[Job]:
    """Reminders to the same address waiting beside `job`, created within TOGETHER seconds of it (by one run)."""
    registry = ScheduledJobRegistry("mailers", connection=job.connection)
    ids = [i for i in registry.get_job_ids() if i != job.id]
    return [
        other
        for other in Job.fetch_many(ids, connection=job.connection)
        if other is not None
        and other.func_name == REMINDER_FUNC
        and _arguments(other).get("email") == _arguments(job).get("email")
        and abs(scaling.seconds_between(job.created_at, other.created_at)) < TOGETHER
    ]


@redis_needed
def check_schedule(job: Any) -> str:
    if not isinstance(job, Job):
        raise Incorrect(
            f"reminder is {describe(job)}: keep the job in reminder, the Job that enqueue_in returns "
            "(reminder = mailers.enqueue_in(...))."
        )
    try:  # what Redis has, not what this kernel's object says
        job = Job.fetch(job.id, connection=job.connection)
    except NoSuchJobError:
        raise Incorrect(
            "Redis has no such job: reminder was never scheduled (a Job made by hand is not saved). "
            "Schedule it with mailers.enqueue_in(...)."
        ) from None
    if job.func_name != REMINDER_FUNC:
        raise Incorrect(f"That job runs {job.func_name}; the reminder is an email: schedule send_gif_email.")
    given = _arguments(job)
    if "email" not in given or "thought" not in given:
        raise Incorrect(
            f"Your job calls send_gif_email with {describe(job.args)} and {describe(job.kwargs)}: it takes the email "
            "address, the thought and a delay."
        )
    email, thought, delay = given["email"], given["thought"], given.get("delay")
    if str(email).strip().lower() != REMINDER_TO:
        raise Incorrect(f"Your reminder goes to {describe(email)}; the exercise sends it to {REMINDER_TO}.")
    if thought != REMINDER_THOUGHT:
        raise Incorrect(
            f"Your reminder's thought is {describe(thought)}; the exercise asks for the thought {REMINDER_THOUGHT!r}."
        )
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay != 0:
        passed = "no delay, so the mailer takes its slow default" if delay is None else f"a delay of {describe(delay)}"
        raise Incorrect(
            f"Your reminder passes {passed}; the exercise asks for a delay of 0: the scheduler already does the "
            "waiting."
        )
    if job.origin != "mailers":
        raise Incorrect(
            f"You scheduled it on the {job.origin!r} queue; the reminder is an email: schedule it on the mailers "
            "queue (the mailers object)."
        )
    status = job.get_status()
    due = scaling.scheduled_time(job)
    if due is not None:
        asked = _seconds_asked(job.created_at, due)
        if asked is not None:
            raise Incorrect(
                f"It waits in the ScheduledJobRegistry of mailers, but due {asked} s after you created it; the "
                "reminder should be due 2 seconds from now: timedelta(seconds=2)."
            )
        others = _other_reminders(job)
        if others:
            raise Incorrect(
                f"Your cell scheduled {len(others) + 1} reminders to {REMINDER_TO} at once (they wait together in "
                "the ScheduledJobRegistry of mailers): schedule one job, and the scheduler sends one email."
            )
        return "The reminder waits in the ScheduledJobRegistry of mailers, due 2 seconds after you created it."
    job.refresh()  # a scheduler may have moved it onto the queue since the fetch: read its enqueued_at now
    status = job.get_status()
    if status == JobStatus.DEFERRED:
        raise Incorrect("That job is deferred (it waits for another job to finish), not scheduled at a time.")
    waited = scaling.seconds_between(job.created_at, job.enqueued_at) if job.enqueued_at else 0.0
    if waited < DELAY_SECONDS - 1 - CLOCK_SLACK:
        raise Incorrect(
            f"That job went straight onto the mailers queue (status {getattr(status, 'value', status)}): "
            "enqueue() hands it to the next free worker at once, and it will not wait. Schedule it 2 seconds from "
            "now with enqueue_in(timedelta(seconds=2), ...), so that it waits in the ScheduledJobRegistry first."
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

# --- Exercise 2: predict who runs which job, in which order ------------------------------------------------------


def _labels(value: Any, worker: str) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise Incorrect(f"prediction[{worker!r}] is {describe(value)}: give a list of job names, like ['u1', 'd1'].")
    return [str(label).strip().lower() for label in value]


def _shown(ran: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} ran {', '.join(labels) or 'nothing'}" for name, labels in ran.items())


@redis_needed
def check_order(prediction: Any, ran: dict[str, list[str]] | None = None) -> str:
    """Compare `prediction` (worker -> the jobs it runs, in order) with a real run (`ran`, else ``run_scenario()``),
    requirement by requirement: the keys, every job once, each job under its worker, each worker's order."""
    if not isinstance(prediction, dict):
        raise Incorrect(
            f"prediction is {describe(prediction)}: make it a dict from worker to list, {{'A': [...], 'B': [...]}}."
        )
    keys = {str(key).strip().upper(): key for key in prediction}
    if set(keys) != set(WORKERS):
        raise Incorrect(
            f"prediction has the keys {sorted(map(str, prediction))}: give one list for each worker, A and B."
        )
    said = {name: _labels(prediction[keys[name]], name) for name in WORKERS}
    listed = [label for labels in said.values() for label in labels]
    twice = sorted({label for label in listed if listed.count(label) > 1})
    if twice:  # judged before the run: no run makes a job run twice
        raise Incorrect(
            f"You listed {', '.join(twice)} more than once: every job that runs is in exactly one list (each "
            "job runs once, on one worker)."
        )
    unknown = sorted(set(listed) - set(LABELS))
    if unknown:  # judged before the run: a job no one queues cannot run
        raise Incorrect(
            f"No job called {', '.join(unknown)} ran: list the jobs that run, and only those. The jobs: "
            f"{', '.join(sorted(LABELS))}."
        )
    ran = ran or run_scenario()
    actual = {label: name for name, labels in ran.items() for label in labels}
    unknown = sorted(set(listed) - set(actual))
    if unknown:
        raise Incorrect(
            f"No job called {', '.join(unknown)} ran: list the jobs that run, and only those. The real run: "
            f"{_shown(ran)}."
        )
    missing = sorted(set(actual) - set(listed))
    if missing:
        why = " (d1 queued u2 on urgent while it ran: a job that queues a job)" if "u2" in missing else ""
        raise Incorrect(
            f"You left out {', '.join(missing)}, which ran too{why}: every job that runs is in exactly one list. "
            f"The real run: {_shown(ran)}."
        )
    for name, labels in said.items():
        for label in labels:
            if actual[label] != name:
                raise Incorrect(
                    f"You put {label} under {name}, but worker {actual[label]} ran it: worker {name} takes jobs "
                    f"only from {' and '.join(WORKERS[name])}, and each job goes in the list of the worker that "
                    f"runs it. The real run: {_shown(ran)}."
                )
    for name, labels in said.items():
        if labels != ran[name]:
            raise Incorrect(
                f"Worker {name} ran {', '.join(ran[name])}, in that order; you said {', '.join(labels)}: list the jobs "
                f"in the order it starts them. Between "
                f"two jobs a worker asks its queues in its order ({', '.join(WORKERS[name])}) and takes the first "
                "job it finds: an urgent job that arrives while a default job runs waits for that job, then goes "
                "before the default jobs still queued."
            )
    return f"Real workers agree: {_shown(ran)}."


ex_order = Exercise(
    "Exercise 2",
    check_order,
    title="Who runs which job, and when",
    hints=[
        "Worker A never sees the mailers queue, and worker B sees nothing else.",
        "A starts with the first job it finds asking urgent first: u1. Then the queue order is asked again "
        "before every job.",
        "u2 only exists once d1 has run. After d1, A asks urgent first again.",
    ],
    solution='prediction = {"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m1", "m2"]}',
    reference={"A": ["u1", "d1", "u2", "d2", "d3"], "B": ["m1", "m2"]},
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
