"""The checks of 12_django_tasks, per stated requirement (``tests/exercise_table.py``): the reference passes, answers
written differently pass, and for each requirement an answer that breaks only it is Incorrect with a message naming it.

Each answer runs as the notebook runs it: Exercise 1's and 2's answers become real files (``workit_tasks.py``,
``workit_views.py``) in a folder of this process's, imported as the notebook imports them; Exercise 3's answer is the
cell's source, run with the names the notebook has by then; the terminal step's answer is the command line, started
as a real process in that folder. Django is set up once in this process, on the course's state folder.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import textwrap
from datetime import timedelta
from pathlib import Path

from exercise_table import Requirement, Table, define, table_test

from support.checks.django_tasks import ex_send_later, ex_task, ex_view, ex_worker
from support.exercises import load_module_from
from support.exercises.results import Result
from support.lessons import django_tasks as lesson
from support.services import course, processes

TASKS_HEADER = '''"""Work-It's tasks (the check's answer file)."""
from django_tasks import task

from support.workit.mailer import deliver

'''
VIEWS_TEMPLATE = '''"""Work-It's view (the check's answer file)."""
from django.http import JsonResponse

from workit_tasks import send_gif_email


def create(request):
    email, thought = request.POST["email"], request.POST["thought"]
{line}
    return JsonResponse({{"task_id": result.id, "status": result.status}})
'''
_FOLDER: list[Path] = []


def folder() -> Path:
    """This process's notebook folder for the answers' files (made once)."""
    if not _FOLDER:
        _FOLDER.append(Path(tempfile.mkdtemp(prefix="django-tasks-answers-")))
    return _FOLDER[0]


def ready() -> None:
    """Redis, the catcher, and Django in this process (as the notebook's first cell)."""
    course.up("redis", "catcher", quiet=True)
    lesson.setup()


def forgetting_modules(run):
    """Run, then put back what sys.modules held for the answer files' names."""
    saved = {name: sys.modules.get(name) for name in ("workit_tasks", "workit_views")}
    try:
        return run()
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


# --- Exercise 1: the task -------------------------------------------------------------------------------------------


def submit_task(source: str) -> Result:
    path = folder() / "workit_tasks.py"
    path.write_text(TASKS_HEADER + source + "\n")
    return forgetting_modules(lambda: ex_task.check(str(path)))


TASK_DECORATED = "a task: decorate it with `@task(...)`, so that it has `.enqueue()`"
TASK_QUEUE = 'on the mailers queue: `queue_name="mailers"`'
TASK_SENDS = "it sends the email with `deliver(email, thought)`, once"
TASK_RETURNS = "returns what `deliver` returns (the email's Message-ID)"

TASK = Table(
    ex_task,
    submit_task,
    setup=ready,
    requirements=[
        Requirement(
            TASK_DECORATED, "def send_gif_email(email, thought):\n    return deliver(email, thought)\n", "not a task"
        ),
        Requirement(
            TASK_QUEUE,
            "@task()\ndef send_gif_email(email, thought):\n    return deliver(email, thought)\n",
            "mailers queue",
        ),
        Requirement(
            TASK_QUEUE,
            '@task(queue_name="urgent")\ndef send_gif_email(email, thought):\n    return deliver(email, thought)\n',
            "mailers queue",
        ),
        Requirement(
            TASK_SENDS,
            '@task(queue_name="mailers")\ndef send_gif_email(email, thought):\n    deliver(email, thought)\n'
            "    return deliver(email, thought)\n",
            "once",
        ),
        Requirement(
            TASK_SENDS,
            '@task(queue_name="mailers")\ndef send_gif_email(email, thought):\n    return deliver(thought, email)\n',
            "deliver the email and the thought",
        ),
        Requirement(
            TASK_SENDS,
            '@task(queue_name="mailers")\ndef send_gif_email(email, thought):\n    return "<sent@work-it>"\n',
            "once",
        ),
        Requirement(
            TASK_RETURNS,
            '@task(queue_name="mailers")\ndef send_gif_email(email, thought):\n    deliver(email, thought)\n',
            "return what deliver returns",
        ),
    ],
    right=[
        '@task(queue_name="mailers", priority=0)\ndef send_gif_email(email, thought):\n'
        "    message_id = deliver(email=email, thought=thought)\n    return message_id\n",
        'mailers = task(queue_name="mailers")\n\n\n@mailers\ndef send_gif_email(address, text):\n'
        "    return deliver(address, text)\n",
    ],
)


# --- Exercise 2: the view -------------------------------------------------------------------------------------------

REFERENCE_TASKS = TASKS_HEADER + ex_task.solution_code + "\n"


def submit_view(source: str) -> Result:
    (folder() / "workit_tasks.py").write_text(REFERENCE_TASKS)
    path = folder() / "workit_views.py"
    path.write_text(VIEWS_TEMPLATE.format(line=textwrap.indent(textwrap.dedent(source).strip("\n"), "    ")))

    def run() -> Result:
        load_module_from(folder() / "workit_tasks.py")  # the view imports it
        return ex_view.check(str(path))

    return forgetting_modules(run)


VIEW_ENQUEUE = "call `send_gif_email.enqueue(email, thought)`, once"
VIEW_RESULT = "keep what it returns as `result`: the view answers with the task's id"
VIEW_INLINE = "Do not send the email in the view: the worker sends it."
VIEW_QUEUE = "(exactly one each, holding the email and the thought, on mailers)"

VIEW = Table(
    ex_view,
    submit_view,
    setup=ready,
    requirements=[
        Requirement(VIEW_ENQUEUE, "result = send_gif_email.enqueue(thought, email)", "in that order"),
        Requirement(
            VIEW_ENQUEUE,
            "send_gif_email.enqueue(email, thought)\nresult = send_gif_email.enqueue(email, thought)",
            "Enqueue once",
        ),
        Requirement(
            VIEW_RESULT,
            "from types import SimpleNamespace\nsend_gif_email.enqueue(email, thought)\n"
            'result = SimpleNamespace(id="queued", status="READY")',
            "task's id",
        ),
        Requirement(
            VIEW_INLINE,
            'result = send_gif_email.using(backend="immediate").enqueue(email, thought)',
            "inside the request",
        ),
        Requirement(
            VIEW_INLINE,
            "from support.workit.mailer import deliver\ndeliver(email, thought)\n"
            "result = send_gif_email.enqueue(email, thought)",
            "inside the request too",
        ),
        Requirement(
            VIEW_QUEUE, 'result = send_gif_email.using(queue_name="urgent").enqueue(email, thought)', "on mailers"
        ),
    ],
    right=[
        "result = send_gif_email.enqueue(email=email, thought=thought)",
        'result = send_gif_email.using(queue_name="mailers").enqueue(*(email, thought))',
    ],
)


# --- Exercise 3: send_later -----------------------------------------------------------------------------------------


def submit_later(source: str) -> Result:
    from django.utils import timezone

    from support.workit.django_app import reference

    names = {"send_gif_email": reference.send_gif_email, "timezone": timezone, "timedelta": timedelta}
    return ex_send_later.check(define(source, "send_later", names))


def later(body: str) -> str:
    return "def send_later(email, thought, seconds):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")


