"""The checks of 03_jobs, held to the exercises' texts (issue 28): one requirements table per exercise (Exercises 1
to 4 in ``support.checks.jobs``, Exercise 5 in ``support.checks.controller``), each answer run as the notebook runs
it, on real module files, real jobs in the course's Redis, a real worker process, the real app and the real mail
catcher; beside them, what the tables cannot say (a blank answer, the fallbacks, a check without its worker).

The job module under test is the notebook's own ``%%writefile gif_sender_job.py`` cell, its instructor version (the
reference) and its learner version (the blanks); so are ``quick_jobs.py``, ``worker_settings.py`` and the
controller. Every answer runs in one notebook folder of this process (``in_notebook``), with a 0.2 s mailer.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from exercise_table import Requirement, Table, define, table_test
from rq import Worker
from rq.job import Job

from support import active_job
from support.active_job import ActiveJob
from support.checks import _jobs_terminal_worker, controller
from support.checks import jobs as checks
from support.checks.controller import ex_controller
from support.checks.jobs import ex_route_urgent, ex_send_later, ex_start_worker, ex_write_job
from support.exercises import ____, load_module_from
from support.exercises.results import Result
from support.lessons import terminal_worker
from support.rq_helpers import queues, workers
from support.services import inbox, processes, redis_server
from support.workit.controller import TEMPLATE
from tools.solutions import strip_solutions

REPO_ROOT = Path(__file__).resolve().parent.parent
DELAY = "0.2"  # the mailer's delay in this process and the worker's (WORKIT_DELAY)


def writefile_cell(name: str) -> str:
    """The body of the instructor notebook's ``%%writefile name`` cell."""
    nb = json.loads((REPO_ROOT / "instructor" / "03_jobs.ipynb").read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"%%writefile {name}\n"):
            return source.split("\n", 1)[1]
    raise AssertionError(f"no %%writefile {name} cell in instructor/03_jobs.ipynb")


def solved(cell: str) -> str:
    """A cell as the instructor solved it: the solution markers and placeholder lines out."""
    marks = ("# BEGIN SOLUTION", "# END SOLUTION", "# PLACEHOLDER:")
    return "".join(line for line in cell.splitlines(keepends=True) if not line.strip().startswith(marks))


REFERENCE_MODULE = solved(writefile_cell("gif_sender_job.py"))
BLANK_MODULE = strip_solutions(writefile_cell("gif_sender_job.py"))
QUICK_JOBS = writefile_cell("quick_jobs.py")
SETTINGS = writefile_cell("worker_settings.py")
REFERENCE_CONTROLLER = solved(writefile_cell("mailers_controller.py"))
INLINE = "    return deliver(email, thought)  # inline: the request waits for the slow mailer"
QUEUED = "    return GifSenderJob.perform_later(email, thought)  # a worker sends it"
assert INLINE in TEMPLATE and REFERENCE_CONTROLLER == TEMPLATE.replace(INLINE, QUEUED)

_folder: list[Path] = []


def notebook_folder() -> Path:
    """This process's notebook folder (made on first use, removed at exit): the answers' files are written there."""
    if not _folder:
        folder = Path(tempfile.mkdtemp(prefix="notebook03-"))
        atexit.register(shutil.rmtree, folder, True)
        _folder.append(folder)
    return _folder[0]


MODULES = ("gif_sender_job", "quick_jobs", "mailers_controller", "worker_settings")


@contextmanager
def in_notebook() -> Iterator[Path]:
    """Inside the block, as in the notebook's kernel: its folder is the working directory and first on sys.path,
    the job modules are imported afresh, the mailer takes 0.2 s, perform_later queues on Redis."""
    folder, cwd, delay = notebook_folder(), os.getcwd(), os.environ.get("WORKIT_DELAY")
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    os.environ["WORKIT_DELAY"] = DELAY
    for name in MODULES:
        sys.modules.pop(name, None)
    active_job.set_queue_adapter("rq")
    try:
        yield folder
    finally:
        os.chdir(cwd)
        sys.path.remove(str(folder))
        if delay is None:
            os.environ.pop("WORKIT_DELAY", None)
        else:
            os.environ["WORKIT_DELAY"] = delay
        for name in MODULES:
            sys.modules.pop(name, None)
        active_job.set_queue_adapter("rq")


def write_job(folder: Path, text: str = REFERENCE_MODULE) -> str:
    (folder / "gif_sender_job.py").write_text(text)
    return "gif_sender_job.py"


