"""The Work-It app running a controller file (notebook 03's Exercise 5), against a real app, Redis, mail catcher and
worker; and what the exercise's requirements table (tests/test_checks_jobs.py) does not say of its check: a blank or
unchanged file, the fallback, a worker taking the check's own job."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.job import Job

from support.checks import controller as controller_check
from support.checks.controller import REFERENCE_CONTROLLER, ex_controller
from support.rq_helpers import queues, workers
from support.services import app, course, inbox
from support.workit.controller import TEMPLATE

INLINE = "    return deliver(email, thought)  # inline: the request waits for the slow mailer"
JOB_MODULE = """from support.active_job import ActiveJob
from support.workit.mailer import deliver


class GifSenderJob(ActiveJob):
    queue_as = "mailers"

    def perform(self, email, thought):
        deliver(email, thought)
"""


def controller(folder: Path, line: str, imports: str = "from gif_sender_job import GifSenderJob") -> Path:
    """The template with its inline line replaced by `line` (and its job import by `imports`)."""
    path = folder / "mailers_controller.py"
    text = TEMPLATE.replace(INLINE, line).replace("from gif_sender_job import GifSenderJob", imports)
    path.write_text(text)
    return path


@pytest.fixture
def folder(shared_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notebook folder holding a correct gif_sender_job.py (Exercise 1), as the working directory."""
    notebook = tmp_path / "notebook"
    notebook.mkdir()
    (notebook / "gif_sender_job.py").write_text(JOB_MODULE)
    monkeypatch.chdir(notebook)
    monkeypatch.syspath_prepend(str(notebook))
    monkeypatch.setenv("WORKIT_DELAY", "0")  # for the worker in this process
    return notebook


def _to(address: str):
    return lambda m: address in m.to


# --- the app and its controller ----------------------------------------------------------------------------------


def test_the_app_runs_the_controller_and_takes_each_edit_without_a_restart(folder: Path) -> None:
    path = controller(folder, INLINE)
    service = course.up("redis", "app", delivery="controller", controller=path, delay=0.3, quiet=True)["app"]
    sent = app.post_thought("inline@example.com", "sent in the request")
    assert sent["status"] == 200 and sent["job_id"] is None and sent["seconds"] >= 0.3
    assert "We sent a GIF" in sent["message"] and len(inbox.wait_for(1, match=_to("inline@example.com"))) == 1

    controller(folder, "    return GifSenderJob.perform_later(email, thought)")
    queued = app.post_thought("later@example.com", "sent by a worker")
    assert queued["status"] == 200 and "on its way" in queued["message"]
    job = Job.fetch(queued["job_id"], connection=queues.connection())
    assert (job.func_name, job.args[0], list(job.args[1]), job.origin) == (
        "support.active_job.perform_job",
        "gif_sender_job:GifSenderJob",
        ["later@example.com", "sent by a worker"],
        "mailers",
    )
    assert inbox.to_address("later@example.com") == []  # queued, not sent: no worker yet
    SimpleWorker([queues.queue("mailers")], connection=queues.connection()).work(burst=True)
    assert len(inbox.wait_for(1, match=_to("later@example.com"))) == 1
    assert app.status().pid == service.pid  # the same process all along


def test_a_broken_controller_gets_a_clear_error_and_the_app_lives_on(folder: Path) -> None:
    path = controller(folder, "    return GifSenderJob.perform_later(email, thought")
    course.up("redis", "app", delivery="controller", controller=path, delay=0.3, quiet=True)
    syntax = app.post_thought("a@example.com", "broken")
    assert syntax["status"] == 500
    assert syntax["error"] == ("mailers_controller.py could not be loaded: SyntaxError: '(' was never closed (line 8)")
    controller(folder, "    return GifSenderJob.perform_latr(email, thought)")
    typo = app.post_thought("a@example.com", "a typo")
    assert typo["status"] == 500 and typo["error"].startswith("mailers_controller.py raised AttributeError")
    assert typo["error"].endswith("(line 8)")
    controller(folder, "    return GifSenderJob.perform_later(email, thought)")
    assert app.post_thought("a@example.com", "fixed")["job_id"]  # the same app, still serving


def test_the_app_refuses_a_controller_without_its_mode() -> None:
    with pytest.raises(ValueError, match="controller"):
        app.start(delivery="controller")
    with pytest.raises(ValueError, match="controller"):
        app.start(delivery="background", controller="mailers_controller.py")


# --- Exercise 5's check -------------------------------------------------------------------------------------------


def test_the_right_answer_passes_and_use_goes_on_with_it(folder: Path) -> None:
    path = controller(folder, "    return GifSenderJob.perform_later(email, thought)")
    result = ex_controller.check(str(path))
    assert result.correct, result.message
    assert result.message.startswith("The app queued your GifSenderJob on mailers and answered in")
    assert ex_controller.use(str(path)) == path
    assert sum(q.count for q in queues.all_queues()) == 0  # the check's own jobs, not taken by a worker, are gone


@pytest.mark.slow
def test_a_worker_taking_the_checks_job_does_not_hide_an_email_sent_in_the_request(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a worker running (as in the notebook), the check's job may be taken and sent at once: the worker's email
    is allowed, the request's own is not; the check's jobs it deletes are never half-taken by the worker (a job hash
    a worker wrote to after its deletion broke the next check). (The requirements table runs it without a worker.)"""
    monkeypatch.setattr(controller_check, "APP_DELAY", 1.0)
    workers.start_worker(["mailers"], path=folder, with_scheduler=False)
    path = controller(folder, "    return GifSenderJob.perform_later(email, thought)")
    for _ in range(2):  # as the notebook does: check, then use() checks again, while the worker sends the first
        right = ex_controller.check(str(path))
        assert right.correct, right.message
    both = controller(folder, "    deliver(email, thought)\n    return GifSenderJob.perform_later(email, thought)")
    result = ex_controller.check(str(both))
    assert result.kind == "incorrect" and "Instead of sending, queue the job" in result.message


@pytest.mark.parametrize("state", ["blank", "missing", "unchanged"])
def test_not_attempted(folder: Path, state: str) -> None:
    from support.exercises import ____

    if state == "unchanged":
        controller(folder, INLINE)
    value = ____ if state == "blank" else "mailers_controller.py"
    result = ex_controller.check(value)
    assert result.kind == "not_attempted", result.message
    if state == "unchanged":
        assert "still sends the email inside the request" in result.message


def test_use_falls_back_to_a_reference_controller_that_queues_the_learners_job(folder: Path) -> None:
    controller(folder, INLINE)
    fallback = ex_controller.use("mailers_controller.py")
    assert fallback == folder / REFERENCE_CONTROLLER
    course.up("redis", "app", delivery="controller", controller=fallback, delay=0.3, quiet=True)
    answer = app.post_thought("ref@example.com", "the reference controller")
    job = Job.fetch(answer["job_id"], connection=queues.connection())
    assert job.args[0] == "gif_sender_job:GifSenderJob"  # the learner's own job class, theirs passes Exercise 1


def test_the_learner_edition_writes_the_controller_the_app_had_in_01() -> None:
    """The notebook's %%writefile cell and the check's idea of an unchanged file are the same text."""
    import nbformat

    root = Path(__file__).resolve().parent.parent
    cell = next(
        c
        for c in nbformat.read(root / "notebooks" / "03_jobs.ipynb", as_version=4).cells
        if c.source.startswith("%%writefile mailers_controller.py")
    )
    assert cell.source.split("\n", 1)[1].rstrip() == TEMPLATE.rstrip()
