"""Exercises of ``10_operations``: two cron processes, the order of a deploy's stop, and which alerts fire on a queue
(checked against real states of a scratch queue: a job failed by a real worker, a worker registered on the queue,
a cron job's run recorded as ``rq cron`` records it)."""

from __future__ import annotations

import time
from typing import Any

from rq import Queue, Worker

from .. import ops_jobs
from ..exercises import Choice, Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import metrics
from ._operations_states import fail_one_job, record_cron_run, register_listener, scratch_queues
from ._production_runs import redis_reachable

# --- Exercise 1: three servers, three cron processes -----------------------------------------------------------

ex_two_crons = Choice(
    "Exercise 1",
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

# --- Exercise 2: the order of a deploy's stop -------------------------------------------------------------------

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
    "Exercise 2",
    check_deploy_order,
    title="Stop the old workers in the right order",
    hints=[
        "One of the four steps is what the second signal in the demonstration above did to its job.",
        "Ask (SIGTERM), give them time (wait), and only then force (SIGKILL).",
    ],
    solution='deploy_steps = ["a", "b", "c"]',
    reference=DEPLOY_ORDER,
)

# --- Exercise 3: which alerts fire ---------------------------------------------------------------------------------

ALERTS = {
    "old job": "the job at the head of the queue has waited more than max_wait seconds",
    "new failures": "the queue's failed registry holds more jobs than failed_before",
    "no worker": "no worker listens on the queue (Worker.all(queue=queue))",
    "cron late": "the cron job cron_job last ran more than cron_within seconds ago, or never",
}


def alerts_reference(queue: Queue, failed_before: int, max_wait: float, cron_job: str, cron_within: float) -> set[str]:
    firing = set()
    age = metrics.oldest_age(queue)
    if age is not None and age > max_wait:
        firing.add("old job")
    if queue.failed_job_registry.count > failed_before:
        firing.add("new failures")
    if not Worker.all(queue=queue):
        firing.add("no worker")
    last = metrics.last_cron_run(queue.connection, cron_job)
    if last is None or time.time() - last > cron_within:
        firing.add("cron late")
    return firing


_MISSED = {
    "old job": "a job has waited {age} on the queue, longer than max_wait={max_wait}, and your answer did not report "
    '"old job"',
    "new failures": "the failed registry's count is {failed}, more than failed_before={failed_before}, and your answer "
    'did not report "new failures"',
    "no worker": '{workers}, and your answer did not report "no worker": count only the workers that listen on '
    "this queue (Worker.all(queue=queue))",
    "cron late": '{cron}, and your answer did not report "cron late"',
}
_EXTRA = {
    "old job": 'your answer reported "old job", but {age_text}: report it only when the oldest waiting job is older '
    "than max_wait={max_wait}",
    "new failures": 'your answer reported "new failures", but the failed registry\'s count is {failed} and '
    "failed_before={failed_before}: report only growth since the last reading, not failures that were already there",
    "no worker": 'your answer reported "no worker", but {workers}',
    "cron late": 'your answer reported "cron late", but {cron}',
}


def _names(value: Any) -> set[str]:
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (set, frozenset, list, tuple)):
        raise Incorrect(
            f"alerts(...) returned {describe(value)}: return the names of the alerts that fire, as a set (or a list) "
            f"of strings from {', '.join(repr(a) for a in ALERTS)}."
        )
    unknown = [v for v in value if v not in ALERTS]
    if unknown:
        raise Incorrect(
            f"alerts(...) returned {', '.join(map(describe, unknown))}, which is not an alert's name: use "
            f"{', '.join(repr(a) for a in ALERTS)}."
        )
    return set(value)