LATER_ARGS = "enqueue `send_gif_email` with the email and the thought"
LATER_QUEUE = "on the urgent queue"
LATER_WHEN = "to run `seconds` from now"
LATER_RETURN = "return the result enqueue gives"
WHEN = "when = timezone.now() + timedelta(seconds=seconds)\n"

LATER = Table(
    ex_send_later,
    submit_later,
    setup=ready,
    requirements=[
        Requirement(
            LATER_ARGS,
            later(WHEN + 'return send_gif_email.using(queue_name="urgent", run_after=when).enqueue(thought, email)'),
            "in that order",
        ),
        Requirement(
            LATER_QUEUE,
            later(WHEN + "return send_gif_email.using(run_after=when).enqueue(email, thought)"),
            "urgent queue",
        ),
        Requirement(
            LATER_WHEN,
            later('return send_gif_email.using(queue_name="urgent").enqueue(email, thought)'),
            "`seconds` from now",
        ),
        Requirement(
            LATER_WHEN,
            later(
                "when = timezone.now() + timedelta(minutes=seconds)\n"
                'return send_gif_email.using(queue_name="urgent", run_after=when).enqueue(email, thought)'
            ),
            "`seconds` from now",
        ),
        Requirement(
            LATER_WHEN,
            later(
                "when = timezone.now() + timedelta(seconds=60)\n"
                'return send_gif_email.using(queue_name="urgent", run_after=when).enqueue(email, thought)'
            ),
            "`seconds` from now",
        ),
        Requirement(
            LATER_RETURN,
            later(WHEN + 'send_gif_email.using(queue_name="urgent", run_after=when).enqueue(email, thought)'),
            "the result enqueue gives",
        ),
    ],
    right=[
        later(
            "later = send_gif_email.using(run_after=timezone.now() + timedelta(seconds=seconds))\n"
            'return later.using(queue_name="urgent").enqueue(email=email, thought=thought)'
        ),
        later(
            "from datetime import datetime, timezone as tz\n"
            "at = datetime.now(tz.utc) + timedelta(milliseconds=seconds * 1000)\n"
            'result = send_gif_email.using(run_after=at, queue_name="urgent").enqueue(email, thought)\n'
            "return result"
        ),
    ],
)


