"""The checks of 04_dashboard, against real effects: Work-It drawing a real routes file, queues filled by a real
worker, jobs that really failed, the real mail catcher. Each exercise's requirements are a table
(``tests/exercise_table.py``); the tests after the tables test what the tables do not (fallbacks, blanks, the check's
own set-up)."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from exercise_table import Requirement, Table, define, table_test
from rq import Queue
from rq.job import Job

from support import dashboard
from support.checks._dashboard_mount import verify_mounted
from support.checks.dashboard import (
    CHECK_QUEUE,
    OTHER_QUEUE,
    REFERENCE_DRAW,
    ex_mount,
    ex_requeue,
    ex_summary,
    summary_reference,
)
from support.exercises import Incorrect, Result, ____
from support.jobs import send_gif_email
from support.rq_helpers import job_watch, queues, workers
from support.services import app, inbox, mailcatcher, state
from support.services.processes import Service
from support.workit import routes_loader

# --- Exercise 1: rq-dashboard mounted inside Work-It at /rq ---------------------------------------------------

# The head of the notebook's %%writefile cell: what stands in routes.py above draw(app).
ROUTES_HEAD = (
    '"""Work-It\'s routes (Rails: config/routes.rb): what the app serves besides its form."""\n'
    "import rq_dashboard\n\n\n"
)
ANSWERS = "routes-answers"  # the folder in the state folder where submit writes each answer's routes.py


def setup_mount() -> None:
    """Work-It running (background delivery), as the notebook's first cell starts it."""
    app.start(delivery="background")


def submit_mount(source: str) -> Result:
    """Write `source` as the notebook's cell writes routes.py (in a folder of its own, so Work-It sees a new file),
    check it as the notebook does, then have Work-It forget it."""
    answers = state.home() / ANSWERS
    shutil.rmtree(answers, ignore_errors=True)
    path = answers / uuid.uuid4().hex[:8] / "routes.py"
    path.parent.mkdir(parents=True)
    path.write_text(ROUTES_HEAD + source, encoding="utf-8")
    try:
        return ex_mount.check(str(path))
    finally:
        routes_loader.forget()


MOUNT = Table(
    exercise=ex_mount,
    submit=submit_mount,
    setup=setup_mount,
    equivalent={
        # rq-dashboard 0.9.0's setup_rq_connection first runs legacy_config.upgrade_config, which copies the older
        # setting REDIS_URL into RQ_DASHBOARD_REDIS_URL when that is not set (with a deprecation warning): Work-It's
        # app.config["REDIS_URL"] is the course's Redis, so without the line the dashboard reads the same Redis.
        "L2 Delete Assign": "rq-dashboard falls back to app.config['REDIS_URL'] (legacy_config.upgrade_config)",
        "L2 Constant 'RQ_DASHBOARD_REDIS_URL'->''": "the setting left unset: the same fallback to REDIS_URL",
        "L2 Constant 'RQ_DASHBOARD_REDIS_URL'->'RQ_DASHBOARD_REDIS_...'": "unset: the same fallback to REDIS_URL",
        "L2 Constant 'RQ_DASHBOARD_REDIS_URL'->None": "the setting left unset: the same fallback to REDIS_URL",
        # setup_rq_connection only sets app.redis_conn from the setting: a second call sets the same connection
        "L3 Twice call": "setup_rq_connection sets app.redis_conn again, to the same Redis",
    },
    requirements=[
        Requirement(
            "rq-dashboard's blueprint is registered on the app that draw receives (Work-It's own app, not an app of "
            "yours)",
            "from flask import Flask\n"
            "from werkzeug.middleware.dispatcher import DispatcherMiddleware\n\n"
            "def draw(app):\n"
            "    dash = Flask('dash')\n"
            "    dash.config['RQ_DASHBOARD_REDIS_URL'] = app.config['REDIS_URL']\n"
            "    rq_dashboard.web.setup_rq_connection(dash)\n"
            "    dash.register_blueprint(rq_dashboard.blueprint)\n"
            "    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {'/rq': dash})\n",
            "on the app that draw(app) receives",
        ),
        Requirement(
            "it is mounted at /rq exactly",
            REFERENCE_DRAW.replace('"/rq"', '"/dashboard"'),
            "not at /rq",
        ),
        Requirement(
            "it is mounted at /rq exactly",
            REFERENCE_DRAW.replace(', url_prefix="/rq"', ""),
            "not at /rq",
        ),
        Requirement(
            'it reads the course\'s Redis: Work-It keeps its address, password included, in app.config["REDIS_URL"]',
            # the same server, another database: none of the course's queues
            REFERENCE_DRAW.replace('app.config["REDIS_URL"]', 'app.config["REDIS_URL"].rsplit("/", 1)[0] + "/5"'),
            "course's Redis",
        ),
        Requirement(
            'it reads the course\'s Redis: Work-It keeps its address, password included, in app.config["REDIS_URL"]',
            REFERENCE_DRAW.replace('app.config["REDIS_URL"]', '"redis://127.0.0.1:6379/0"'),  # Redis's default
            "course's Redis",
        ),
        Requirement(
            'setup_rq_connection connects to the Redis named in app.config["RQ_DASHBOARD_REDIS_URL"]',
            "def draw(app):\n    app.register_blueprint(rq_dashboard.blueprint, url_prefix='/rq')\n",
            "setup_rq_connection(app)",
        ),
    ],
    right=[
        # as rq-dashboard's README writes it: its default settings, the URL in a list, a trailing slash
        "def draw(app):\n"
        "    app.config.from_object(rq_dashboard.default_settings)\n"
        "    app.config.from_mapping(RQ_DASHBOARD_REDIS_URL=[app.config['REDIS_URL']])\n"
        "    rq_dashboard.web.setup_rq_connection(app)\n"
        "    app.register_blueprint(rq_dashboard.blueprint, url_prefix='/rq/')\n",
        # imported by name, config.update, get
        "from rq_dashboard.web import blueprint, setup_rq_connection\n\n"
        "def draw(app):\n"
        "    url = app.config.get('REDIS_URL')\n"
        "    app.config.update({'RQ_DASHBOARD_REDIS_URL': url})\n"
        "    setup_rq_connection(app)\n"
        "    app.register_blueprint(blueprint, url_prefix='/rq')\n",
    ],
)


