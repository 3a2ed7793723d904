"""Every module of support/ imports, in a fresh Python: what a newer (or older) Python breaks shows here first.

(CI runs this file again on its second Python, with the worker classes and the core notebooks: ``make test-python``.)
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from test_architecture import module_names

SCRIPT = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:  # every failure, not only the first
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_of_support_imports(course_home: Path) -> None:
    """In a state folder of its own (course_home stops what ran there): notebook 12's Django settings find or start
    the course's Redis when a Django process loads them, as queues.connection() does, so importing every module
    starts that Redis; never in the learner's own .course/."""
    names = [name for name in module_names() if not name.endswith("__main__")]  # __main__ runs the command line
    assert len(names) > 40, names
    env = {**os.environ, "COURSE_HOME": str(course_home)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, (
        f"modules that do not import on Python {sys.version.split()[0]}:\n{done.stdout}{done.stderr[-2000:]}"
    )


# Paths that outlive the process that wrote them, found where they are used (enqueue, Callback, create_job, the
# app's JOB constants, 09's outbox, rq cron, python -m). RQ stores a job's function as module.qualname (and pickles
# an argument's class the same way), ActiveJob stores "module:Class" for perform_job, 09's outbox keeps the function's
# path in SQLite: a queued job or an outbox row names one of these long after the cell that wrote it. Moving or
# renaming any of them breaks what is already stored, so each stays where this list says.
STORED_PATHS = [
    # 04, 05, 06, the Work-It app's background mode (workit/web.JOB) and the checks of 04 to 06
    "support.jobs.send_gif_email",
    # 03: every ActiveJob runs through perform_job; the checks' reference classes are stored as its argument
    "support.active_job.perform_job",
    "support.checks.jobs:GifSenderJob",
    "support.checks.jobs:PasswordResetJob",
    # 05
    "support.failure_jobs.tracked_send",
    "support.failure_jobs.slow_job",
    "support.failure_jobs.send_then_fail",
    "support.failure_jobs.send_once_then_fail",
    "support.failure_jobs.send_when_released",
    "support.failure_jobs.send_login_code",  # 05 Exercise 1 (support.checks._failures_requeue)
    # 06 (support.lessons.scaling)
    "support.demo_jobs.one_second",
    "support.demo_jobs.noop",
    "support.demo_jobs.note_run",  # 06 Exercise 2 (support.checks.scaling.run_scenario)
    # 08, the Work-It export (workit/exports.JOB) and 08's checks
    "support.export_jobs.export_thoughts",
    "support.export_jobs.count_words",
    "support.export_jobs.add_up",
    "support.export_jobs.on_export_success",
    "support.export_jobs.on_export_failure",
    "support.export_jobs.on_export_stopped",
    # 09: jobs, the outbox's function (lessons/after_commit), a pickled argument's class, the rate-limit demo
    "support.production_jobs.deliver_thought",
    "support.production_jobs.deliver_thought_once",
    "support.production_jobs.deliver_snapshot",
    "support.production_jobs.Thought",
    "support.production_jobs.rate_limited_call",
    # 10's operations: what rq cron queues, a job held in its slow step, a batch to watch
    "support.ops_jobs.expire_sessions",
    "support.ops_jobs.hold",
    "support.ops_jobs.work_for",
    # 11: the capstone's reference job class, its failure callback and the hold after the send (lessons/capstone)
    "support.lessons.capstone:GifSenderJob",
    "support.lessons.capstone.report_failure",
    "support.lessons.capstone.hold_after_send",
]
CRON_CONFIG = "support.ops_cron_config"  # rq cron support.ops_cron_config (lessons/recurring.CONFIG)
PROGRAMS = [
    "support",
    "support.tiny_queue",
    "support.workit.web",
    "support.services.mailcatcher",
    "support.services.dashboard_server",
]  # python -m ...

RESOLVE = """
import importlib, importlib.util, json, sys
stored, cron_config, programs = json.loads(sys.argv[1])
failed = []
for path in stored:
    module_name, _, name = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        thing = getattr(importlib.import_module(module_name), name)
    except Exception as exc:
        failed.append(f"{path}: {type(exc).__name__}: {exc}")
        continue
    where = f"{thing.__module__}{':' if ':' in path else '.'}{thing.__qualname__}"
    if where != path:  # what RQ, pickle and ActiveJob write is the object's own module and name
        failed.append(f"{path}: the object there says it is {where}")
try:
    importlib.import_module(cron_config)
except Exception as exc:
    failed.append(f"{cron_config}: {type(exc).__name__}: {exc}")
for name in programs:
    spec = importlib.util.find_spec(name)
    if spec is None:
        failed.append(f"python -m {name}: no such module")
    elif spec.submodule_search_locations is not None:  # a package runs its __main__
        if importlib.util.find_spec(name + ".__main__") is None:
            failed.append(f"python -m {name}: the package has no __main__")
    elif not callable(getattr(importlib.import_module(name), "main", None)):
        failed.append(f"python -m {name}: no main()")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_stored_dotted_path_still_resolves() -> None:
    """In a fresh Python (importing the cron config registers its job with rq): each path imports, and the object
    there names itself by that very path."""
    paths = json.dumps([STORED_PATHS, CRON_CONFIG, PROGRAMS])
    done = subprocess.run([sys.executable, "-c", RESOLVE, paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"stored paths that no longer resolve:\n{done.stdout}{done.stderr[-2000:]}"


JOB_MODULES = ("jobs", "active_job", "failure_jobs", "demo_jobs", "export_jobs", "production_jobs", "ops_jobs")
QUEUEING_CALLS = {
    "enqueue",
    "enqueue_in",
    "enqueue_at",
    "enqueue_call",
    "create_job",
    "prepare_data",
    "Callback",
    "register",
}  # register: rq cron's


def _imported_names(tree: ast.AST, package: str) -> dict[str, str]:
    """Local name -> dotted path, for every ``from ... import ...`` in `tree` (relative ones resolved in `package`)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module or ""
            )
            names |= {alias.asname or alias.name: f"{base}.{alias.name}" for alias in node.names}
    return names


