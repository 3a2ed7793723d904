"""Exercises of the operations sections of 09_production_patterns: two cron processes,
the order of a deploy's stop, and a percentile of job durations."""

from __future__ import annotations

import math
from typing import Any

from ..exercises import Choice, Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import metrics

# --- Exercise 4: three servers, three cron processes -----------------------------------------------------------

ex_two_crons = Choice(
    "Exercise 4",
    "Your app runs on 3 servers, and each server starts `rq cron` with the same config: the session clean-up every "
    "60 s. What happens?",
    {
        "a": "RQ elects one of the three through a lock in Redis: the clean-up runs once a minute",
        "b": "Each of the three enqueues it: the clean-up runs 3 times a minute; harmless only because it is "
        "idempotent, and the fix is to run one cron process",
        "c": "The second and third fail to start with DuplicateSchedulerError: the clean-up runs once a minute",
    },
    "b",
    explanations={
        "a": "That lock exists for RQ's scheduler of enqueue_in and retries, one per queue. rq cron takes no lock: "
        "each CronScheduler keeps its own clock and enqueues on it, as the two cron processes above did.",
        "b": "rq cron takes no lock, so every process enqueues on its own clock. A clean-up that deletes what is "
        "expired is safe to run twice; a job that sends a report or charges a card is not: run one cron "
        "process, or make each run idempotent.",
        "c": "DuplicateSchedulerError is raised only when a name is registered twice, and each cron process names "
        "itself after its host, its PID and a random suffix: all three start, and all three enqueue.",
    },
    title="Three servers, three cron processes",
)

# --- Exercise 5: the order of a deploy's stop -------------------------------------------------------------------

STEPS = {
    "a": "send SIGTERM to each old worker process (not to its work horse)",
    "b": "wait until each old worker has exited, up to the longest job's timeout",
    "c": "send SIGKILL to any old worker still running and to its work horse, and deal with its job (requeue it or "
    "let it fail)",
    "d": "send each old worker a second SIGTERM right away, so that it stops at once",
}
DEPLOY_ORDER = ["a", "b", "c"]


def _steps(value: Any) -> list[str]:
    """The letters of the answer: a list or a string such as "a b c" or "a, b, c"."""
    picks = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(picks, (list, tuple)) or not all(isinstance(p, str) for p in picks):
        raise Incorrect(f'You gave {describe(value)}; give the letters in order, like ["a", "b"].')
    picks = [p.strip("() .").lower() for p in picks]
    unknown = [p for p in picks if p not in STEPS]
    if unknown:
        raise Incorrect(f"{', '.join(map(repr, unknown))} is not a step: pick from {', '.join(STEPS)}.")
    if len(set(picks)) != len(picks):
        raise Incorrect("You listed a step twice: each step happens once.")
    return picks


def check_deploy_order(value: Any) -> str:
    picks = _steps(value)
    if "d" in picks:
        raise Incorrect(
            "Step d is a cold shutdown: a second signal (1 s or more after the first) makes the worker "
            "kill its work horse, and the job in flight is left STARTED, half done. Leave d out."
        )
    if "a" not in picks:
        raise Incorrect(
            "Without SIGTERM (step a) the old workers are never asked to stop: they finish no job on "
            "purpose and keep taking new ones."
        )
    if "b" not in picks:
        raise Incorrect(
            "Without waiting (step b) the deploy never gives the job in flight time to finish: "
            "SIGTERM asks the worker to finish it, and that takes as long as the job takes."
        )
    if "c" not in picks:
        raise Incorrect(
            "Without step c nothing bounds the wait but the job itself: a job with no timeout (job_timeout=-1) or a "
            "long one keeps the deploy waiting. After the grace period, SIGKILL what is left and deal with its job."
        )
    if picks.index("c") < picks.index("b"):
        raise Incorrect(
            "SIGKILL before the wait (c before b) kills jobs that were about to finish: wait first, "
            "kill only what is still running after the grace period."
        )
    if picks.index("b") < picks.index("a"):
        raise Incorrect(
            "Waiting before SIGTERM (b before a) waits for nothing: the workers do not know they "
            "should stop, and go on taking jobs. Signal first, then wait."
        )
    return (
        "SIGTERM to the worker process, wait up to the longest job's timeout, then SIGKILL what is left: what "
        "systemd does with KillMode=mixed and TimeoutStopSec (its default, KillMode=control-group, signals the work "
        "horse too, and the job dies at once), and what docker stop and Kubernetes' terminationGracePeriodSeconds do "
        "when rq worker is the container's PID 1 and the grace period is long enough."
    )


