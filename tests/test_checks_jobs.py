"""The checks of 03_jobs, called as the notebook calls them: on real module files, real jobs in the course's Redis,
a real worker process and the real mail catcher.

The job module under test is the notebook's own ``%%writefile gif_sender_job.py`` cell: its instructor version
(the reference) and its learner version (the blanks), made by the same tool that makes the learner edition.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from rq.job import Job

from support import active_job
from support.active_job import ActiveJob
from support.checks import jobs as checks
from support.checks.jobs import ex_route_urgent, ex_send_later, ex_write_job
from support.exercises import ____, load_module_from
from support.rq_helpers import queues, workers
from support.services import inbox, mailcatcher
from tools.solutions import strip_solutions

REPO_ROOT = Path(__file__).resolve().parent.parent


def writefile_cell(name: str) -> str:
    """The body of the instructor notebook's ``%%writefile name`` cell."""
    nb = json.loads((REPO_ROOT / "instructor" / "03_jobs.ipynb").read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"%%writefile {name}\n"):
            return source.split("\n", 1)[1]
    raise AssertionError(f"no %%writefile {name} cell in instructor/03_jobs.ipynb")


REFERENCE_MODULE = writefile_cell("gif_sender_job.py")
BLANK_MODULE = strip_solutions(REFERENCE_MODULE)


@pytest.fixture
def job_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder like the notebook's: job modules are written there and imported from there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("gif_sender_job", "quick_jobs"):
        sys.modules.pop(name, None)
    active_job.set_queue_adapter("rq")
    yield tmp_path
    for name in ("gif_sender_job", "quick_jobs"):
        sys.modules.pop(name, None)


def write_job(folder: Path, text: str) -> str:
    (folder / "gif_sender_job.py").write_text(text)
    return "gif_sender_job.py"


# --- Exercise 1: the job as a module file ---------------------------------------------------------------------


def test_write_job_reference_passes(job_dir: Path) -> None:
    result = ex_write_job.check(write_job(job_dir, REFERENCE_MODULE))
    assert result.kind == "correct", result
    assert "queue_as = 'mailers'" in result.message and "gif_sender_job:GifSenderJob" in result.message
    cls = ex_write_job.use("gif_sender_job.py")
    assert cls.__module__ == "gif_sender_job" and active_job.job_path(cls) == "gif_sender_job:GifSenderJob"


def test_write_job_with_the_arguments_swapped_is_incorrect(job_dir: Path) -> None:
    wrong = REFERENCE_MODULE.replace("def perform(self, email, thought):", "def perform(self, thought, email):")
    assert wrong != REFERENCE_MODULE
    result = ex_write_job.check(write_job(job_dir, wrong))
    assert result.kind == "incorrect"
    assert "perform takes (thought, email) after self" in result.message and "in that order" in result.message


def test_write_job_left_blank_is_not_attempted(job_dir: Path) -> None:
    assert "____" in BLANK_MODULE and "deliver(email, thought)" not in BLANK_MODULE
    result = ex_write_job.check(write_job(job_dir, BLANK_MODULE))
    assert result.kind == "not_attempted", result
    assert ex_write_job.check(____).kind == "not_attempted"
    assert ex_write_job.use("gif_sender_job.py", quiet=True) is checks.GifSenderJob  # the reference, to go on