def fresh_start() -> None:
    """What an earlier answer left goes: its jobs and its emails (each answer is judged on its own)."""
    queues.empty_all()
    inbox.clear()


# --- Exercise 1: the job as a module file ---------------------------------------------------------------------


def submit_job_file(source: str) -> Result:
    with in_notebook() as folder:
        return ex_write_job.check(write_job(folder, source))


def _module(old: str, new: str) -> str:
    assert old in REFERENCE_MODULE, old
    return REFERENCE_MODULE.replace(old, new)


BODY = "        deliver(email, thought)\n"
WRITE_JOB = Table(
    ex_write_job,
    submit_job_file,
    reference=REFERENCE_MODULE,
    requirements=[
        Requirement(
            "waits in the `mailers` queue, where the Rails lesson puts mail jobs",
            _module('queue_as = "mailers"', 'queue_as = "default"'),
            "where the Rails lesson puts mail jobs",
        ),
        Requirement(
            "takes an `email` and a `thought`, in that order",
            _module("def perform(self, email, thought):", "def perform(self, thought, email):"),
            "in that order",
        ),
        Requirement(
            "`perform(self, email, thought)` is what runs when the job runs",
            _module("def perform(self, email, thought):", "def perform(email, thought):"),
            "self comes first",
        ),
        Requirement(
            "sends the email once with `deliver(email, thought)`",
            _module(BODY, "        print(email, thought)\n"),
            "sent no email",
        ),
        Requirement(
            "sends the email once with `deliver(email, thought)`",
            _module(BODY, BODY + BODY),
            "send the email once",
        ),
        Requirement(
            "sends the email once with `deliver(email, thought)`",
            _module(BODY, "        deliver(thought, email)\n"),
            "hand deliver the job's email, then its thought",
        ),
        Requirement(  # a constant: the check's first made-up thought, typed in
            "sends the email once with `deliver(email, thought)`",
            _module(BODY, "        deliver(email, 'a thought the check made up')\n"),
            "hand deliver the job's email, then its thought",
        ),
        Requirement(  # the job queues itself again instead of sending
            "sends the email once with `deliver(email, thought)`",
            _module(BODY, "        GifSenderJob.perform_later(email, thought)\n"),
            "perform sends the email",
        ),
        Requirement(
            "the same slow mailer the app used in 01",
            _module(BODY, "        deliver(email, thought, 0)  # no need to wait\n"),
            "the same slow mailer",
        ),
        Requirement(
            "importing the file sends nothing",
            REFERENCE_MODULE + '\n\nGifSenderJob.perform_now("you@example.com", "Does my job work?")\n',
            "importing it sends nothing",
        ),
        Requirement(
            "importing the file sends nothing",
            REFERENCE_MODULE + '\n\nGifSenderJob.perform_later("you@example.com", "Try it")\n',
            "importing it sends nothing",
        ),
    ],
    equivalent={
        "L1 Constant 'GifSenderJob: one G...'->''": "the module's docstring: documentation, the job runs the same",
        "L1 Constant 'GifSenderJob: one G...'->'GifSenderJob: one G...'": "the module's docstring, one letter more",
        "L1 Constant 'GifSenderJob: one G...'->None": "the docstring replaced by the statement None: does nothing",
    },
    right=[
        _module(
            "def perform(self, email, thought):\n" + BODY,
            "def perform(self, address, text):\n        return deliver(address, text)\n",
        ),
        _module("from support.workit.mailer import deliver", "from support.workit import mailer").replace(
            BODY, "        mailer.deliver(email=email, thought=thought, delay=5)\n"
        ),
        _module(BODY, "        message_id = deliver(email, thought)\n        print('sent', message_id)\n"),
    ],
)


# --- Exercise 2: one job through the urgent queue --------------------------------------------------------------


def submit_route_urgent(source: str) -> Result:
    fresh_start()
    with in_notebook() as folder:
        (folder / "quick_jobs.py").write_text(QUICK_JOBS)
        quick_jobs = load_module_from(folder / "quick_jobs.py")  # the notebook's cell, as it runs it
        names = {
            "quick_jobs": quick_jobs,
            "NightlyReportJob": quick_jobs.NightlyReportJob,
            "PasswordResetJob": quick_jobs.PasswordResetJob,
            "queues": queues,
            "active_job": active_job,
            "Job": Job,
            "report_job": quick_jobs.NightlyReportJob.perform_later("Monday"),  # the cell before the exercise
        }
        return ex_route_urgent.check(define(source, "reset_job", names))


