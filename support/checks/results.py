"""Exercises of 08_results_and_progress: report progress, answer the status endpoint, a fan-in, a result's TTL. The
checks run the learner's code against real jobs in the course's Redis, made for the check and deleted after: a job
whose meta is read back, jobs run to finished and failed by a synchronous queue, a fan-in's stored dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import as_text

from .. import export_jobs
from ..exercises import Choice, Exercise, Incorrect, call, describe, require_function
from ..rq_helpers import queues
from ..workit import export_status
from ._check_trouble import redis_needed

PROBE_QUEUE = "course-check-results"  # no worker listens to it: a job put there stays queued

# --- Exercise 1: report progress through job.meta --------------------------------------------------------------------


@contextmanager
def _probe_jobs() -> Iterator[list[Job]]:
    """Jobs made for a check, deleted afterwards whatever happens."""
    made: list[Job] = []
    try:
        yield made
    finally:
        for job in made:
            job.delete()
        Queue(PROBE_QUEUE, connection=queues.connection()).delete(delete_jobs=True)


REPORTS = ((2, 5), (3, 7))  # two calls: a constant done or total cannot pass both


@redis_needed
def check_report(fn: Any) -> str:
    require_function(fn, "report", ("job", "done", "total"))
    conn = queues.connection()
    with _probe_jobs() as made:
        job = Job.create(export_jobs.count_words, args=("probe",), connection=conn, meta={"owner": "ada"})
        job.save()
        made.append(job)
        for done, total in REPORTS:
            call(fn, job, done, total)
            stored = Job.fetch(job.id, connection=conn).meta
            if stored.get("progress") != {"done": done, "total": total}:
                if job.meta.get("progress") == {"done": done, "total": total}:
                    raise Incorrect(
                        "job.meta has the progress in this process, but Redis does not: the page reads Redis. "
                        "Save it to Redis after you set it: job.save_meta()."
                    )
                raise Incorrect(
                    f"After report(job, {done}, {total}) Redis has job.meta['progress'] = "
                    f"{describe(stored.get('progress'))}; put {{'done': {done}, 'total': {total}}} into "
                    "job.meta['progress']."
                )
            if stored.get("owner") != "ada":
                raise Incorrect(
                    "The job's other meta ('owner': 'ada') is gone: you replaced job.meta. Keep whatever else the "
                    "job's meta holds: set one key, job.meta['progress'] = {...}."
                )
    return "Redis has the progress after each call, and the job's other meta is still there."


ex_report = Exercise(
    "Exercise 1",
    check_report,
    title="Report progress through job.meta",
    hints=[
        "job.meta is a dict that RQ saves with the job; set one key of it.",
        "In memory is not enough: the page's request runs in another process. job.save_meta() writes the meta.",
        "job.meta['progress'] = {'done': done, 'total': total}; then job.save_meta()",
    ],
    solution="def report(job, done, total):\n    job.meta['progress'] = {'done': done, 'total': total}\n"
    "    job.save_meta()",
    reference=export_jobs.report_progress,
)

# --- Exercise 2: what the status endpoint answers -----------------------------------------------------------------


def _status_probes(made: list[Job]) -> list[tuple[str, Job | None]]:
    """One real job in each state the page meets, and None (an expired or unknown id)."""
    conn = queues.connection()
    queued = Queue(PROBE_QUEUE, connection=conn).enqueue(export_jobs.count_words, "waiting")
    started, begun, stopped = (
        Job.create(export_jobs.count_words, args=(text,), connection=conn, meta={"progress": progress})
        for text, progress in (
            ("busy", {"done": 2, "total": 3}),  # 66.7 %: round() gives 67, int() or // give 66
            ("begun", {"done": 1, "total": 3}),  # 33.3 %: round() gives 33, math.ceil() 34
            ("stopped", {"done": 1, "total": 4}),  # stopped with send_stop_job_command after its first step
        )
    )
    for job, status in ((started, JobStatus.STARTED), (begun, JobStatus.STARTED), (stopped, JobStatus.STOPPED)):
        job.save()
        job.set_status(status)
    inline = Queue(PROBE_QUEUE, connection=conn, is_async=False)  # runs each job here and now
    finished = inline.enqueue(export_jobs.export_thoughts, ["probe"], steps=2, step_delay=0)
    failed = inline.enqueue(export_jobs.export_thoughts, ["probe"], steps=2, step_delay=0, fail_at=1)
    deferred = Queue(PROBE_QUEUE, connection=conn).enqueue(export_jobs.count_words, "later", depends_on=queued)
    made += [queued, started, begun, stopped, finished, failed, deferred]
    return [
        ("a queued job", queued),
        ("a started job 2 steps of 3 in", started),
        ("a started job 1 step of 3 in", begun),
        ("a job deferred until another finishes", deferred),
        ("a finished export", finished),
        ("a failed export", failed),
        ("an export stopped after 1 step of 4", stopped),
        ("None (no such job: expired, or never made)", None),
    ]


@redis_needed
def check_status(fn: Any) -> str:
    require_function(fn, "export_status", ("job",))
    with _probe_jobs() as made:
        for what, job in _status_probes(made):
            want = export_status.status_of(job)
            want = {key: want[key] for key in ("state", "percent", "result", "error")}
            got = call(fn, job)
            if not isinstance(got, dict):
                raise Incorrect(
                    f"For {what} it returned {describe(got)}; return a dict with state, percent, result and error."
                )
            missing = [key for key in ("state", "percent", "result", "error") if key not in got]
            if job is not None and missing:
                raise Incorrect(
                    f"For {what} the dict has no {' and no '.join(map(repr, missing))}: return a dict with state, "
                    "percent, result and error."
                )
            if job is None and got.get("state") != "expired":
                raise Incorrect(
                    f"For {what}, state is {describe(got.get('state'))}; it should be 'expired': when job is None, "
                    "state 'expired' and a message in error that the page can show."
                )
            for key, rule in (
                ("state", "the job's status as a string (job.get_status().value)"),
                ("percent", "from job.meta['progress'], round(100 * done / total); 0 before the job has reported"),
                ("result", "job.return_value() when the job finished, else None"),
                ("error", "the last line of job.latest_result().exc_string when it failed, else None"),
            ):
                if job is None and key in ("percent", "result"):
                    continue  # for an expired job only the state and a message matter
                if key == "error" and want["state"] == JobStatus.STOPPED:
                    continue  # the app says why it stopped; the text's None will do as well
                if job is None and key == "error":
                    if not isinstance(got.get("error"), str) or not got["error"].strip():
                        raise Incorrect(
                            f"For {what}, error is {describe(got.get('error'))}: when job is None, give a message in "
                            "error that the page can show, not a blank."
                        )
                    continue
                if got.get(key) != want[key]:
                    raise Incorrect(
                        f"For {what}, {key} is {describe(got.get(key))}; it should be {describe(want[key])}: {rule}."
                    )
    return (
        "Right for queued, started (1 and 2 steps of 3), deferred, finished, failed, stopped, and for an export "
        "that is no longer kept."
    )


ex_status = Exercise(
    "Exercise 2",
    check_status,
    title="Answer the status request",
    hints=[
        "Start with `if job is None:` (no such job): state 'expired' and a message in error.",
        "state = job.get_status().value; the progress is job.meta.get('progress') (it may be missing).",
        "result: job.return_value() when the state is 'finished'; error: the last line of "
        "job.latest_result().exc_string.strip() when it is 'failed'.",
    ],
    solution="""\
