"""The checks of 04_dashboard, against real effects: jobs that really failed on a real worker, the real registries,
the real mail catcher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job

from support import dashboard
from support.checks._dashboard_mount import verify_mounted
from support.checks.dashboard import (
    CHECK_QUEUE,
    REFERENCE_DRAW,
    ex_mount,
    ex_requeue,
    ex_summary,
    summary_reference,
)
from support.exercises import Incorrect, ____
from support.jobs import send_gif_email
from support.rq_helpers import job_watch, queues, workers
from support.services import app, inbox, mailcatcher, processes
from support.services.processes import Service
from support.workit import routes_loader


def _fail_one_job_on(queue_name: str = "mailers") -> Job:
    """A job that really fails (its thought is missing), run by a real burst worker."""
    job = queues.queue(queue_name).enqueue(send_gif_email, "nobody@example.com")
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert processes.wait_until(lambda: not service.alive(), 15, 0.05)
    assert job_watch.status(job) == "failed"
    return job


# --- Exercise 1: rq-dashboard mounted inside Work-It at /rq ---------------------------------------------------

ROUTES_HEAD = "import rq_dashboard\nfrom flask import Flask\n\n\n"
REFERENCE = ROUTES_HEAD + REFERENCE_DRAW


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


def test_mount_reference_is_correct(workit: Service, tmp_path: Path) -> None:
    result = ex_mount.check(_routes(tmp_path, REFERENCE_DRAW))
    assert result.correct, result


def test_mount_as_the_readme_writes_it_is_correct(workit: Service, tmp_path: Path) -> None:
    body = (
        "def draw(app):\n"
        "    app.config.from_object(rq_dashboard.default_settings)\n"
        "    app.config.from_mapping(RQ_DASHBOARD_REDIS_URL=[app.config['REDIS_URL']])\n"
        "    rq_dashboard.web.setup_rq_connection(app)\n"
        "    app.register_blueprint(rq_dashboard.blueprint, url_prefix='/rq/')\n"
    )
    assert ex_mount.check(_routes(tmp_path, body)).correct


def test_mount_with_the_url_from_the_environment_style_is_correct(workit: Service, tmp_path: Path) -> None:
    body = (
        "from rq_dashboard.web import blueprint, setup_rq_connection\n\n"
        "def draw(app):\n"
        "    url = app.config.get('REDIS_URL')\n"
        "    app.config.update({'RQ_DASHBOARD_REDIS_URL': url})\n"
        "    setup_rq_connection(app)\n"
        "    app.register_blueprint(blueprint, url_prefix='/rq')\n"
    )
    assert ex_mount.check(_routes(tmp_path, body)).correct


def test_mounted_at_dashboard_is_incorrect(workit: Service, tmp_path: Path) -> None:
    result = ex_mount.check(_routes(tmp_path, REFERENCE_DRAW.replace('"/rq"', '"/dashboard"')))
    assert not result.correct and "mounted at /dashboard, not at /rq" in result.message, result


def test_registered_on_a_separate_app_is_incorrect(workit: Service, tmp_path: Path) -> None:
    body = (
        "from werkzeug.middleware.dispatcher import DispatcherMiddleware\n\n"
        "def draw(app):\n"
        "    dash = Flask('dash')\n"
        "    dash.config['RQ_DASHBOARD_REDIS_URL'] = app.config['REDIS_URL']\n"
        "    rq_dashboard.web.setup_rq_connection(dash)\n"
        "    dash.register_blueprint(rq_dashboard.blueprint)\n"
        "    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {'/rq': dash})\n"
    )
    result = ex_mount.check(_routes(tmp_path, body))
    assert not result.correct and "no rq_dashboard blueprint" in result.message, result


def test_pointed_at_another_redis_is_incorrect(workit: Service, tmp_path: Path) -> None:
    body = REFERENCE_DRAW.replace(
        'app.config["REDIS_URL"]', 'app.config["REDIS_URL"].rsplit("/", 1)[0] + "/5"'
    )  # the same server, another database: none of the course's queues
    result = ex_mount.check(_routes(tmp_path, body))
    assert not result.correct and "it reads another Redis" in result.message, result


def test_served_without_the_key_is_incorrect(shared_course: Path, tmp_path: Path) -> None:
    """The one way /rq answers without the key: served outside Work-It's guard (here Work-It's app and the routes,
    with the proxy prefix handled, and no guard)."""
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


def test_a_blueprint_without_its_redis_connection_is_incorrect(workit: Service, tmp_path: Path) -> None:
    body = "def draw(app):\n    app.register_blueprint(rq_dashboard.blueprint, url_prefix='/rq')\n"
    result = ex_mount.check(_routes(tmp_path, body))
    assert not result.correct and "setup_rq_connection(app)" in result.message, result


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


def test_summary_reference_is_correct(shared_course: Path) -> None:
    result = ex_summary.check(summary_reference)
    assert result.correct, result


def test_summary_written_with_len_and_job_ids_is_correct(shared_course: Path) -> None:
    def summary(q):  # len() of each registry, the queue's job ids
        names = ("started", "finished", "failed", "deferred", "scheduled")
        counts = {name: len(getattr(q, f"{name}_job_registry")) for name in names}
        counts["queued"] = len(q.get_job_ids())
        return counts

    assert ex_summary.check(summary).correct


def test_summary_built_from_registry_classes_is_correct(shared_course: Path) -> None:
    from rq.registry import (
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )

    def summary(queue):
        def n(cls):
            return cls(queue=queue).get_job_count()

        return dict(
            queued=len(queue),
            started=n(StartedJobRegistry),
            finished=n(FinishedJobRegistry),
            failed=n(FailedJobRegistry),
            deferred=n(DeferredJobRegistry),
            scheduled=n(ScheduledJobRegistry),
        )

    assert ex_summary.check(summary).correct


def test_summary_missing_a_state_is_incorrect(shared_course: Path) -> None:
    result = ex_summary.check(lambda queue: {k: v for k, v in summary_reference(queue).items() if k != "deferred"})
    assert not result.correct and "has no 'deferred'" in result.message, result


def test_summary_with_an_extra_key_is_incorrect(shared_course: Path) -> None:
    result = ex_summary.check(lambda queue: {**summary_reference(queue), "canceled": 0})
    assert not result.correct and "beyond the six states" in result.message, result


def test_summary_of_job_ids_instead_of_counts_is_incorrect(shared_course: Path) -> None:
    def summary(queue):
        return {**summary_reference(queue), "failed": queue.failed_job_registry.get_job_ids()}

    result = ex_summary.check(summary)
    assert not result.correct and "summary(queue)['failed'] is" in result.message, result


def test_summary_with_two_registries_swapped_is_incorrect(shared_course: Path) -> None:
    def summary(queue):
        counts = summary_reference(queue)
        return {**counts, "finished": counts["failed"], "failed": counts["finished"]}

    result = ex_summary.check(summary)
    assert not result.correct and "finished: 2, Redis holds 3; failed: 3, Redis holds 2" in result.message, result


def test_summary_of_mailers_whatever_the_queue_is_incorrect(shared_course: Path) -> None:
    result = ex_summary.check(lambda queue: summary_reference(queues.queue("mailers")))
    assert not result.correct and "summarise the queue it is given" in result.message, result


def test_summary_blank_is_not_attempted_and_the_check_leaves_nothing_behind(shared_course: Path) -> None:
    def summary(queue):
        ____

    assert ex_summary.check(summary).kind in ("not_attempted", "incorrect")
    assert ex_summary.check(____).kind == "not_attempted"
    assert CHECK_QUEUE not in [q.name for q in Queue.all(connection=queues.connection())]
    assert ex_summary.use(____) is summary_reference


# --- Exercise 3: requeue the failed job ------------------------------------------------------------------------


@pytest.fixture
def down_job(shared_course: Path) -> Iterator[Job]:
    """A job that failed because the mail catcher was down; the catcher is up again and a worker is running."""
    mailcatcher.stop()
    job = queues.queue("mailers").enqueue(send_gif_email, "ada@example.com", "Is the mail server up?", delay=0)
    worker = workers.start_worker(simple=True, with_scheduler=False)
    assert job_watch.wait_for_status(job, "failed") == "failed"
    assert "ConnectionError" in dashboard.snapshot()["failed"][0]["error"]
    mailcatcher.start()
    yield job
    workers.stop_worker(worker)


def test_requeue_reference_is_correct(down_job: Job) -> None:
    requeued = dashboard.requeue_failed(down_job.id)
    result = ex_requeue.check(requeued)
    assert result.correct, result
    assert job_watch.status(down_job) == "finished"
    assert len(inbox.to_address("ada@example.com")) == 1


def test_requeue_through_the_registry_by_id_is_correct(down_job: Job) -> None:
    queues.queue("mailers").failed_job_registry.requeue(down_job.id)
    assert ex_requeue.check(down_job.id).correct


def test_enqueueing_a_new_copy_is_incorrect(down_job: Job) -> None:
    copy = queues.queue("mailers").enqueue(send_gif_email, "ada@example.com", "Is the mail server up?", delay=0)
    result = ex_requeue.check(copy)
    assert result.kind == "incorrect"
    assert "never failed: it looks like a new job you enqueued" in result.message


@pytest.mark.slow
def test_a_job_left_in_the_failed_registry_is_incorrect(down_job: Job) -> None:
    result = ex_requeue.check(down_job)
    assert result.kind == "incorrect" and "still in the failed-job registry" in result.message


def test_a_deleted_job_is_incorrect(down_job: Job) -> None:
    dashboard.delete_failed(down_job.id)
    result = ex_requeue.check(down_job.id)
    assert result.kind == "incorrect" and "it was deleted" in result.message


def test_requeue_blank_is_not_attempted_and_use_requeues_it(down_job: Job) -> None:
    assert ex_requeue.check(____).kind == "not_attempted"
    job = ex_requeue.use(____, down_job, quiet=True)
    assert job.id == down_job.id
    assert job_watch.wait_for_status(job, "finished") == "finished"
    assert len(inbox.wait_for(1, match=lambda m: "ada@example.com" in m.to)) == 1


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


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


def test_requeue_through_the_registry_returning_the_job_is_correct(down_job: Job) -> None:
    requeued = queues.queue("mailers").failed_job_registry.requeue(down_job.id)
    assert ex_requeue.check(requeued).correct
