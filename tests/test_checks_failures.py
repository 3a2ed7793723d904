"""The checks of 05_when_things_fail, against real effects: failures made by a real rq worker on queues of the check's
own, enqueue options as RQ stores them in Redis and run against a real outage (the mail catcher stopped), emails
counted in the real mail catcher. Each exercise's requirements are a table (``tests/exercise_table.py``); the tests
after the tables test what the tables do not (fallbacks, blanks, what a check leaves behind)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from exercise_table import Requirement, Table, define, table_test
from rq import Retry

from support import jobs
from support.checks.failures import ex_options, ex_requeue, ex_send_once, stored_options
from support.exercises import Result, ____
from support.rq_helpers import queues
from support.services import mailcatcher


def setup_catcher() -> None:
    """The mail catcher running, as 05 leaves it before its exercises."""
    mailcatcher.start()


def notebook_names() -> dict[str, Any]:
    """What 05 has defined by its exercises (its first cell's imports, and r)."""
    import time

    from support import failure_jobs
    from support.rq_helpers import recovery

    return {
        "time": time,
        "Retry": Retry,
        "jobs": jobs,
        "failure_jobs": failure_jobs,
        "queues": queues,
        "recovery": recovery,
        "mailcatcher": mailcatcher,
        "____": ____,
        "r": queues.connection(),
    }


# --- Exercise 1: requeue what the outage broke (real failures, a real rq worker --burst) ------------------------------


def submit_requeue(source: str) -> Result:
    return ex_requeue.check(define(source, "requeue_outage_failures", notebook_names()))


REQUEUE_HEAD = "def requeue_outage_failures(queue):\n"
REQUEUE = Table(
    exercise=ex_requeue,
    submit=submit_requeue,
    setup=setup_catcher,
    requirements=[
        Requirement(  # new jobs: the failed ones stay failed
            "requeue every job in queue's failed registry whose error is a ConnectionError",
            REQUEUE_HEAD + "    count = 0\n"
            "    for job_id in queue.failed_job_registry.get_job_ids():\n"
            "        job = queue.fetch_job(job_id)\n"
            "        if job.latest_result().exc_string.strip().splitlines()[-1].startswith('ConnectionError'):\n"
            "            queue.enqueue(job.func, *job.args)\n"
            "            count += 1\n"
            "    return count\n",
            "still failed",
        ),
        Requirement(  # the failed job deleted, a new one enqueued in its place
            "the same job back on its queue",
            REQUEUE_HEAD + "    count = 0\n"
            "    for job_id in queue.failed_job_registry.get_job_ids():\n"
            "        job = queue.fetch_job(job_id)\n"
            "        if job.latest_result().exc_string.strip().splitlines()[-1].startswith('ConnectionError'):\n"
            "            queue.enqueue(job.func, *job.args)\n"
            "            job.delete()\n"
            "            count += 1\n"
            "    return count\n",
            "the same job back on its queue",
        ),
        Requirement(  # everything back
            "leave every other failed job in the failed registry",
            REQUEUE_HEAD + "    ids = queue.failed_job_registry.get_job_ids()\n"
            "    for job_id in ids:\n"
            "        queue.failed_job_registry.requeue(job_id)\n"
            "    return len(ids)\n",
            "Requeue only the jobs whose error is a ConnectionError",
        ),
        Requirement(  # "ConnectionError" anywhere in the traceback, not its last line
            "the last line of job.latest_result().exc_string starts with ConnectionError",
            REQUEUE_HEAD + "    count = 0\n"
            "    for job_id in queue.failed_job_registry.get_job_ids():\n"
            "        if 'ConnectionError' in queue.fetch_job(job_id).latest_result().exc_string:\n"
            "            queue.failed_job_registry.requeue(job_id)\n"
            "            count += 1\n"
            "    return count\n",
            "its error, the last line, is not one",
        ),
        Requirement(  # the others deleted, not left
            "leave every other failed job in the failed registry",
            ex_requeue.solution_code.replace(
                "    return requeued",
                "    for job_id in registry.get_job_ids():\n"
                "        queue.fetch_job(job_id).delete()\n"
                "    return requeued",
            ),
            "leave the other failed jobs in the failed registry",
        ),
        Requirement(
            "return how many jobs you requeued",
            ex_requeue.solution_code.replace("    return requeued", "    print(requeued)"),
            "return how many it requeued",
        ),
        Requirement(  # how many are left, not how many went back (2 and 2 at first)
            "return how many jobs you requeued",
            ex_requeue.solution_code.replace("    return requeued", "    return registry.count"),
            "return how many it requeued (0 there)",
        ),
        Requirement(  # a constant: the count the learner saw
            "return how many jobs you requeued",
            ex_requeue.solution_code.replace("    return requeued", "    return 2"),
            "return how many it requeued (0 there)",
        ),
        Requirement(
            "work on the queue it is given, whichever it is",
            ex_requeue.solution_code.replace(
                "def requeue_outage_failures(queue):\n",
                "def requeue_outage_failures(queue):\n    queue = queues.queue('mailers')\n",
            ),
            "from the queue you are given",
        ),
        Requirement(  # every queue of Redis
            "work on the queue it is given, whichever it is",
            "from rq import Queue\n\n" + REQUEUE_HEAD + "    requeued = 0\n"
            "    for q in Queue.all(connection=queue.connection):\n"
            "        for job_id in q.failed_job_registry.get_job_ids():\n"
            "            job = q.fetch_job(job_id)\n"
            "            if job.latest_result().exc_string.strip().splitlines()[-1].startswith('ConnectionError'):\n"
            "                q.failed_job_registry.requeue(job_id)\n"
            "                requeued += 1 if q.name == queue.name else 0\n"
            "    return requeued\n",
            "work on the queue your function is given",
        ),
    ],
    right=[
        # job.requeue(), the error's name compared
        REQUEUE_HEAD + "    count = 0\n"
        "    for job in queue.failed_job_registry.get_job_ids():\n"
        "        job = queue.fetch_job(job)\n"
        "        if job.latest_result().exc_string.strip().splitlines()[-1].split(':')[0] == 'ConnectionError':\n"
        "            job.requeue()\n"
        "            count += 1\n"
        "    return count\n",
        # the course's recovery.error_line, the job removed from the registry and enqueued again by hand
        REQUEUE_HEAD + "    registry = queue.failed_job_registry\n"
        "    done = 0\n"
        "    for job in [queue.fetch_job(i) for i in registry.get_job_ids()]:\n"
        "        if recovery.error_line(job).startswith('ConnectionError'):\n"
        "            registry.remove(job)\n"
        "            queue.enqueue_job(job)\n"
        "            done += 1\n"
        "    return done\n",
    ],
)


def test_requeue_blank_or_not_a_function(shared_course: Path) -> None:
    assert ex_requeue.check(____).kind == "not_attempted"
    assert "should be a function" in ex_requeue.check(3).message


# --- Exercise 2: the options of the welcome email (run against a real outage) --------------------------------------

WEEK = 7 * 24 * 60 * 60
REFERENCE_OPTIONS = ex_options.solution_code


def _options_with(old: str, new: str) -> str:
    """The reference options with one line changed."""
    assert old in REFERENCE_OPTIONS, old
    return REFERENCE_OPTIONS.replace(old, new)


def submit_options(source: str) -> Result:
    return ex_options.check(define(source, "options", notebook_names()))


WITHIN = "still within what the text asks for"
OPTIONS = Table(
    exercise=ex_options,
    submit=submit_options,
    setup=setup_catcher,
    equivalent={
        # job_timeout: "5 s at most", "at least 2 s"
        "L3 Constant 3->4": f"job_timeout 4 s: {WITHIN} (2 to 5 s)",
        "L3 Constant 3->2": f"job_timeout 2 s: {WITHIN} (2 to 5 s)",
        # result_ttl: "a minute at most" (0: RQ deletes the finished job at once)
        "L4 Constant 60->59": f"result_ttl 59 s: {WITHIN} (a minute at most)",
        "L4 Constant 60->0": f"result_ttl 0, the finished job not kept: {WITHIN} (a minute at most)",
        # failure_ttl: "at least a week ... and at most 30 days"
        "L5 Constant 60->61": f"failure_ttl 7 days 2 h: {WITHIN} (a week to 30 days)",
        "L5 Constant 60->61 #2": f"failure_ttl 7 days 2 h: {WITHIN} (a week to 30 days)",
        "L5 Constant 7->8": f"failure_ttl 8 days: {WITHIN} (a week to 30 days)",
        "L5 Constant 24->25": f"failure_ttl 7 days 7 h: {WITHIN} (a week to 30 days)",
        # retry: its tries after the first failure (cumulative pauses) still reach past 3 s, the first such try
        # due within 12 s of the first failure (2 s of outage + 10 s)
        "L2 Constant 3->2": f"Retry(max=2, [1, 2, ...]): tries at 1 and 3 s, {WITHIN}",
        "L2 Constant 3->4": f"Retry(max=4, [1, 2, 4]): tries at 1, 3, 7 and 11 s, {WITHIN}",
        "L2 Constant 1->2": f"pauses 2, 2, 4: tries at 2, 4, 8 s, {WITHIN}",
        "L2 Constant 1->0": f"pauses 0, 2, 4: tries at 0, 2, 6 s, {WITHIN}",
        "L2 Constant 2->3": f"pauses 1, 3, 4: tries at 1, 4, 8 s, {WITHIN}",
        "L2 Constant 2->1": f"pauses 1, 1, 4: tries at 1, 2, 6 s, {WITHIN}",
        "L2 Constant 2->0": f"pauses 1, 0, 4: tries at 1, 1, 5 s, {WITHIN}",
        "L2 Constant 4->5": f"pauses 1, 2, 5: tries at 1, 3, 8 s, {WITHIN}",
        "L2 Constant 4->3": f"pauses 1, 2, 3: tries at 1, 3, 6 s, {WITHIN}",
        "L2 Constant 4->0": f"pauses 1, 2, 0: tries at 1, 3, 3 s, {WITHIN}",
    },
    requirements=[
        Requirement(
            "retry: the email still goes out when the provider is back 2 s after the first failure",
            _options_with('    "retry": Retry(max=3, interval=[1, 2, 4]),\n', ""),
            "never tried again",
        ),
        Requirement(  # no pauses
            "retry: the email still goes out when the provider is back 2 s after the first failure",
            _options_with("Retry(max=3, interval=[1, 2, 4])", "Retry(max=3)"),
            "the last try must be due 3 s or more after the first failure",
        ),
        Requirement(  # due at 2 s: may start at 1 s, before the provider is back
            "retry: the email still goes out when the provider is back 2 s after the first failure",
            _options_with("Retry(max=3, interval=[1, 2, 4])", "Retry(max=2, interval=1)"),
            "the last try must be due 3 s or more after the first failure",
        ),
        Requirement(
            "the first try that is sure to start after that moment is due at most 10 s after it",
            _options_with("Retry(max=3, interval=[1, 2, 4])", "Retry(max=2, interval=[1, 30])"),
            "waits 29 s longer than needed",
        ),
        Requirement(  # in minutes
            "the first try that is sure to start after that moment is due at most 10 s after it",
            _options_with("Retry(max=3, interval=[1, 2, 4])", "Retry(max=3, interval=[60, 120, 240])"),
            "longer than needed",
        ),
        Requirement(
            "job_timeout: a send that hangs holds a worker 5 s at most",
            _options_with('    "job_timeout": 3,\n', ""),
            "Give job_timeout 5 s or less",
        ),
        Requirement(  # in milliseconds
            "job_timeout: a send that hangs holds a worker 5 s at most",
            _options_with('"job_timeout": 3,', '"job_timeout": 3000,'),
            "Give job_timeout 5 s or less",
        ),
        Requirement(  # RQ's -1: no timeout at all
            "job_timeout: a send that hangs holds a worker 5 s at most",
            _options_with('"job_timeout": 3,', '"job_timeout": -1,'),
            "no timeout at all",
        ),
        Requirement(
            "a normal send takes up to 1 s, so allow at least 2 s",
            _options_with('"job_timeout": 3,', '"job_timeout": 1,'),
            "at least 2 s",
        ),
        Requirement(
            "result_ttl: nobody reads a sent email's result (its Message-ID): keep a finished job a minute at most",
            _options_with('    "result_ttl": 60,\n', ""),
            "60 s at most (result_ttl)",
        ),
        Requirement(  # in milliseconds
            "result_ttl: nobody reads a sent email's result (its Message-ID): keep a finished job a minute at most",
            _options_with('"result_ttl": 60,', '"result_ttl": 60 * 1000,'),
            "60 s at most (result_ttl)",
        ),
        Requirement(  # RQ's -1: for ever
            "result_ttl: nobody reads a sent email's result (its Message-ID): keep a finished job a minute at most",
            _options_with('"result_ttl": 60,', '"result_ttl": -1,'),
            "60 s at most (result_ttl)",
        ),
        Requirement(  # in days
            "failure_ttl: keep a failed email at least a week",
            _options_with('"failure_ttl": 7 * 24 * 60 * 60,', '"failure_ttl": 7,'),
            "at least a week",
        ),
        Requirement(  # an hour
            "failure_ttl: keep a failed email at least a week",
            _options_with('"failure_ttl": 7 * 24 * 60 * 60,', '"failure_ttl": 60 * 60,'),
            "at least a week",
        ),
        Requirement(  # RQ's -1: for ever
            "at most 30 days: Redis is not an archive",
            _options_with('"failure_ttl": 7 * 24 * 60 * 60,', '"failure_ttl": -1,'),
            "for ever",
        ),
        Requirement(  # RQ's default, a year
            "at most 30 days: Redis is not an archive",
            _options_with('    "failure_ttl": 7 * 24 * 60 * 60,\n', ""),
            "Redis is not an archive",
        ),
        Requirement(
            "at most 30 days: Redis is not an archive",
            _options_with('"failure_ttl": 7 * 24 * 60 * 60,', '"failure_ttl": 60 * 24 * 60 * 60,'),
            "Redis is not an archive",
        ),
        Requirement(  # Job's own name for it, not enqueue's
            "with these four keys",
            _options_with('"job_timeout": 3,', '"timeout": 3,'),
            "give only retry, job_timeout, result_ttl, failure_ttl",
        ),
        Requirement(
            "with these four keys",
            "options = Retry(max=3, interval=[1, 2, 4])\n",
            "make it a dict",
        ),
    ],
    right=[
        # other numbers, a string timeout, result_ttl=0, and a dict built by keywords
        "options = dict(retry=Retry(max=2, interval=[2, 4]), job_timeout='2s', result_ttl=0,\n"
        "               failure_ttl=14 * 24 * 3600)\n",
        # thirty days, four retries a second apart, another order
        "options = {'failure_ttl': 30 * 24 * 60 * 60, 'result_ttl': 30, 'job_timeout': 5,\n"
        "           'retry': Retry(max=4, interval=1)}\n",
    ],
)


def test_stored_options_reads_back_what_rq_keeps(shared_course: Path) -> None:
    stored = stored_options(ex_options.reference)
    assert (stored.timeout, stored.result_ttl, stored.failure_ttl) == (3, 60, WEEK)
    assert (stored.retries_left, stored.retry_intervals) == (3, [1, 2, 4])


def test_options_blank_is_not_attempted_and_use_gives_the_reference(shared_course: Path) -> None:
    assert ex_options.check(____).kind == "not_attempted"
    assert ex_options.use(____, quiet=True) is ex_options.reference


def test_a_catcher_that_starts_too_late_is_the_checks_trouble_not_the_answers(shared_course: Path, monkeypatch) -> None:
    """A try due 3 s after the first failure may start at 2 s, when the outage ends. On a busy machine the catcher's
    own start can take longer than the check allows for it: then a right answer whose only try after the outage is
    that one (tries at 1 and 3 s) is not judged, and the message says why."""
    from support.checks import _failures_options

    real_start = _failures_options.mailcatcher.start

    def slow_start(*args: Any, **kwargs: Any) -> Any:
        time.sleep(3)  # the process, its imports and its first greeting, on a machine far busier than CI
        return real_start(*args, **kwargs)

    monkeypatch.setattr(_failures_options.mailcatcher, "start", slow_start)
    result = submit_options(_options_with("Retry(max=3, interval=[1, 2, 4])", "Retry(max=2, interval=[1, 2])"))
    assert result.kind == "incorrect", result
    assert result.message.startswith("The check could not end its mail outage in time"), result
    assert "Your answer is not judged yet" in result.message


# --- Exercise 3: send each email once ------------------------------------------------------------------------------


def submit_send_once(source: str) -> Result:
    return ex_send_once.check(define(source, "send_once", notebook_names()))


REFERENCE_SEND_ONCE = ex_send_once.solution_code


def _send_once_with(old: str, new: str) -> str:
    """The reference send_once with one piece changed."""
    assert old in REFERENCE_SEND_ONCE, old
    return REFERENCE_SEND_ONCE.replace(old, new)


SEND_ONCE_HEAD = "def send_once(email, thought, key):\n"
SEND_ONCE = Table(
    exercise=ex_send_once,
    submit=submit_send_once,
    setup=setup_catcher,
    equivalent={
        "L7 Twice call": "deleting the claim twice: DEL of a key that is gone already does nothing",
        "L2 Constant 'sent'->''": "the claim's value is never read: only whether SET NX set it",
        "L2 Constant 'sent'->'sentx'": "the claim's value is never read: only whether SET NX set it",
    },
    requirements=[
        Requirement(  # kept in this kernel: another worker cannot see it
            "claim the key",
            "sent = set()\n\n" + SEND_ONCE_HEAD + "    if key in sent:\n"
            "        return None\n"
            "    sent.add(key)\n"
            "    return jobs.send_gif_email(email, thought, delay=0)\n",
            "not in a Python variable",
        ),
        Requirement(  # one claim for every email
            "claim the key",
            _send_once_with('f"workit:sent:{key}"', '"workit:sent"'),
            "each key must get its own email",
        ),
        Requirement(  # the address claimed, not the key
            "claim the key",
            _send_once_with('f"workit:sent:{key}"', 'f"workit:sent:{email}"'),
            "each key must get its own email",
        ),
        Requirement(  # the thought claimed, not the key
            "claim the key",
            _send_once_with('f"workit:sent:{key}"', 'f"workit:sent:{thought}"'),
            "each key must get its own email",
        ),
        Requirement(
            "for a day",
            _send_once_with(", ex=24 * 60 * 60", ""),
            "never expires",
        ),
        Requirement(  # in hours
            "for a day",
            _send_once_with("ex=24 * 60 * 60", "ex=24"),
            "keep the claim a day",
        ),
        Requirement(  # milliseconds given as seconds' number
            "for a day",
            _send_once_with("ex=24 * 60 * 60", "px=24 * 60 * 60"),
            "keep the claim a day",
        ),
        Requirement(  # no NX: every call claims
            "nx=True",
            _send_once_with("nx=True, ", ""),
            "sent 2 emails",
        ),
        Requirement(  # look, then claim: two workers at once both get in
            "nx=True",
            SEND_ONCE_HEAD + "    name = f'workit:sent:{key}'\n"
            "    if r.exists(name):\n"
            "        return None\n"
            "    r.set(name, 'sent', ex=24 * 60 * 60)\n"
            "    try:\n"
            "        return jobs.send_gif_email(email, thought, delay=0)\n"
            "    except Exception:\n"
            "        r.delete(name)\n"
            "        raise\n",
            "threads at once with one key",
        ),
        Requirement(  # send first, claim after
            "if the claim works, send",
            SEND_ONCE_HEAD + "    message_id = jobs.send_gif_email(email, thought, delay=0)\n"
            "    if r.set(f'workit:sent:{key}', 'sent', nx=True, ex=24 * 60 * 60):\n"
            "        return message_id\n"
            "    return None\n",
            "sent 2 emails",
        ),
        Requirement(  # the default delay, the app's slow 5 s
            "send with jobs.send_gif_email(email, thought, delay=0)",
            _send_once_with("jobs.send_gif_email(email, thought, delay=0)", "jobs.send_gif_email(email, thought)"),
            "with delay=0",
        ),
        Requirement(
            "and return what it returns",
            _send_once_with(
                "        return jobs.send_gif_email(email, thought, delay=0)",
                "        jobs.send_gif_email(email, thought, delay=0)\n        return True",
            ),
            "return what send_gif_email returns",
        ),
        Requirement(
            "otherwise send nothing and return None",
            _send_once_with("        return None  # an earlier attempt", "        return False  # an earlier attempt"),
            "return None when the key was claimed already",
        ),
        Requirement(
            "If the send raises, delete the key again",
            _send_once_with(
                '        r.delete(f"workit:sent:{key}")  # it did not go out', "        pass  # it did not go out"
            ),
            "the key stayed claimed",
        ),
        Requirement(
            "and let the error out (raise)",
            _send_once_with("        raise", "        return None"),
            "let the error out",
        ),
    ],
    right=[
        # other names, a hashed key, a timedelta in milliseconds, BaseException
        "import hashlib\nfrom datetime import timedelta\n\n"
        "def send_once(address, text, idempotency_key):\n"
        "    claim = 'workit:sent:' + hashlib.sha256(idempotency_key.encode()).hexdigest()\n"
        "    if r.set(claim, 1, nx=True, px=int(timedelta(days=1).total_seconds() * 1000)) is None:\n"
        "        return None\n"
        "    try:\n"
        "        return jobs.send_gif_email(address, text, 0)\n"
        "    except BaseException:\n"
        "        r.delete(claim)\n"
        "        raise\n",
        # SETNX then EXPIRE (each call atomic), the send's value kept, a timedelta
        "from datetime import timedelta\n\n" + SEND_ONCE_HEAD + "    name = 'sent-email:' + key\n"
        "    if r.setnx(name, email):\n"
        "        r.expire(name, timedelta(days=1))\n"
        "        try:\n"
        "            message_id = jobs.send_gif_email(email, thought, delay=0)\n"
        "        except ConnectionError:\n"
        "            r.delete(name)\n"
        "            raise\n"
        "        return message_id\n",
    ],
)


def test_send_once_checks_the_wrong_arguments_and_blanks(shared_course: Path) -> None:
    result = submit_send_once("def send_once(email, thought):\n    return None\n")
    assert result.kind == "incorrect" and "(email, thought, key)" in result.message
    assert submit_send_once("def send_once(email, thought, key):\n    ____\n").kind == "not_attempted"
    assert ex_send_once.check(____).kind == "not_attempted"


TABLES = [REQUEUE, OPTIONS, SEND_ONCE]
test_requirements_table = table_test(TABLES)