@pytest.mark.parametrize(
    "change, message",
    [
        (('queue_as = "mailers"', 'queue_as = "mail"'), "queue_as is 'mail', which is not one of the course's queues"),
        (("def perform(self, email, thought):", "def perform(email, thought):"), "has no self"),
        (("class GifSenderJob(ActiveJob):", "class GifSenderJob:"), "not a subclass of ActiveJob"),
        (("class GifSenderJob(", "class GifSender("), "defines no class GifSenderJob (it defines GifSender)"),
        (("        deliver(email, thought)", "        pass"), "perform does not call anything yet"),
        (("def perform(self, email, thought):", "def perform(self, email, thought)"), "syntax error on line"),
    ],
)
def test_write_job_other_mistakes_say_what_is_wrong(job_dir: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in REFERENCE_MODULE
    result = ex_write_job.check(write_job(job_dir, REFERENCE_MODULE.replace(old, new)))
    assert result.kind == "incorrect" and message in result.message, result


def test_write_job_file_missing_is_incorrect(job_dir: Path) -> None:
    result = ex_write_job.check("gif_sender_job.py")
    assert result.kind == "incorrect" and "There is no file gif_sender_job.py yet" in result.message


# --- Exercise 2: one job through the urgent queue --------------------------------------------------------------


def test_route_urgent_reference_passes(shared_course: Path) -> None:
    job = checks.PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")
    result = ex_route_urgent.check(job)
    assert result.kind == "correct", result
    assert Job.fetch(job.id, connection=queues.connection()).origin == "urgent"
    assert queues.queue("urgent").job_ids == [job.id]


def test_route_urgent_on_the_class_queue_is_incorrect(shared_course: Path) -> None:
    job = checks.PasswordResetJob.perform_later("ada@example.com")  # forgot .set(queue="urgent")
    result = ex_route_urgent.check(job)
    assert result.kind == "incorrect"
    assert "Your job went into the 'default' queue" in result.message and 'set(queue="urgent")' in result.message


def test_route_urgent_left_blank_is_not_attempted(shared_course: Path) -> None:
    assert ex_route_urgent.check(____).kind == "not_attempted"
    fallback = ex_route_urgent.use(____, quiet=True)  # the notebook goes on with a reference job on urgent
    assert Job.fetch(fallback.id, connection=queues.connection()).origin == "urgent"


def test_route_urgent_other_mistakes_say_what_is_wrong(shared_course: Path) -> None:
    configured = checks.PasswordResetJob.set(queue="urgent")
    assert "nothing was queued yet" in ex_route_urgent.check(configured).message
    assert "You got a str back, not a job" in ex_route_urgent.check(configured.perform_now("ada@example.com")).message
    assert "the class PasswordResetJob itself" in ex_route_urgent.check(checks.PasswordResetJob).message
    other = checks.GifSenderJob.set(queue="urgent").perform_later("ada@example.com", "hi")
    assert "not a PasswordResetJob" in ex_route_urgent.check(other).message
    other.delete()
    gone = checks.PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")
    gone.delete()
    assert "no longer in Redis" in ex_route_urgent.check(gone).message


# --- Exercise 3: perform_later, a real worker, a real email ----------------------------------------------------


@pytest.fixture
def quick_mailer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook's job module as it is, with a 0.2 s mailer (the worker inherits the setting)."""
    monkeypatch.setenv("WORKIT_DELAY", "0.2")


def test_send_later_reference_passes(shared_course: Path, job_dir: Path, quick_mailer: None) -> None:
    mailcatcher.start()
    GifSenderJob = ex_write_job.use(write_job(job_dir, REFERENCE_MODULE))
    worker = workers.start_worker(["mailers"], path=job_dir, with_scheduler=False)
    try:
        job = GifSenderJob.perform_later("you@example.com", "Coffee first, then code (test)")
        assert ex_send_later.use(job) is job  # a queued GifSenderJob job: go on with it, no waiting
        result = ex_send_later.check(job)
    finally:
        workers.stop_worker(worker)
    assert result.kind == "correct", result
    assert result.message == (
        "A worker ran your job (not this notebook), and its email to you@example.com reached the inbox."
    )
    stored = Job.fetch(job.id, connection=queues.connection())
    assert stored.get_status() == "finished" and stored.worker_name == worker.rq_name
    assert inbox.to_address("you@example.com")[0].text.count("Coffee first, then code (test)") == 1


def test_send_later_with_perform_now_is_incorrect(shared_course: Path, job_dir: Path, quick_mailer: None) -> None:
    mailcatcher.start()
    GifSenderJob = ex_write_job.use(
        write_job(
            job_dir,
            REFERENCE_MODULE.replace("        deliver(email, thought)", "        return deliver(email, thought)"),
        )
    )
    sent_here = GifSenderJob.perform_now("you@example.com", "sent from the notebook")  # the email's Message-ID
    result = ex_send_later.check(sent_here)
    assert result.kind == "incorrect"
    assert result.message.startswith("You got a str back, not a job. perform_now runs the job here")


def test_send_later_left_blank_is_not_attempted(shared_course: Path) -> None:
    assert ex_send_later.check(____).kind == "not_attempted"
    fallback = ex_send_later.use(____, quiet=True)  # the notebook goes on with a reference job, queued now
    stored = Job.fetch(fallback.id, connection=queues.connection())
    assert stored.origin == "mailers" and stored.get_status() == "queued"
    assert stored.args[0] == "support.checks.jobs:GifSenderJob"


def test_send_later_without_a_worker_says_so(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex_send_later, "wait_seconds", 0.5)
    job = checks.GifSenderJob.perform_later("you@example.com", "nobody will send this")
    result = ex_send_later.check(job)
    assert result.kind == "incorrect"
    assert "still waiting in the 'mailers' queue" in result.message and "Start the worker" in result.message


@pytest.mark.slow
def test_send_later_job_that_sends_nothing_is_incorrect(
    shared_course: Path, job_dir: Path, quick_mailer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex_send_later, "wait_seconds", 2.0)
    mailcatcher.start()
    silent = REFERENCE_MODULE.replace("        deliver(email, thought)", "        print(email, thought)")
    GifSenderJob = load_module_from(write_job(job_dir, silent)).GifSenderJob  # Exercise 1's check refuses it
    assert GifSenderJob.__module__ == "gif_sender_job"
    worker = workers.start_worker(["mailers"], path=job_dir, with_scheduler=False)
    try:
        result = ex_send_later.check(GifSenderJob.perform_later("you@example.com", "lost in the worker"))
    finally:
        workers.stop_worker(worker)
    assert result.kind == "incorrect"
    assert "A worker ran your job, but no email to you@example.com" in result.message


def test_send_later_job_that_fails_on_the_worker_shows_the_error(shared_course: Path, job_dir: Path) -> None:
    mailcatcher.start()
    broken = REFERENCE_MODULE.replace("        deliver(email, thought)", "        deliver(email)")
    GifSenderJob = load_module_from(write_job(job_dir, broken)).GifSenderJob  # Exercise 1's check refuses it
    worker = workers.start_worker(["mailers"], path=job_dir, with_scheduler=False)
    try:
        result = ex_send_later.check(GifSenderJob.perform_later("you@example.com", "oops"))
    finally:
        workers.stop_worker(worker)
    assert result.kind == "incorrect"
    assert result.message.startswith("Your job failed on the worker: TypeError")


def test_the_reference_classes_are_active_jobs_a_worker_can_import() -> None:
    for cls in (checks.GifSenderJob, checks.PasswordResetJob):
        assert issubclass(cls, ActiveJob) and active_job.job_path(cls).startswith("support.checks.jobs:")
    assert checks.PasswordResetJob().perform("ada@example.com") == "reset link for ada@example.com sent"


# --- Every stated requirement, one wrong answer each; right answers written differently -------------------------


def test_write_job_on_another_course_queue_is_incorrect(job_dir: Path) -> None:
    result = ex_write_job.check(
        write_job(job_dir, REFERENCE_MODULE.replace('queue_as = "mailers"', 'queue_as = "default"'))
    )
    assert result.kind == "incorrect"
    assert "queue_as is 'default', so your emails would wait in the default queue" in result.message
    assert "where the Rails lesson puts mail jobs" in result.message and "mailers" not in result.message


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "print(email, thought)",
            "GifSenderJob().perform('probe@example.com', 'a thought the check made up') sent no "
            "email: perform should call deliver(email, thought).",
        ),
        (
            "deliver(thought, email)",
            "called deliver('a thought the check made up', 'probe@example.com'): hand deliver "
            "the job's email, then its thought.",
        ),
        ("deliver(email, 'Hello')", "called deliver('probe@example.com', 'Hello')"),
        ("deliver(email, thought)\n        deliver(email, thought)", "called deliver 2 times: send the email once."),
    ],
)
def test_write_job_that_does_not_deliver_email_then_thought_is_incorrect(
    job_dir: Path, body: str, message: str
) -> None:
    result = ex_write_job.check(write_job(job_dir, REFERENCE_MODULE.replace("deliver(email, thought)", body, 1)))
    assert result.kind == "incorrect" and message in result.message, result


