"""Generate the learner edition (``notebooks/``) from the instructor edition (``instructor/``), and check the two.

The instructor notebooks are the source of truth; their solution markers are described in ``tools/solutions.py``
(a solution region becomes its placeholder, a cell tagged ``instructor-only`` is left out). The learner edition is
stored without outputs: a learner must not see the answer to a prediction before running the cell. It is still
executed here (``tools/notebook_run.py``), in a fresh kernel with its working directory in ``notebooks/``, and the
outputs of the few cells where it legitimately differs from the instructor edition go into
``tests/learner_outputs.json`` (``tools/learner_outputs.py``, which also gives nbval, under pytest, a learner
notebook's expected outputs). ``--no-execute`` skips the run and keeps the recorded differences of cells whose
source did not change.

    python tools/editions.py                        # regenerate and execute every learner notebook
    python tools/editions.py 02_redis --no-execute  # one notebook, sources only
    python tools/editions.py --execute-instructor   # also re-execute the instructor notebooks in place first
    python tools/editions.py --check                # exit 1 when notebooks/ is out of sync (sources only, fast)

This module is the command and its three jobs: ``build``, ``execute_instructor`` and ``check``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

if not __package__:  # run as a program (python tools/editions.py): the checkout's root is not on sys.path yet
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.learner_outputs import (  # noqa: E402
    carried_differences,
    learner_differences,
    outputs_file_for,
    read_learner_outputs,
    write_learner_outputs,
)
from tools.notebook_files import INSTRUCTOR_DIR, LEARNER_DIR, EditionError, notebook_names, read, strip_outputs, write  # noqa: E402
from tools.notebook_run import execute, fresh_state_folder  # noqa: E402
from tools.solutions import first_difference, learner_source  # noqa: E402


def build(
    instructor_dir: Path = INSTRUCTOR_DIR,
    learner_dir: Path = LEARNER_DIR,
    names: Iterable[str] | None = None,
    *,
    execute_learner: bool = True,
    timeout: int = 300,
    outputs_file: Path | None = None,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Generate the learner notebooks (stored without outputs) and, by default, execute them to record where their
    outputs differ from the instructor's; returns the names of the notebook files rewritten."""
    learner_dir.mkdir(parents=True, exist_ok=True)
    outputs_file = outputs_file or outputs_file_for(learner_dir)
    table = read_learner_outputs(outputs_file)
    written = []
    for name in notebook_names(instructor_dir, names):
        if not (instructor_dir / name).exists():
            raise EditionError(f"{instructor_dir.name}/{name} does not exist")
        instructor = read(instructor_dir / name)
        learner = learner_source(instructor, name)
        learner.metadata.pop("course_widgets", None)  # the widgets' last state: the instructor edition's only
        if execute_learner:
            log(f"executing {learner_dir.name}/{name} ...")
            try:
                executed = execute(learner, cwd=learner_dir, timeout=timeout)
            except EditionError as exc:
                raise EditionError(f"{learner_dir.name}/{name} failed:\n{exc}") from None
            table[name] = learner_differences(instructor, executed)
        else:
            table[name] = carried_differences(learner, learner_dir / name, table.get(name, {}))
        if write(strip_outputs(learner), learner_dir / name):
            written.append(name)
            log(f"wrote {learner_dir.name}/{name}")
    for orphan in sorted(set(notebook_names(learner_dir)) - set(notebook_names(instructor_dir))):
        log(f"warning: {learner_dir.name}/{orphan} has no instructor notebook")
    write_learner_outputs(
        {name: cells for name, cells in table.items() if (instructor_dir / name).exists()}, outputs_file
    )
    return written


def execute_instructor(
    instructor_dir: Path = INSTRUCTOR_DIR,
    names: Iterable[str] | None = None,
    *,
    timeout: int = 300,
    log: Callable[[str], None] = print,
) -> None:
    """Re-execute instructor notebooks in place, with ``instructor_dir`` as the working directory."""
    for name in notebook_names(instructor_dir, names):
        log(f"executing {instructor_dir.name}/{name} ...")
        nb = read(instructor_dir / name)
        try:
            nb = execute(nb, cwd=instructor_dir, timeout=timeout, snapshots=True)
        except EditionError as exc:
            raise EditionError(f"{instructor_dir.name}/{name} failed:\n{exc}") from None
        write(nb, instructor_dir / name)


def check(
    instructor_dir: Path = INSTRUCTOR_DIR, learner_dir: Path = LEARNER_DIR, names: Iterable[str] | None = None
) -> list[str]:
    """Problems that keep the learner edition from matching the instructor edition (sources only, no kernel)."""
    wanted = set(notebook_names(instructor_dir, names)) | set(notebook_names(learner_dir, names))
    problems = []
    for name in sorted(wanted):
        source, target = instructor_dir / name, learner_dir / name
        if not source.exists() and not target.exists():
            problems.append(f"{name}: in neither {instructor_dir.name}/ nor {learner_dir.name}/")
        elif not target.exists():
            problems.append(f"{learner_dir.name}/{name} is missing: run python tools/editions.py {name}")
        elif not source.exists():
            problems.append(f"{learner_dir.name}/{name} has no {instructor_dir.name}/{name} to be generated from")
        else:
            try:
                difference = first_difference(learner_source(read(source), name), read(target))
            except EditionError as exc:
                difference = str(exc)
            if difference:
                problems.append(f"{learner_dir.name}/{name} is out of date: {difference}")
            elif any(c.get("outputs") for c in read(target).cells):
                problems.append(
                    f"{learner_dir.name}/{name} is stored with outputs (the learner edition opens "
                    f"clean): run python tools/editions.py {name}"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module's docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="names like 02_redis (default: all)")
    parser.add_argument("--check", action="store_true", help="only compare sources; exit 1 when out of sync")
    parser.add_argument("--no-execute", action="store_true", help="do not execute the learner notebooks")
    parser.add_argument(
        "--execute-instructor", action="store_true", help="first re-execute the instructor notebooks in place"
    )
    parser.add_argument("--instructor", type=Path, default=INSTRUCTOR_DIR, metavar="DIR")
    parser.add_argument("--learner", type=Path, default=LEARNER_DIR, metavar="DIR")
    parser.add_argument(
        "--outputs",
        type=Path,
        default=None,
        metavar="FILE",
        help="where the learner edition's own outputs are recorded (default: "
        "tests/learner_outputs.json beside the learner folder)",
    )
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.instructor, args.learner, args.notebooks)
            for problem in problems:
                print(problem)
            if not problems:
                print("learner edition in sync with the instructor edition")
            return 1 if problems else 0
        if args.execute_instructor:
            with fresh_state_folder():
                execute_instructor(args.instructor, args.notebooks, timeout=args.timeout)
        with fresh_state_folder():
            build(
                args.instructor,
                args.learner,
                args.notebooks,
                execute_learner=not args.no_execute,
                timeout=args.timeout,
                outputs_file=args.outputs,
            )
    except EditionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