URGENT = 'reset_job = PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")'
ROUTE_URGENT = Table(
    ex_route_urgent,
    submit_route_urgent,
    requirements=[
        Requirement(
            "Queue one `PasswordResetJob` for `ada@example.com`",
            URGENT.replace("ada@", "bob@"),
            "ada@example.com",
        ),
        Requirement(
            "Queue one `PasswordResetJob` for `ada@example.com`",
            URGENT.replace("PasswordResetJob", "NightlyReportJob"),
            "not a PasswordResetJob",
        ),
        Requirement(
            "Queue one `PasswordResetJob` for `ada@example.com`",
            'PasswordResetJob.perform_later("ada@example.com")\n' + URGENT,
            "Queue one job",
        ),
        Requirement(
            "Queue one `PasswordResetJob` for `ada@example.com`",
            'reset_job = PasswordResetJob.set(queue="urgent").perform_now("ada@example.com")',
            "not a job",
        ),
        Requirement(
            "on the **urgent** queue",
            'reset_job = PasswordResetJob.perform_later("ada@example.com")',
            "Choose the queue for this one job",
        ),
        Requirement(
            "without changing the class",
            'PasswordResetJob.queue_as = "urgent"\nreset_job = PasswordResetJob.perform_later("ada@example.com")',
            "you changed the class",
        ),
        Requirement("keep the job in `reset_job`", URGENT + ".id", "keep the job itself"),
        Requirement(
            "keep the job in `reset_job`", 'reset_job = PasswordResetJob.set(queue="urgent")', "nothing was queued"
        ),
    ],
    right=[
        'urgent_reset = PasswordResetJob.set(queue="urgent")\n'
        'reset_job = urgent_reset.perform_later("ada@example.com")',
        'reset_job = queues.queue("urgent").enqueue(\n'
        '    active_job.perform_job, active_job.job_path(PasswordResetJob), ["ada@example.com"]\n)',
        'ada = "ada@example.com"\nreset_job = PasswordResetJob.set(queue="urgent").perform_later(ada)',
    ],
)


# --- Exercise 3: the worker, started in a terminal (the answers are command lines) ------------------------------


def _argv(command: str) -> tuple[list[str], dict[str, str]]:
    """The command line as the terminal in notebooks/ would run it (the course's rq and python), and its
    environment (with the NAME=value words the line starts with)."""
    argv, env = shlex.split(command.replace("{redis_url}", redis_server.url())), processes.course_env()
    while argv and "=" in argv[0] and not argv[0].startswith("-"):
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    if argv and Path(argv[0]).name == "rq":
        argv[0] = terminal_worker.rq_program()
    elif argv and Path(argv[0]).name.startswith("python"):
        argv[0] = sys.executable
    return argv, env