ex_deploy_order = Exercise(
    "Exercise 5",
    check_deploy_order,
    title="Stop the old workers in the right order",
    hints=[
        "One of the four steps is what the second signal in the demonstration above did to its job.",
        "Ask (SIGTERM), give them time (wait), and only then force (SIGKILL).",
    ],
    solution='deploy_steps = ["a", "b", "c"]',
    reference=DEPLOY_ORDER,
)

# --- Exercise 6: a percentile --------------------------------------------------------------------------------------

CASES = [  # (values, p, the nearest-rank answer)
    ([0.3, 0.1, 0.2, 0.4], 50, 0.2),
    ([5.0, 1.0, 4.0, 2.0, 3.0], 95, 5.0),
    ([2.0, 9.0, 4.0, 7.0, 1.0, 8.0, 3.0, 10.0, 6.0, 5.0], 90, 9.0),
    ([2.0, 9.0, 4.0, 7.0, 1.0, 8.0, 3.0, 10.0, 6.0, 5.0], 91, 10.0),
    ([0.7], 50, 0.7),
]


def check_percentile(fn: Any) -> str:
    require_function(fn, "percentile", ("values", "p"))
    for values, p, want in CASES:
        given = list(values)
        got = call(fn, given, p)
        if given != values:
            raise Incorrect(
                f"percentile({values}, {p}) changed the list it was given into {given}: sort a copy "
                "(sorted(values)), the caller still needs its list."
            )
        if got == want:
            continue
        if got in values:
            ordered = sorted(values)
            if got == ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)))]:
                raise Incorrect(
                    f"percentile({values}, {p}) gave {describe(got)}, one place too far: the rank is "
                    f"counted from 1, so the value is sorted(values)[rank - 1]; the answer is {want}."
                )
            if got == values[max(1, math.ceil(p / 100 * len(values))) - 1]:
                raise Incorrect(
                    f"percentile({values}, {p}) gave {describe(got)}: the values come in any order; "
                    f"sort them first. The answer is {want}."
                )
        elif isinstance(got, (int, float)) and min(values) <= got <= max(values):
            raise Incorrect(
                f"percentile({values}, {p}) gave {describe(got)}, which is not one of the values "
                f"(an interpolation?). Use the nearest rank: the answer is {want}."
            )
        raise Incorrect(f"percentile({values}, {p}) gave {describe(got)}; the nearest-rank answer is {want}.")
    try:
        empty = call(fn, [], 50)
    except Incorrect as exc:
        raise Incorrect(f"{exc}: with no durations there is no percentile; return None for an empty list.") from None
    if empty is not None:
        raise Incorrect(
            f"percentile([], 50) gave {describe(empty)}: with no durations there is no percentile; return None."
        )
    return "The nearest-rank percentile of values in any order, the list left as it was, and None for no values."


ex_percentile = Exercise(
    "Exercise 6",
    check_percentile,
    title="The percentile of job durations",
    hints=[
        "Sort a copy: ordered = sorted(values). The rank is ceil(p / 100 * n), at least 1.",
        "The answer is ordered[rank - 1] (ranks count from 1, indexes from 0); return None when values is empty.",
    ],
    solution="""\
def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]""",
    reference=metrics.percentile,
)

__all__ = ["ex_two_crons", "ex_deploy_order", "ex_percentile", "STEPS"]