@pytest.mark.parametrize(
    "change",
    [
        (
            "def perform(self, email, thought):\n        deliver(email, thought)",
            "def perform(self, address, text):\n        return deliver(address, text)",
        ),
        ("deliver(email, thought)", "deliver(email=email, thought=thought)"),
        ("from support.workit.mailer import deliver", "from support import jobs"),
    ],
    ids=["other-names", "keywords", "send_gif_email"],
)
def test_write_job_written_differently_passes(job_dir: Path, change: tuple[str, str]) -> None:
    old, new = change
    text = REFERENCE_MODULE.replace(old, new)
    if "from support import jobs" in text:
        text = text.replace("        deliver(email, thought)", "        jobs.send_gif_email(email, thought)")
    assert text != REFERENCE_MODULE
    result = ex_write_job.check(write_job(job_dir, text))
    assert result.correct, result


def test_route_urgent_for_another_address_is_incorrect(shared_course: Path) -> None:
    job = checks.PasswordResetJob.set(queue="urgent").perform_later("bob@example.com")
    result = ex_route_urgent.check(job)
    assert result.kind == "incorrect"
    assert "queued with perform_later('bob@example.com')" in result.message and "Ada's password" in result.message


def test_route_urgent_by_changing_the_class_is_incorrect(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks.PasswordResetJob, "queue_as", "urgent")  # the class changed, for every reset
    job = checks.PasswordResetJob.perform_later("ada@example.com")
    result = ex_route_urgent.check(job)
    assert result.kind == "incorrect"
    assert "PasswordResetJob.queue_as is now 'urgent': you changed the class" in result.message


def test_route_urgent_written_differently_passes(shared_course: Path) -> None:
    job = checks.PasswordResetJob.set(queue="urgent").perform_later("Ada@example.com")
    assert ex_route_urgent.check(job).correct
    by_hand = queues.queue("urgent").enqueue(
        active_job.perform_job, "support.checks.jobs:PasswordResetJob", ["ada@example.com"]
    )
    assert ex_route_urgent.check(by_hand).correct


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("The thought first", "you@example.com"),
            "queued with perform_later('The thought first', 'you@example.com'): "
            "the thought first. Hand over the email first",
        ),
        (("you@example.com",), "queued with perform_later('you@example.com'): it needs the email and the thought"),
    ],
)
def test_send_later_with_the_wrong_arguments_is_incorrect_at_once(shared_course: Path, args, message: str) -> None:
    job = checks.GifSenderJob.perform_later(*args)  # no worker runs: the check need not wait to see it
    result = ex_send_later.check(job)
    assert result.kind == "incorrect" and message in result.message, result


def test_send_later_of_another_job_is_incorrect(shared_course: Path) -> None:
    job = checks.PasswordResetJob.perform_later("you@example.com")
    result = ex_send_later.check(job)
    assert result.kind == "incorrect" and "not a GifSenderJob" in result.message