def export_status(job):
    if job is None:
        return {"state": "expired", "percent": None, "result": None,
                "error": "This export is not kept any more."}
    state = job.get_status().value
    progress = job.meta.get("progress") or {}
    total = progress.get("total", 0)
    answer = {"state": state, "percent": round(100 * progress.get("done", 0) / total) if total else 0,
              "result": None, "error": None}
    if state == "finished":
        answer["result"] = job.return_value()
    elif state == "failed":
        answer["error"] = job.latest_result().exc_string.strip().splitlines()[-1]
    return answer""",
    reference=export_status.status_of,
)

# --- Exercise 3: a fan-in ---------------------------------------------------------------------------------------------

ADD_UP = "support.export_jobs.add_up"


def _other_fan_ins(total: Job, parts: list[Job]) -> list[str]:
    """Other add_up jobs waiting for the same parts, created within a second of `total` (by one run of the cell). A
    part lists its waiting jobs only until it finishes: with the parts done (the notebook's worker), none to count."""
    conn = total.connection
    read = conn.pipeline(transaction=True)  # all at once: a part that finishes meanwhile drops its list
    for part in parts:
        read.smembers(part.dependents_key)
    waiting = set.intersection(*({as_text(i) for i in members} for members in read.execute()))
    others = Job.fetch_many(sorted(waiting - {total.id}), connection=conn)
    near = lambda job: abs((job.created_at - total.created_at).total_seconds()) < 1.0  # noqa: E731
    return [job.id for job in others if job is not None and job.func_name == ADD_UP and near(job)]


def fan_in_reference(parts: list[Job]) -> Job:
    """What the reference does: add_up of the parts' ids, waiting for every part."""
    return queues.queue("default", parts[0].connection).enqueue(
        export_jobs.add_up, [p.id for p in parts], depends_on=parts
    )


@redis_needed
def check_fan_in(total: Any, parts: list[Job]) -> str:
    if not isinstance(total, Job):
        raise Incorrect(f"total is {describe(total)}: keep the job in total, the Job that enqueue returns.")
    try:  # what Redis has, not what this kernel's object says
        total = Job.fetch(total.id, connection=total.connection)
    except NoSuchJobError:
        raise Incorrect(
            "Redis has no such job: total was never queued (a Job made by hand is not saved). Queue add_up with "
            "default.enqueue(...)."
        ) from None
    if total.func_name != ADD_UP:
        raise Incorrect(f"That job runs {total.func_name}; the fan-in is add_up, which adds the parts' results.")
    if total.origin != "default":
        raise Incorrect(f"You queued add_up on {total.origin!r}: queue add_up on default.")
    ids = [part.id for part in parts]
    waits_for = set(total.dependency_ids)
    if not waits_for:
        raise Incorrect("total waits for nothing: it may run before the parts finish. Pass depends_on=parts.")
    if waits_for != set(ids):
        again = (
            " (if you ran the cell that queues the parts again since, run your cell again: total must wait for these)"
        )
        rerun = "" if waits_for & set(ids) else again
        raise Incorrect(
            f"total waits for {len(waits_for & set(ids))} of the {len(ids)} parts{rerun}; it must wait for all "
            "three parts: depends_on=parts (the whole list)."
        )
    given = total.args[0] if total.args else total.kwargs.get("job_ids")
    if not isinstance(given, (list, tuple)) or list(given) != ids:
        raise Incorrect(
            f"add_up gets {describe(given)}; it must get their ids, in order, as its argument: [p.id for p in parts]."
        )
    others = _other_fan_ins(total, parts)
    if others:
        raise Incorrect(
            f"Your cell queued add_up {len(others) + 1} times on these parts: each would add them up. Queue it "
            "once, and keep that job in total."
        )
    return (
        f"add_up waits until all {len(ids)} parts have finished (in the DeferredJobRegistry while one has not), "
        "then adds their results."
    )


ex_fan_in = Exercise(
    "Exercise 3",
    check_fan_in,
    title="Fan in: add up the parts",
    hints=[
        "default.enqueue(add_up, job_ids, depends_on=...) queues add_up to run after the jobs it depends on.",
        "depends_on takes a list of jobs: all of them must finish first.",
        "total = default.enqueue(add_up, [p.id for p in parts], depends_on=parts)",
    ],
    solution="total = default.enqueue(add_up, [p.id for p in parts], depends_on=parts)",
    fallback=fan_in_reference,
    use_after_check=True,
)  # the check needs the parts too: use(total, parts) goes on with total once it passed

# --- Exercise 4: how long to keep a result ----------------------------------------------------------------------------

ex_result_ttl = Choice(
    "Exercise 4",
    "A learner starts an export, closes the tab, and comes back to its page up to an hour later to copy the "
    "result. Exports must not pile up in Redis for ever. Which enqueue option do you give the export job?",
    {"a": "result_ttl=0", "b": "nothing: RQ's default result_ttl", "c": "result_ttl=3600", "d": "result_ttl=-1"},
    "c",
    explanations={
        "a": "result_ttl=0 deletes the job and its result as soon as it finishes: the page that polls would "
        "find nothing, not even once.",
        "b": "RQ's default keeps a result 500 s (DEFAULT_RESULT_TTL), about 8 minutes, not an hour: the learner "
        "who comes back later sees 'expired'.",
        "c": "An hour is what the need says; after that Redis drops the job and its result by itself.",
        "d": "-1 keeps the result for ever: every export piles up in Redis until someone deletes it by hand.",
    },
    title="Choose the result's lifetime",
)