def _jobs_queued_in(source: str, package: str = "") -> set[str]:
    """The dotted paths of the job functions that `source` hands to enqueue (and its kin), Callback, prepare_data or
    rq cron's register, by a name imported from a job module or as job_module.name."""
    tree = ast.parse(source)
    imported = _imported_names(tree, package)
    found = set()
    for call in ast.walk(tree):
        called = getattr(call, "func", None)
        name = getattr(called, "attr", None) or getattr(called, "id", None)
        if not isinstance(call, ast.Call) or name not in QUEUEING_CALLS:
            continue
        for arg in [*call.args, *(keyword.value for keyword in call.keywords)]:
            for node in ast.walk(arg):
                if isinstance(node, ast.Name) and node.id in imported:
                    found.add(imported[node.id])
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
                    found.add(f"{imported[node.value.id]}.{node.attr}")
    return {
        path for path in found if path.split(".")[:2] in (["support", m] for m in JOB_MODULES) and path.count(".") == 2
    }


def _notebook_code(path: Path) -> str:
    """A notebook's code cells as one Python source: %%writefile cells (a learner's file) left out, magics blanked."""
    cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    sources = ["".join(cell["source"]) for cell in cells]
    lines = [line for source in sources if not source.startswith("%%") for line in source.splitlines()]
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def test_the_list_has_every_job_that_support_or_a_notebook_queues() -> None:
    """Every job path written as text in support/ (the app's JOB, the checks' constants, the outbox's default) and
    every job function that a notebook or a module of support/ queues is in STORED_PATHS."""
    root = Path(__file__).resolve().parent.parent
    queued: dict[str, set[str]] = {}
    for path in (root / "support").rglob("*.py"):
        package = ".".join(path.relative_to(root).parent.parts)
        text = path.read_text()
        written = re.findall(rf"[\"'](support\.(?:{'|'.join(JOB_MODULES)})\.\w+)[\"']", text)
        queued[str(path.relative_to(root))] = set(written) | _jobs_queued_in(text, package)
    for path in (root / "instructor").glob("*.ipynb"):
        queued[path.name] = _jobs_queued_in(_notebook_code(path))
    # the search itself works: by a name imported from a job module, as module.name, as a callback, relative
    assert queued["05_when_things_fail.ipynb"] >= {"support.jobs.send_gif_email", "support.failure_jobs.slow_job"}
    assert "support.export_jobs.on_export_stopped" in queued["08_results_and_progress.ipynb"]
    assert "support.production_jobs.deliver_thought" in queued["support/lessons/after_commit.py"]
    missing = {name: sorted(paths - set(STORED_PATHS)) for name, paths in queued.items() if paths - set(STORED_PATHS)}
    assert missing == {}, "jobs queued by their path that STORED_PATHS does not list"