@pytest.fixture
def workit(shared_course: Path) -> Iterator[Service]:
    """Work-It running (background delivery), drawing no routes file until a check records one."""
    routes_loader.forget()
    service = app.start(delivery="background")
    yield service
    routes_loader.forget()
    app.stop()


def _routes(tmp_path: Path, body: str) -> str:
    path = tmp_path / "routes.py"
    path.write_text(ROUTES_HEAD + body, encoding="utf-8")
    return str(path)


def test_served_without_the_key_is_incorrect(shared_course: Path, tmp_path: Path) -> None:
    """The one way /rq answers without the key: served outside Work-It's guard (here Work-It's app and the routes,
    with the proxy prefix handled, and no guard). No routes file can do it: Work-It's guard wraps whatever draw
    registers."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.serving import make_server

    from support.workit.web import create_app

    routes_loader.use(_routes(tmp_path, REFERENCE_DRAW))
    unguarded = ProxyFix(routes_loader.RoutedApp(lambda: create_app("background", 0)), x_prefix=1)
    server = make_server("127.0.0.1", 0, unguarded, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(Incorrect, match="without the course's key: it should be 403"):
            verify_mounted(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        routes_loader.forget()


def test_a_broken_routes_file_shows_its_error_and_work_it_goes_on(workit: Service, tmp_path: Path) -> None:
    result = ex_mount.check(_routes(tmp_path, "def draw(app):\n    app.register_blueprint(rq_dashbord.blueprint)\n"))
    assert not result.correct and "NameError" in result.message and "line 6" in result.message, result
    assert app.post_thought("ada@example.com", "Still up?")["status"] == 200  # the form still works


def test_mount_blank_is_not_attempted_and_use_draws_the_reference(workit: Service, tmp_path: Path) -> None:
    path = _routes(tmp_path, "def draw(app):\n    ____\n")
    assert ex_mount.check(path).kind == "not_attempted"
    assert ex_mount.check(____).kind in ("not_attempted", "incorrect")
    used = ex_mount.use(path, path)
    assert used.name == "routes_reference.py"
    assert ex_mount.check(str(used)).correct


# --- Exercise 2: one queue's summary ---------------------------------------------------------------------------


def notebook_names() -> dict[str, Any]:
    """What 04 has defined by its exercises: the first cell's imports (and mailers)."""
    import time

    from rq import defaults

    from support.services import course

    return {
        "time": time,
        "defaults": defaults,
        "dashboard": dashboard,
        "ex_mount": ex_mount,
        "ex_requeue": ex_requeue,
        "ex_summary": ex_summary,
        "____": ____,
        "send_gif_email": send_gif_email,
        "job_watch": job_watch,
        "queues": queues,
        "workers": workers,
        "course": course,
        "inbox": inbox,
        "mailcatcher": mailcatcher,
        "mailers": queues.queue("mailers"),
    }