def _ask(fn: Any, queue: Queue, failed_before: int, max_wait: float, cron_job: str, cron_within: float) -> None:
    """Call the learner's function on the state the queue is in now, and compare with what fires."""
    want = alerts_reference(queue, failed_before, max_wait, cron_job, cron_within)
    state = (queue.count, queue.failed_job_registry.count)
    got = _names(call(fn, queue, failed_before, max_wait, cron_job, cron_within))
    if (queue.count, queue.failed_job_registry.count) != state:
        raise Incorrect(
            f"alerts(...) changed the queue (waiting jobs and failed jobs: {state[0]} and {state[1]} before, "
            f"{queue.count} and {queue.failed_job_registry.count} after): an alert only reads what the queue holds."
        )
    if got == want:
        return
    age = metrics.oldest_age(queue)
    last = metrics.last_cron_run(queue.connection, cron_job)
    live = len(Worker.all(queue=queue))
    facts = {
        "age": f"{age:.1f} s" if age is not None else "no time",
        "age_text": "the queue is empty" if age is None else f"the oldest job has waited only {age:.1f} s",
        "max_wait": max_wait,
        "failed": queue.failed_job_registry.count,
        "failed_before": failed_before,
        "workers": f"{live} worker(s) listen on this queue"
        if live
        else "no worker listens on this queue (one listens on another queue)",
        "cron": f"the cron job {cron_job!r} has never run"
        if last is None
        else f"the cron job {cron_job!r} last ran {time.time() - last:.1f} s ago and cron_within={cron_within}",
    }
    problems = [_MISSED[name].format(**facts) for name in ALERTS if name in want - got]
    problems += [_EXTRA[name].format(**facts) for name in ALERTS if name in got - want]
    raise Incorrect(f"alerts(...) returned {sorted(got)}, expected {sorted(want)}: " + "; ".join(problems) + ".")


def check_alerts(fn: Any) -> str:
    require_function(fn, "alerts", ("queue", "failed_before", "max_wait", "cron_job", "cron_within"))
    redis_reachable()
    with scratch_queues() as (queue, other, cron_job):
        fail_one_job(queue)  # run by RQ's own worker: the failed registry holds 1
        listener = register_listener(queue)  # a live worker on the queue, as RQ registers one
        record_cron_run(queue, cron_job)  # as rq cron does: a job enqueued on the queue, the time recorded
        _ask(fn, queue, 1, 3600, cron_job, 3600)  # all well: nothing fires
        time.sleep(0.1)  # ages only grow: from here on the job has waited, and the cron job ran, 0.1 s ago or more
        _ask(fn, queue, 1, 0.05, cron_job, 3600)  # the job waits 0.1 s, max_wait 0.05 s
        queue.enqueue(ops_jobs.work_for, 0)  # a job just queued behind it: the head's age counts, not the newest's
        _ask(fn, queue, 1, 0.05, cron_job, 3600)
        _ask(fn, queue, 5, 60, cron_job, 60)  # 0.1 s is no minute (100 ms are more than 60); fewer failures than before
        _ask(fn, queue, 0, 3600, cron_job, 3600)  # one more failure than the last reading
        _ask(fn, queue, 1, 3600, cron_job, 0.05)  # the cron job ran 0.1 s ago, expected every 0.05 s
        _ask(fn, queue, 1, 3600, f"{cron_job}-never", 3600)  # a cron job that never ran
        queue.empty()
        _ask(fn, queue, 1, 0, cron_job, 3600)  # an empty queue has no old job, even with max_wait=0
        listener.register_death()
        register_listener(other)
        _ask(fn, queue, 1, 3600, cron_job, 3600)  # the only live worker listens on another queue
    return (
        "Each alert fired when its condition held, and only then: the oldest waiting job older than max_wait, "
        "failures grown since the last reading, no worker on the queue, the cron job late or never run."
    )


ex_alerts = Exercise(
    "Exercise 3",
    check_alerts,
    title="Which alerts fire",
    hints=[
        "metrics.oldest_age(queue) is None for an empty queue; queue.failed_job_registry.count is the failed jobs now.",
        "Worker.all(queue=queue) lists the workers registered on that queue only; "
        "metrics.last_cron_run(queue.connection, "
        "cron_job) is None when the cron job never ran.",
    ],
    solution="""\
def alerts(queue, failed_before, max_wait, cron_job, cron_within):
    firing = set()
    age = metrics.oldest_age(queue)
    if age is not None and age > max_wait:
        firing.add("old job")
    if queue.failed_job_registry.count > failed_before:
        firing.add("new failures")
    if not Worker.all(queue=queue):
        firing.add("no worker")
    last_run = metrics.last_cron_run(queue.connection, cron_job)
    if last_run is None or time.time() - last_run > cron_within:
        firing.add("cron late")
    return firing""",
    reference=alerts_reference,
)

__all__ = ["ALERTS", "STEPS", "ex_alerts", "ex_deploy_order", "ex_two_crons"]