# --- The terminal step: Django's rqworker ---------------------------------------------------------------------------


def submit_worker(source: str) -> Result:
    """Start the typed command in the answers' folder (its program: this Python's django-admin), check, stop it."""
    argv = [lesson.django_admin(), *shlex.split(source)[1:]]
    log = open(folder() / "worker.log", "ab")  # noqa: SIM115 -- closed below
    proc = subprocess.Popen(argv, cwd=folder(), stdout=log, stderr=subprocess.STDOUT)
    try:
        processes.wait_until(lambda: bool(lesson.django_rqworkers()) or proc.poll() is not None, 20.0, 0.1)
        return ex_worker.check()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        processes.wait_until(lambda: not lesson.django_rqworkers(), 5.0, 0.1)


WORKER_JOB_CLASS = "`--job-class django_tasks_rq.Job`"
WORKER_ORDER = "It listens to urgent, mailers and default, in that order"
WORKER_SCHEDULER = "`--with-scheduler`"
TYPED = lesson.COMMAND

WORKER = Table(
    ex_worker,
    submit_worker,
    setup=ready,
    reference=TYPED,
    requirements=[
        Requirement(
            WORKER_JOB_CLASS, TYPED.replace(" --job-class django_tasks_rq.Job", ""), "--job-class django_tasks_rq.Job"
        ),
        Requirement(WORKER_ORDER, TYPED.replace("urgent mailers default", "default mailers urgent"), "in that order"),
        Requirement(WORKER_ORDER, TYPED.replace("urgent mailers default", "mailers"), "in that order"),
        Requirement(WORKER_SCHEDULER, TYPED.replace(" --with-scheduler", ""), "--with-scheduler"),
    ],
    right=[
        "../.venv/bin/django-admin rqworker --with-scheduler --job-class django_tasks_rq.Job "
        f"--settings {lesson.SETTINGS} --pythonpath . urgent mailers default",
        f"django-admin rqworker urgent mailers default --with-scheduler --job-class=django_tasks_rq.Job "
        f"--pythonpath . --settings={lesson.SETTINGS}",
    ],
)

TABLES = [TASK, VIEW, LATER, WORKER]

test_requirements_table = table_test(TABLES)