def submit_summary(source: str) -> Result:
    return ex_summary.check(define(source, "summary", notebook_names()))


REFERENCE_SUMMARY = ex_summary.solution_code


def _summary_with(line: str, new: str) -> str:
    """The reference summary with one line replaced."""
    assert line in REFERENCE_SUMMARY, line
    return REFERENCE_SUMMARY.replace(line, new)


SUMMARY = Table(
    exercise=ex_summary,
    submit=submit_summary,
    requirements=[
        Requirement(
            "has the six keys queued, started, finished, failed, deferred and scheduled, and no others",
            _summary_with('        "deferred": queue.deferred_job_registry.count,\n', ""),
            "give all six states",
        ),
        Requirement(
            "has the six keys queued, started, finished, failed, deferred and scheduled, and no others",
            _summary_with('"queued": queue.count,', '"queued": queue.count, "canceled": 0,'),
            "keys beyond the six states",
        ),
        Requirement(
            "holds a count (an int) for each",
            _summary_with("queue.failed_job_registry.count", "queue.failed_job_registry.get_job_ids()"),
            "it should be a count (an int)",
        ),
        Requirement(  # two registries swapped
            "takes each count from RQ",
            _summary_with("queue.finished_job_registry.count", "queue.failed_job_registry.count").replace(
                '"failed": queue.failed_job_registry.count', '"failed": queue.finished_job_registry.count'
            ),
            "take each count from RQ",
        ),
        Requirement(  # "started" as the workers busy on the queue
            "takes each count from RQ",
            "from rq import Worker\n\n"
            + _summary_with(
                "queue.started_job_registry.count",
                "sum(w.get_state() == 'busy' for w in Worker.all(queue=queue))",
            ),
            "take each count from RQ",
        ),
        Requirement(  # "queued" as every job of the queue, waiting or not
            "takes each count from RQ",
            _summary_with(
                "queue.count,", "queue.count + queue.deferred_job_registry.count + queue.scheduled_job_registry.count,"
            ),
            "take each count from RQ",
        ),
        Requirement(
            "describes the queue it is given, whatever its name",
            "def summary(queue):\n"
            "    mailers = queues.queue('mailers')\n"
            "    return {'queued': mailers.count, 'started': mailers.started_job_registry.count,\n"
            "            'finished': mailers.finished_job_registry.count,\n"
            "            'failed': mailers.failed_job_registry.count,\n"
            "            'deferred': mailers.deferred_job_registry.count,\n"
            "            'scheduled': mailers.scheduled_job_registry.count}\n",
            "describe the queue it is given",
        ),
        Requirement(  # every queue of Redis added up
            "describes the queue it is given, whatever its name",
            "from rq import Queue\n\n"
            "def summary(queue):\n"
            "    counts = dict.fromkeys(['queued', 'started', 'finished', 'failed', 'deferred', 'scheduled'], 0)\n"
            "    for q in Queue.all(connection=queue.connection):\n"
            "        counts['queued'] += q.count\n"
            "        for state in ['started', 'finished', 'failed', 'deferred', 'scheduled']:\n"
            "            counts[state] += getattr(q, state + '_job_registry').count\n"
            "    return counts\n",
            "describe the queue it is given",
        ),
        Requirement(  # a constant: the counts the learner once saw
            "describes the queue it is given, whatever its name",
            "def summary(queue):\n"
            "    return {'queued': 4, 'started': 1, 'finished': 3, 'failed': 2, 'deferred': 6, 'scheduled': 5}\n",
            "describe the queue it is given",
        ),
    ],
    right=[
        # len() of each registry, the queue's job ids, built in a loop
        "def summary(q):\n"
        "    names = ('started', 'finished', 'failed', 'deferred', 'scheduled')\n"
        "    counts = {name: len(getattr(q, f'{name}_job_registry')) for name in names}\n"
        "    counts['queued'] = len(q.get_job_ids())\n"
        "    return counts\n",
        # the registry classes, get_job_count, dict(...)
        "from rq.registry import (DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry,\n"
        "                         ScheduledJobRegistry, StartedJobRegistry)\n\n"
        "def summary(queue):\n"
        "    def n(cls):\n"
        "        return cls(queue=queue).get_job_count()\n\n"
        "    return dict(queued=len(queue), started=n(StartedJobRegistry), finished=n(FinishedJobRegistry),\n"
        "                failed=n(FailedJobRegistry), deferred=n(DeferredJobRegistry),\n"
        "                scheduled=n(ScheduledJobRegistry))\n",
    ],
)