def submit_terminal_worker(commands: str) -> Result:
    """Run each line as the instructor edition runs the command (a process in the notebook's folder, as if typed in
    a terminal of its own), wait until each worker registered (or its process ended), check, and stop them."""
    with in_notebook() as folder:
        (folder / "worker_settings.py").write_text(SETTINGS)
        started = []
        conn = queues.connection()
        wait, _jobs_terminal_worker.WAIT_SECONDS = _jobs_terminal_worker.WAIT_SECONDS, 0.5
        try:
            for line in filter(str.strip, commands.splitlines()):
                argv, env = _argv(line)
                started.append(
                    subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
            for proc in started:
                processes.wait_until(
                    lambda p=proc: p.poll() is not None or any(w.pid == p.pid for w in Worker.all(connection=conn)),
                    20,
                    0.1,
                )
            return ex_start_worker.check()
        finally:
            _jobs_terminal_worker.WAIT_SECONDS = wait
            for proc in started:
                proc.terminate()
            for proc in started:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


COMMAND = terminal_worker.COMMAND
START_WORKER = Table(
    ex_start_worker,
    submit_terminal_worker,
    requirements=[
        Requirement(
            "works for the course's Redis, through `-c worker_settings`",
            COMMAND.replace("-c worker_settings", "--url {redis_url}"),
            "-c worker_settings",
        ),
        Requirement(
            "listens to `urgent`, `mailers` and `default`, in that order",
            COMMAND.replace("urgent mailers default", "default mailers urgent"),
            "in the wrong order",
        ),
        Requirement(
            "listens to `urgent`, `mailers` and `default`, in that order",
            COMMAND.replace("urgent mailers default", "urgent mailers"),
            "all three queues",
        ),
        Requirement(
            "runs RQ's scheduler beside it, `--with-scheduler`",
            COMMAND.replace(" --with-scheduler", ""),
            "--with-scheduler",
        ),
        Requirement("Leave it running", COMMAND + " --max-jobs 10", "Leave it running"),
        Requirement("Then start one worker that", COMMAND + "\n" + COMMAND, "Keep one"),
    ],
    equivalent={
        "L1 Swap words 7,8": "--with-scheduler between the queue names: rq's command line (click) reads an option "
        "wherever it stands among the arguments, so the worker listens to urgent, mailers, default with its scheduler",
    },
    right=[
        "../.venv/bin/rq worker --with-scheduler --config worker_settings urgent mailers default",
        "RQ_CONFIG=worker_settings ../.venv/bin/rq worker urgent mailers default --with-scheduler",
    ],
)


# --- Exercise 4: perform_later, a real worker, a real email ----------------------------------------------------


def setup_worker() -> None:
    """A worker on the three queues that imports the notebook folder's job modules, with a 0.2 s mailer."""
    if workers.running_workers():
        return
    with in_notebook() as folder:
        workers.start_worker(path=folder, with_scheduler=False)


def submit_send_later(source: str) -> Result:
    fresh_start()
    with in_notebook() as folder:
        GifSenderJob = load_module_from(folder / write_job(folder)).GifSenderJob  # Exercise 1, as the notebook has it
        names = {
            "GifSenderJob": GifSenderJob,
            "email": "you@example.com",
            "thought": f"Coffee first, then code ({uuid.uuid4().hex[:6]})",
            "time": time,
            "active_job": active_job,
        }
        exec(compile(source, "<answer job>", "exec"), names)  # noqa: S102 -- the learner's cell, as the notebook runs it
        answer = (names.get("job", ____), names["email"], names["thought"])
        if not workers.running_workers():  # judged first without a worker: most wrong answers need none
            wait, ex_send_later.wait_seconds = ex_send_later.wait_seconds, 0.0
            try:
                first = ex_send_later.check(*answer)
            finally:
                ex_send_later.wait_seconds = wait
            if "no worker took it" not in first.message:
                return first
            setup_worker()  # the job waits in its queue, as it would behind a busy worker: now one takes it
        return ex_send_later.check(*answer)


LATER = "job = GifSenderJob.perform_later(email, thought)"
SEND_LATER = Table(
    ex_send_later,
    submit_send_later,
    requirements=[
        Requirement(
            "one `perform_later` call that queues a `GifSenderJob`",
            "job = GifSenderJob.perform_now(email, thought)",
            "perform_later puts the job in a queue",
        ),
        Requirement(
            "one `perform_later` call that queues a `GifSenderJob`",
            "GifSenderJob.perform_later(email, thought)\n" + LATER,
            "Queue one job",
        ),
        Requirement(
            "for `email` and `thought` (the variables above)",
            'job = GifSenderJob.perform_later("you@example.com", "Coffee first, then code")',
            "email and thought, the variables",
        ),
        Requirement(
            "for `email` and `thought` (the variables above)",
            "job = GifSenderJob.perform_later(thought, email)",
            "Hand over the email first",
        ),
        Requirement("keep what it returns in `job`", LATER + ".id", "keep the job itself"),
        Requirement(
            "The cell sends nothing itself: the worker sends the email",
            "GifSenderJob.perform_now(email, thought)\n" + LATER,
            "Only queue the job",
        ),
        Requirement(
            "The cell sends nothing itself: the worker sends the email",
            LATER + "\nGifSenderJob.perform_now(email, thought)",
            "Only queue the job",
        ),
    ],
    right=[
        "queued = GifSenderJob.perform_later(email, thought)\njob = queued",
        'job = GifSenderJob.set(queue="mailers").perform_later(email, thought)',
    ],
)


# --- Exercise 5 (support.checks.controller): the app's controller queues the job --------------------------------


def submit_controller(source: str) -> Result:
    fresh_start()
    with in_notebook() as folder:
        write_job(folder)
        (folder / controller.CONTROLLER_FILE).write_text(source)
        delay, controller.APP_DELAY = controller.APP_DELAY, 0.5  # the app's mailer: half a second, not five
        try:
            return ex_controller.check(controller.CONTROLLER_FILE)
        finally:
            controller.APP_DELAY = delay


def _controller(line: str, imports: str = "from gif_sender_job import GifSenderJob") -> str:
    return TEMPLATE.replace(INLINE, line).replace("from gif_sender_job import GifSenderJob", imports)


CONTROLLER = Table(
    ex_controller,
    submit_controller,
    reference=REFERENCE_CONTROLLER,
    requirements=[
        Requirement(
            "queues one `GifSenderJob`, yours from `gif_sender_job.py`, with `perform_later`",
            _controller("    return deliver(email, thought)  # TODO perform_later"),
            "queued nothing",
        ),
        Requirement(
            "queues one `GifSenderJob`, yours from `gif_sender_job.py`, with `perform_later`",
            _controller(QUEUED, "from support.checks.jobs import GifSenderJob"),
            "not your GifSenderJob",
        ),
        Requirement(
            "queues one `GifSenderJob`, yours from `gif_sender_job.py`, with `perform_later`",
            _controller("    GifSenderJob.perform_later(email, thought)\n" + QUEUED),
            "create() queues one GifSenderJob",
        ),
        Requirement(
            "for `email` and `thought`, in that order",
            _controller("    return GifSenderJob.perform_later(thought, email)"),
            "in that order",
        ),
        Requirement(  # the notebook's address, typed in: every user's email would go there
            "for `email` and `thought`, in that order",
            _controller('    return GifSenderJob.perform_later("you@example.com", thought)'),
            "in that order",
        ),
        Requirement(
            "on the job's own queue (its `queue_as`)",
            _controller("    return GifSenderJob.set(queue='urgent').perform_later(email, thought)"),
            "GifSenderJob's own queue is mailers",
        ),
        Requirement(  # the example: the user waits for the mailer and gets two emails
            "no longer sends the email itself: the worker does",
            _controller("    deliver(email, thought)\n" + QUEUED),
            "Instead of sending, queue the job",
        ),
        Requirement(
            "returns the job that `perform_later` gives back",
            _controller("    GifSenderJob.perform_later(email, thought)"),
            "did not return it",
        ),
    ],
    equivalent={
        "L1 Constant \"Work-It's controlle...\"->''": "the module's docstring: documentation, create() runs the same",
        'L1 Constant "Work-It\'s controlle..."->"Work-It\'s controlle..."': "the module's docstring, one letter more",
        'L1 Constant "Work-It\'s controlle..."->None': "the docstring replaced by the statement None: does nothing",
        "L7 Constant 'Handle one form sub...'->''": "create()'s docstring: documentation, create() runs the same",
        "L7 Constant 'Handle one form sub...'->'Handle one form sub...'": "create()'s docstring, one letter more",
        "L7 Constant 'Handle one form sub...'->None": "the docstring replaced by the statement None: does nothing",
    },
    right=[
        _controller("    job = GifSenderJob.perform_later(email, thought)\n    return job"),
        _controller("    return gif_sender_job.GifSenderJob.perform_later(email, thought)", "import gif_sender_job"),
    ],
)

TABLES = [WRITE_JOB, ROUTE_URGENT, START_WORKER, SEND_LATER, CONTROLLER]
test_requirements_table = table_test(TABLES)


# --- What the tables do not say -------------------------------------------------------------------------------


@pytest.fixture
def notebook(shared_course: Path) -> Iterator[Path]:
    with in_notebook() as folder:
        yield folder


def test_write_job_left_blank_is_not_attempted_and_use_goes_on_with_the_reference(notebook: Path) -> None:
    assert "____" in BLANK_MODULE and "deliver(email, thought)" not in BLANK_MODULE
    assert ex_write_job.check(write_job(notebook, BLANK_MODULE)).kind == "not_attempted"
    assert ex_write_job.check(____).kind == "not_attempted"
    assert ex_write_job.use("gif_sender_job.py", quiet=True) is checks.GifSenderJob  # the reference, to go on
    result = ex_write_job.check(write_job(notebook))
    assert result.correct and "gif_sender_job:GifSenderJob" in result.message
    cls = ex_write_job.use("gif_sender_job.py")
    assert cls.__module__ == "gif_sender_job" and active_job.job_path(cls) == "gif_sender_job:GifSenderJob"


@pytest.mark.parametrize(
    "change, message",
    [
        (('queue_as = "mailers"', 'queue_as = "mail"'), "queue_as is 'mail', which is not one of the course's queues"),
        (("class GifSenderJob(ActiveJob):", "class GifSenderJob:"), "not a subclass of ActiveJob"),
        (("class GifSenderJob(", "class GifSender("), "defines no class GifSenderJob (it defines GifSender)"),
        (("def perform(self, email, thought):", "def perform(self, email, thought)"), "syntax error on line"),
    ],
)
def test_write_job_a_file_that_is_no_job_says_what_is_wrong(
    notebook: Path, change: tuple[str, str], message: str
) -> None:
    result = ex_write_job.check(write_job(notebook, _module(*change)))
    assert result.kind == "incorrect" and message in result.message, result
    (notebook / "gif_sender_job.py").unlink()
    missing = ex_write_job.check("gif_sender_job.py")
    assert missing.kind == "incorrect" and "There is no file gif_sender_job.py yet" in missing.message


def test_write_job_check_sends_and_queues_nothing(notebook: Path) -> None:
    """The check runs perform with deliver recorded and the inline adapter: nothing reaches the inbox or Redis, not
    even from a file that queues its job at import."""
    text = REFERENCE_MODULE + '\n\nGifSenderJob.perform_later("you@example.com", "Try it")\n'
    assert ex_write_job.check(write_job(notebook, text)).kind == "incorrect"
    assert ex_write_job.check(write_job(notebook)).correct
    assert sum(q.count for q in queues.all_queues()) == 0 and inbox.count() == 0
    assert active_job.queue_adapter() == "rq"


def test_route_urgent_left_blank_is_not_attempted_and_falls_back(shared_course: Path) -> None:
    assert ex_route_urgent.check(____).kind == "not_attempted"
    assert "the class PasswordResetJob itself" in ex_route_urgent.check(checks.PasswordResetJob).message
    fallback = ex_route_urgent.use(____, quiet=True)  # the notebook goes on with a reference job on urgent
    assert Job.fetch(fallback.id, connection=queues.connection()).origin == "urgent"
    fallback.delete()
    assert "no longer in Redis" in ex_route_urgent.check(fallback).message


def test_route_urgent_a_second_try_later_is_not_a_second_job(shared_course: Path) -> None:
    """A learner who first queued on default, read the message and queued again on urgent: the earlier job is not
    this cell's (it was queued more than two seconds before)."""
    first = checks.PasswordResetJob.perform_later("ada@example.com")
    Job.fetch(first.id, connection=queues.connection())
    queues.connection().hset(first.key, "enqueued_at", "2020-01-01T00:00:00.000000Z")  # as if queued long ago
    assert ex_route_urgent.check(checks.PasswordResetJob.set(queue="urgent").perform_later("ada@example.com")).correct


def test_send_later_left_blank_is_not_attempted_and_falls_back(shared_course: Path) -> None:
    assert ex_send_later.check(____).kind == "not_attempted"
    fallback = ex_send_later.use(____, quiet=True)  # the notebook goes on with a reference job, queued now
    stored = Job.fetch(fallback.id, connection=queues.connection())
    assert stored.origin == "mailers" and stored.get_status() == "queued"
    assert stored.args[0] == "support.checks.jobs:GifSenderJob"


def test_send_later_without_a_worker_says_so(shared_course: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ex_send_later, "wait_seconds", 0.5)
    job = checks.GifSenderJob.perform_later("you@example.com", "nobody will send this")
    result = ex_send_later.check(job, "you@example.com", "nobody will send this")
    assert result.kind == "incorrect"
    assert "still waiting in the 'mailers' queue" in result.message and "Start the worker" in result.message


def test_send_later_a_job_that_fails_or_sends_nothing_on_the_worker(
    shared_course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ex_send_later, "wait_seconds", 2.0)
    setup_worker()
    with in_notebook() as folder:
        broken = load_module_from(folder / write_job(folder, _module(BODY, "        deliver(email)\n"))).GifSenderJob
        failed = ex_send_later.check(broken.perform_later("you@example.com", "oops"), "you@example.com", "oops")
        silent = load_module_from(folder / write_job(folder, _module(BODY, "        print(email)\n"))).GifSenderJob
        lost = ex_send_later.check(silent.perform_later("you@example.com", "lost"), "you@example.com", "lost")
    assert failed.kind == "incorrect" and failed.message.startswith("Your job failed on the worker: TypeError")
    assert lost.kind == "incorrect" and "A worker ran your job, but no email to you@example.com" in lost.message


def test_the_reference_classes_are_active_jobs_a_worker_can_import() -> None:
    for cls in (checks.GifSenderJob, checks.PasswordResetJob):
        assert issubclass(cls, ActiveJob) and active_job.job_path(cls).startswith("support.checks.jobs:")
    assert checks.PasswordResetJob().perform("ada@example.com") == "reset link for ada@example.com sent"