def test_summary_blank_is_not_attempted_and_the_check_leaves_nothing_behind(shared_course: Path) -> None:
    def summary(queue):
        ____

    assert ex_summary.check(summary).kind in ("not_attempted", "incorrect")
    assert ex_summary.check(____).kind == "not_attempted"
    left = [q.name for q in Queue.all(connection=queues.connection())]
    assert CHECK_QUEUE not in left and OTHER_QUEUE not in left
    assert ex_summary.use(____) is summary_reference


def test_summary_says_when_the_check_cannot_fill_its_queues(shared_course: Path, monkeypatch) -> None:
    from support.checks import _dashboard_filled_queue

    monkeypatch.setattr(_dashboard_filled_queue.holds, "wait_until_reached", lambda *a, **k: False)
    result = ex_summary.check(summary_reference)
    assert result.kind == "incorrect" and result.message.startswith("The check could not fill its queues"), result


# --- Exercise 3: requeue the failed job ------------------------------------------------------------------------


def setup_requeue() -> None:
    """A worker on the course's queues, as the notebook's batch left it running."""
    if not workers.running_workers():
        workers.start_worker(simple=True, with_scheduler=False)


def failed_while_down(address: str) -> Job:
    """A job that failed because the mail catcher was down; the catcher is up again (section 6 of 04, without its
    0.4 s stand-in for a slow mail server)."""
    mailcatcher.stop()
    try:
        job = queues.queue("mailers").enqueue(send_gif_email, address, "Is the mail server up?", delay=0)
        assert job_watch.wait_for_status(job, "failed") == "failed"
    finally:
        mailcatcher.start()
    return job


def submit_requeue(source: str) -> Result:
    """A fresh `down_job` (an address of its own) and, beside it, a job that failed for a reason of its own (its
    thought missing, as 04's eighth email), which must stay failed; run `source` as the notebook's cell, then check
    `requeued` as the next cell does."""
    marker = uuid.uuid4().hex[:8]
    mailers = queues.queue("mailers")
    broken = mailers.enqueue(send_gif_email, f"reader8-{marker}@example.com")  # a bug: no thought
    assert job_watch.wait_for_status(broken, "failed") == "failed"
    down_job = failed_while_down(f"ada-{marker}@example.com")
    space = {**notebook_names(), "mailers": mailers, "down_job": down_job}
    exec(compile(source, "<answer requeued>", "exec"), space)
    return ex_requeue.check(space.get("requeued", ____))


REQUEUE = Table(
    exercise=ex_requeue,
    submit=submit_requeue,
    setup=setup_requeue,
    reference="requeued = dashboard.requeue_failed(down_job.id)\n",
    requirements=[
        Requirement(  # looked at, not requeued
            "requeue down_job",
            "requeued = down_job\n",
            "nothing has requeued it",
        ),
        Requirement(  # put back on the queue, left in the failed registry
            "requeue down_job",
            "requeued = mailers.enqueue_job(down_job)\n",
            "still in the failed-job registry",
        ),
        Requirement(
            "requeue down_job itself (the same job, with its id, not a new copy)",
            "requeued = mailers.enqueue(send_gif_email, *down_job.args, **down_job.kwargs)\n",
            "new job you enqueued",
        ),
        Requirement(  # requeued, and a copy enqueued besides
            "requeue down_job itself (the same job, with its id, not a new copy)",
            "requeued = dashboard.requeue_failed(down_job.id)\n"
            "mailers.enqueue(send_gif_email, *down_job.args, **down_job.kwargs)\n",
            "enqueue nothing new",
        ),
        Requirement(
            "requeue down_job itself (the same job, with its id, not a new copy)",
            "dashboard.delete_failed(down_job.id)\nrequeued = down_job.id\n",
            "it was deleted",
        ),
        Requirement(
            "and only it",
            "dashboard.requeue_all_failed()\nrequeued = down_job\n",
            "requeue down_job only",
        ),
        Requirement(  # requeued, and sent once more from the notebook
            "its email arrived, once",
            "requeued = dashboard.requeue_failed(down_job.id)\nsend_gif_email(*down_job.args, **down_job.kwargs)\n",
            "the reader wants it once",
        ),
    ],
    right=[
        "requeued = down_job.requeue()\n",
        "mailers.failed_job_registry.requeue(down_job)\nrequeued = down_job.id\n",
    ],
)


@pytest.fixture
def down_job(shared_course: Path) -> Iterator[Job]:
    """A job that failed because the mail catcher was down; the catcher is up again and a worker is running."""
    worker = workers.start_worker(simple=True, with_scheduler=False)
    job = failed_while_down("ada@example.com")
    assert "ConnectionError" in dashboard.snapshot()["failed"][0]["error"]
    yield job
    workers.stop_worker(worker)


def test_requeue_blank_is_not_attempted_and_use_requeues_it(down_job: Job) -> None:
    assert ex_requeue.check(____).kind == "not_attempted"
    job = ex_requeue.use(____, down_job, quiet=True)
    assert job.id == down_job.id
    assert job_watch.wait_for_status(job, "finished") == "finished"
    assert len(inbox.wait_for(1, match=lambda m: "ada@example.com" in m.to)) == 1


def test_a_requeued_job_that_fails_again_is_incorrect(down_job: Job) -> None:
    mailcatcher.stop()  # the mail server is down again
    requeued = dashboard.requeue_failed(down_job.id)
    result = ex_requeue.check(requeued)
    assert result.kind == "incorrect"
    assert "The job ran again and failed again" in result.message and "mailcatcher.start()" in result.message


def test_a_requeued_job_that_already_failed_again_when_checked_is_incorrect_for_that_reason(down_job: Job) -> None:
    # On a fast machine (or a slow check) the worker fails the requeued job again before the check looks: it is
    # back in the failed registry, but it was requeued: the message must say it failed again, not "not requeued".
    mailcatcher.stop()
    requeued = dashboard.requeue_failed(down_job.id)
    assert job_watch.wait_for_status(requeued, "failed") == "failed"
    assert queues.queue("mailers").failed_job_registry.get_job_ids() == [down_job.id]
    result = ex_requeue.check(requeued)
    assert result.kind == "incorrect"
    assert "The job ran again and failed again" in result.message and "mailcatcher.start()" in result.message


def test_an_earlier_run_of_the_notebook_does_not_count_against_the_requeue(down_job: Job) -> None:
    """The same address got its email in an earlier run of 04: only the emails since this job failed count."""
    earlier = dashboard.requeue_failed(down_job.id)
    assert job_watch.wait_for_status(earlier, "finished") == "finished"
    inbox.wait_for(1, match=lambda m: "ada@example.com" in m.to)
    again = failed_while_down("ada@example.com")  # the notebook run a second time: a new down_job
    result = ex_requeue.check(dashboard.requeue_failed(again.id))
    assert result.correct, result
    assert len(inbox.to_address("ada@example.com")) == 2


@pytest.mark.parametrize("dequeue", ["lpop", "lmove"])
def test_another_failed_job_a_worker_is_taking_counts_as_requeued_too(shared_course: Path, dequeue: str) -> None:
    """CI once passed `requeue_all_failed()` because the check looked while a worker was taking the other failed job.
    A worker on several queues takes it with BLPOP (then it is in no list until the started registry), a worker on
    one queue with LMOVE into the queue's intermediate list (rq 3.0.0 `Queue.dequeue_any`). Here the job stays taken
    (no worker runs to move it on), and the check must still see it."""
    worker = workers.start_worker(simple=True, with_scheduler=False)
    mailers = queues.queue("mailers")
    try:
        broken = mailers.enqueue(send_gif_email, f"reader8-{uuid.uuid4().hex[:8]}@example.com")  # no thought
        assert job_watch.wait_for_status(broken, "failed") == "failed"
        down_job = failed_while_down(f"ada-{uuid.uuid4().hex[:8]}@example.com")
    finally:
        workers.stop_worker(worker)
    conn = queues.connection()
    mailers.failed_job_registry.requeue(broken.id)
    taken = conn.lpop(mailers.key) if dequeue == "lpop" else conn.lmove(mailers.key, mailers.intermediate_queue_key)
    assert taken == broken.id.encode()
    try:
        dashboard.requeue_failed(down_job.id)
        result = ex_requeue.check(down_job.id)
        assert result.kind == "incorrect" and "requeue down_job only" in result.message, result
        assert broken.id in result.message
    finally:
        conn.lrem(mailers.intermediate_queue_key, 0, broken.id)
        for job in (broken, down_job):
            job.delete()


TABLES = [MOUNT, SUMMARY, REQUEUE]
test_requirements_table = table_test(TABLES)
