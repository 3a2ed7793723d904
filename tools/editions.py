"""Generate the learner edition (``notebooks/``) from the instructor edition (``instructor/``), and check the two.

The instructor notebooks are the source of truth. In them:

* a code cell (``%%writefile`` cells too) marks a solution with lines ``# BEGIN SOLUTION`` and ``# END SOLUTION``
  (any indentation). The learner edition replaces the region with its ``# PLACEHOLDER: <code>`` lines (each at its
  own indentation; an empty ``# PLACEHOLDER:`` removes the region), or else with ``____`` at the region's
  indentation;
* a markdown cell marks a solution with ``<!-- BEGIN SOLUTION -->`` / ``<!-- END SOLUTION -->`` lines; the region
  is removed (or replaced by ``<!-- PLACEHOLDER: text -->`` lines); a markdown cell left empty is dropped;
* a cell tagged ``instructor-only`` is left out of the learner edition.

Learner cells keep the instructor's cell ids. The learner edition is stored without outputs: a learner must not
see the answer to a prediction before running the cell. It is still executed here, in a fresh kernel with its
working directory in ``notebooks/``, and the outputs of the few cells where it legitimately differs from the
instructor edition (a blank exercise, its check saying "Not attempted", a later cell falling back to the
reference) go into ``tests/learner_outputs.json``. Under pytest, ``expected_learner`` gives nbval a learner
notebook's expected outputs: the instructor's, cell by cell, except those recorded differences
(``--no-execute`` skips the run and keeps the recorded differences of cells whose source did not change).

    python tools/editions.py                        # regenerate and execute every learner notebook
    python tools/editions.py 02_redis --no-execute  # one notebook, sources only
    python tools/editions.py --execute-instructor   # also re-execute the instructor notebooks in place first
    python tools/editions.py --check                # exit 1 when notebooks/ is out of sync (sources only, fast)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR_DIR = REPO_ROOT / "instructor"
LEARNER_DIR = REPO_ROOT / "notebooks"
LEARNER_OUTPUTS = REPO_ROOT / "tests" / "learner_outputs.json"  # for notebooks/; see outputs_file_for
SANITIZE_RULES = REPO_ROOT / "tests" / "sanitize.cfg"
DROP_TAG = "instructor-only"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")


class EditionError(ValueError):
    """A notebook whose solution markers do not pair up, or that failed to execute."""


class NotebookNode(dict):
    """A dict with attribute access, like nbformat's NotebookNode.

    Reading notebooks as JSON keeps ``--check`` fast: importing nbformat pulls in jsonschema's format checkers,
    which take a second or more to import. nbformat is imported only to write and execute notebooks.
    """

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


def _node(obj: Any) -> Any:
    if isinstance(obj, dict):
        return NotebookNode({k: _node(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [_node(v) for v in obj]
    return obj


class _Markers:
    def __init__(self, begin: str, end: str, placeholder: str, default: str | None) -> None:
        self.begin, self.end = re.compile(begin), re.compile(end)
        self.placeholder, self.default = re.compile(placeholder), default


CODE = _Markers(r"^(\s*)#\s*BEGIN SOLUTION\b", r"^\s*#\s*END SOLUTION\b",
                r"^(\s*)#\s*PLACEHOLDER:(.*)$", default="____")
MARKDOWN = _Markers(r"^(\s*)<!--\s*BEGIN SOLUTION\s*-->\s*$", r"^\s*<!--\s*END SOLUTION\s*-->\s*$",
                    r"^(\s*)<!--\s*PLACEHOLDER:(.*?)-->\s*$", default=None)


def strip_solutions(source: str, markers: _Markers = CODE) -> str:
    """The learner's version of one cell's source: solution regions replaced by their placeholders."""
    out: list[str] = []
    region: tuple[str, list[str], bool] | None = None  # (indent, placeholder lines, saw a PLACEHOLDER line)
    for number, line in enumerate(source.split("\n"), start=1):
        begin, end, placeholder = markers.begin.match(line), markers.end.match(line), markers.placeholder.match(line)
        if region is None:
            if begin:
                region = (begin.group(1), [], False)
            elif end or placeholder:
                raise EditionError(f"line {number}: {line.strip()!r} outside a solution region")
            else:
                out.append(line)
        elif begin:
            raise EditionError(f"line {number}: a solution region inside another one")
        elif end:
            indent, lines, seen = region
            if not seen and markers.default is not None:
                lines = [indent + markers.default]
            out.extend(lines)
            region = None
        elif placeholder:
            text = placeholder.group(2).strip()
            region = (region[0], region[1] + ([placeholder.group(1) + text] if text else []), True)
    if region is not None:
        raise EditionError("a solution region is never closed (no END SOLUTION line)")
    return "\n".join(out)


def _cell_id(notebook_name: str, index: int) -> str:
    return hashlib.sha1(f"{notebook_name}#{index}".encode()).hexdigest()[:12]


def _tidy_metadata(metadata: dict) -> dict:
    return {k: v for k, v in metadata.items() if k not in VOLATILE_CELL_METADATA}


def learner_source(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The learner edition of an instructor notebook, with empty outputs. Raises EditionError on bad markers."""
    learner = _node({"nbformat": 4, "nbformat_minor": 5, "cells": [],
                     "metadata": copy.deepcopy({k: v for k, v in nb.metadata.items() if k != "widgets"})})
    for index, cell in enumerate(nb.cells):
        if DROP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.source
        if cell.cell_type in ("code", "markdown"):
            try:
                source = strip_solutions(cell.source, CODE if cell.cell_type == "code" else MARKDOWN)
            except EditionError as exc:
                raise EditionError(f"{name}, cell {index + 1}: {exc}") from None
        if cell.cell_type == "markdown" and not source.strip() and cell.source.strip():
            continue  # the whole cell was a solution
        new = _node(dict(cell_type=cell.cell_type, id=cell.get("id") or _cell_id(name, index),
                         metadata=copy.deepcopy(_tidy_metadata(cell.get("metadata", {}))), source=source))
        if cell.cell_type == "code":
            new.update(outputs=[], execution_count=None)
        elif "attachments" in cell:
            new.attachments = copy.deepcopy(cell.attachments)
        learner.cells.append(new)
    return learner


SHOWN_CHECKOUT = "/home/you/background-jobs"  # stands for the author's checkout in stored outputs


def _without_this_machine(text: str) -> str:
    """`text` with this checkout's path replaced by a neutral one, and the learner's token in links by ``TOKEN``
    (the sanitizer masks both the same way; a stored notebook never carries the author's token)."""
    if _run_home is not None:  # the fresh state folder of this run is shown as the course's own .course/
        text = text.replace(str(_run_home), f"{SHOWN_CHECKOUT}/.course")
    return re.sub(r"course_token=[\w-]+", "course_token=TOKEN", text.replace(str(REPO_ROOT), SHOWN_CHECKOUT))


_run_home: Path | None = None  # the state folder of the edition being executed (see fresh_state_folder)


@contextmanager
def fresh_state_folder() -> Iterator[Path]:
    """An empty state folder (``COURSE_HOME``) for one edition's run, as the tests give each edition: what a run
    records never depends on what an earlier run left in ``.course/`` (a key, a job, a line in the append-only
    file). Every service started in it is stopped afterwards, and the folder removed."""
    global _run_home
    import tempfile

    from support import course

    before = os.environ.get("COURSE_HOME")
    with tempfile.TemporaryDirectory(prefix="editions-") as tmp:
        _run_home = Path(tmp)
        os.environ["COURSE_HOME"] = tmp
        try:
            yield _run_home
        finally:
            course.down()
            _run_home = None
            if before is None:
                os.environ.pop("COURSE_HOME", None)
            else:
                os.environ["COURSE_HOME"] = before


def _library_frame(entry: str) -> bool:
    """A traceback entry from an installed library (its file lies in a site-packages or lib/pythonX.Y folder)."""
    return bool(re.search(r"site-packages|dist-packages|/lib/python3\.\d+/", entry))


def tidy(nb: NotebookNode) -> NotebookNode:
    """Drop what changes between runs and machines: timing metadata, widget state, widget views (their text/plain
    stays; nbval compares only that), the kernel's exact Python version, this checkout's path, and the frames of
    installed libraries in stored tracebacks (nbval compares an error's name and message, not its traceback; the
    frames would show the author's virtual environment)."""
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata = type(cell.metadata)(_tidy_metadata(cell.metadata))
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/plain" in data:
                del data[WIDGET_VIEW]
            for mime in ("text/html", "text/plain"):
                if mime in data:
                    data[mime] = _without_this_machine("".join(data[mime]))
            if "text" in output:
                output["text"] = _without_this_machine("".join(output["text"]))
            if "traceback" in output:
                kept = [entry for entry in output["traceback"] if not _library_frame(entry)]
                if len(kept) < len(output["traceback"]):
                    kept.insert(-1, "(frames inside installed libraries left out)")
                output["traceback"] = [_without_this_machine(entry) for entry in kept]
    return nb


def execute(nb: NotebookNode, cwd: Path, timeout: int = 300, kernel: str = "python3") -> NotebookNode:
    """Run every cell in a fresh kernel with ``cwd`` as its working directory; the kernel is shut down after."""
    import nbformat  # imported here: --check stays fast
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)
    os.environ["COURSE_AUTORUN"] = "1"  # the kernel inherits it: the worker notebook stops once idle
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                            store_widget_state=False, resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        raise EditionError(f"{type(exc).__name__}: {exc}") from None
    return tidy(nb)


def read(path: Path) -> NotebookNode:
    """A version-4 notebook as JSON, with each cell's ``source`` joined into one string (as nbformat does)."""
    nb = _node(json.loads(path.read_text(encoding="utf-8")))
    if nb.get("nbformat") != 4:
        raise EditionError(f"{path.name}: nbformat {nb.get('nbformat')} notebooks are not supported (use 4)")
    for cell in nb.cells:
        if isinstance(cell.get("source"), list):
            cell.source = "".join(cell.source)
    return nb


def write(nb: NotebookNode, path: Path) -> bool:
    """Write the notebook; returns False (and leaves the file alone) when it is already byte-identical."""
    import nbformat

    text = nbformat.writes(nbformat.from_dict(nb)) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def strip_outputs(nb: NotebookNode) -> NotebookNode:
    """The notebook as a learner opens it: no outputs, no execution counts."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _sanitizer(rules: Path = SANITIZE_RULES) -> Callable[[str], str]:
    """The masks of ``tests/sanitize.cfg`` (what nbval applies before it compares) as one function."""
    import configparser

    config = configparser.RawConfigParser()
    config.read(rules, encoding="utf-8")
    masks = [(re.compile(config[name]["regex"]), config[name]["replace"]) for name in config.sections()]

    def sanitize(text: str) -> str:
        for pattern, replacement in masks:
            text = pattern.sub(replacement, text)
        return text

    return sanitize


def comparable(outputs: list[NotebookNode], sanitize: Callable[[str], str]) -> list[tuple]:
    """What nbval compares of a cell's outputs: streams merged by name, text/plain, error name and message."""
    seen: list[tuple] = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = sanitize("".join(output.get("text", "")))
            merged = next((i for i, o in enumerate(seen) if o[:2] == ("stream", output.get("name"))), None)
            if merged is None:
                seen.append(("stream", output.get("name"), text))
            else:
                seen[merged] = ("stream", output.get("name"), seen[merged][2] + text)
        elif kind in ("execute_result", "display_data"):
            seen.append(("data", sanitize("".join(output.get("data", {}).get("text/plain", "")))))
        elif kind == "error":
            seen.append(("error", output.get("ename"), sanitize(output.get("evalue", ""))))
    return seen


def learner_differences(instructor: NotebookNode, learner: NotebookNode) -> dict[str, list]:
    """Cell id -> outputs, for the executed learner cells whose outputs differ from the instructor's (masked)."""
    sanitize = _sanitizer()
    reference = {c.get("id"): c for c in instructor.cells if c.cell_type == "code"}
    found = {}
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        theirs = reference.get(cell.id)
        if theirs is None or comparable(cell.outputs, sanitize) != comparable(theirs.outputs, sanitize):
            found[cell.id] = copy.deepcopy(list(cell.outputs))
    return found


def outputs_file_for(learner_dir: Path) -> Path:
    """Where the learner edition in `learner_dir` records its own outputs: ``tests/learner_outputs.json`` beside it."""
    return learner_dir.parent / "tests" / "learner_outputs.json"


def read_learner_outputs(path: Path = LEARNER_OUTPUTS) -> dict[str, dict[str, list]]:
    """Notebook name -> cell id -> the learner's outputs where they differ from the instructor's."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_learner_outputs(table: dict[str, dict[str, list]], path: Path = LEARNER_OUTPUTS) -> None:
    text = json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def expected_learner(name: str, instructor_dir: Path = INSTRUCTOR_DIR, learner_dir: Path = LEARNER_DIR,
                     outputs_file: Path = LEARNER_OUTPUTS) -> NotebookNode:
    """A learner notebook with the outputs it must produce when run: per cell, the recorded difference if there
    is one, else the instructor cell's outputs (same id). A cell with neither is left unrun (nbval skips it)."""
    learner = read(learner_dir / name)
    differences = read_learner_outputs(outputs_file).get(name, {})
    reference = {c.get("id"): c for c in read(instructor_dir / name).cells if c.cell_type == "code"}
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        if cell.id in differences:
            cell.outputs, cell.execution_count = _node(copy.deepcopy(differences[cell.id])), 1
        elif cell.id in reference and reference[cell.id].get("execution_count") is not None:
            cell.outputs, cell.execution_count = _node(copy.deepcopy(reference[cell.id].outputs)), 1
    import nbformat

    return nbformat.reads(json.dumps(learner), as_version=4)  # as nbformat.read gives it: multi-line text joined


def notebook_names(directory: Path, names: Iterable[str] | None = None) -> list[str]:
    """``*.ipynb`` file names in ``directory`` (or just ``names``, given as names, stems or paths)."""
    if names:
        return sorted({n if n.endswith(".ipynb") else n + ".ipynb" for n in (Path(a).name for a in names)})
    return sorted(p.name for p in directory.glob("*.ipynb"))


def _carried_differences(learner: NotebookNode, old_path: Path, old: dict[str, list]) -> dict[str, list]:
    """The recorded differences of cells whose id and source are unchanged since the last build (--no-execute)."""
    if not old_path.exists():
        return {}
    before = {c.get("id"): c.source for c in read(old_path).cells if c.cell_type == "code"}
    return {cell.id: old[cell.id] for cell in learner.cells
            if cell.cell_type == "code" and cell.id in old and before.get(cell.id) == cell.source}


def build(instructor_dir: Path = INSTRUCTOR_DIR, learner_dir: Path = LEARNER_DIR, names: Iterable[str] | None = None,
          *, execute_learner: bool = True, timeout: int = 300, outputs_file: Path | None = None,
          log: Callable[[str], None] = print) -> list[str]:
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
        if execute_learner:
            log(f"executing {learner_dir.name}/{name} ...")
            try:
                executed = execute(learner, cwd=learner_dir, timeout=timeout)
            except EditionError as exc:
                raise EditionError(f"{learner_dir.name}/{name} failed:\n{exc}") from None
            table[name] = learner_differences(instructor, executed)
        else:
            table[name] = _carried_differences(learner, learner_dir / name, table.get(name, {}))
        if write(strip_outputs(learner), learner_dir / name):
            written.append(name)
            log(f"wrote {learner_dir.name}/{name}")
    for orphan in sorted(set(notebook_names(learner_dir)) - set(notebook_names(instructor_dir))):
        log(f"warning: {learner_dir.name}/{orphan} has no instructor notebook")
    write_learner_outputs({name: cells for name, cells in table.items() if (instructor_dir / name).exists()},
                          outputs_file)
    return written


def execute_instructor(instructor_dir: Path = INSTRUCTOR_DIR, names: Iterable[str] | None = None, *,
                       timeout: int = 300, log: Callable[[str], None] = print) -> None:
    """Re-execute instructor notebooks in place, with ``instructor_dir`` as the working directory."""
    for name in notebook_names(instructor_dir, names):
        log(f"executing {instructor_dir.name}/{name} ...")
        nb = read(instructor_dir / name)
        try:
            nb = execute(nb, cwd=instructor_dir, timeout=timeout)
        except EditionError as exc:
            raise EditionError(f"{instructor_dir.name}/{name} failed:\n{exc}") from None
        write(nb, instructor_dir / name)


def _shown(text: str) -> str:
    first = text.split("\n", 1)[0]
    return repr(first if len(first) <= 60 else first[:57] + "...")


def first_difference(expected: NotebookNode, found: NotebookNode) -> str | None:
    """Where two notebooks' cell sources (type, id, tags, source) first differ, in words; None when they match."""
    def key(c: NotebookNode) -> tuple:
        return c.cell_type, c.get("id"), c.get("metadata", {}).get("tags", []), c.source

    for index, (want, got) in enumerate(zip(expected.cells, found.cells), start=1):
        if key(want) != key(got):
            where = f"cell {index} ({want.cell_type}, id {want.get('id')})"
            if want.source != got.source:
                lines = zip(want.source.split("\n") + [""], got.source.split("\n") + [""])
                line, (a, b) = next((n, ab) for n, ab in enumerate(lines, start=1) if ab[0] != ab[1])
                return f"{where} differs at line {line}: expected {_shown(a)}, found {_shown(b)}"
            return f"{where} differs in its type, id or tags (found {got.cell_type}, id {got.get('id')})"
    if len(expected.cells) != len(found.cells):
        return f"expected {len(expected.cells)} cells, found {len(found.cells)}"
    return None


def check(instructor_dir: Path = INSTRUCTOR_DIR, learner_dir: Path = LEARNER_DIR,
          names: Iterable[str] | None = None) -> list[str]:
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
                problems.append(f"{learner_dir.name}/{name} is stored with outputs (the learner edition opens "
                                f"clean): run python tools/editions.py {name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="names like 02_redis (default: all)")
    parser.add_argument("--check", action="store_true", help="only compare sources; exit 1 when out of sync")
    parser.add_argument("--no-execute", action="store_true", help="do not execute the learner notebooks")
    parser.add_argument("--execute-instructor", action="store_true",
                        help="first re-execute the instructor notebooks in place")
    parser.add_argument("--instructor", type=Path, default=INSTRUCTOR_DIR, metavar="DIR")
    parser.add_argument("--learner", type=Path, default=LEARNER_DIR, metavar="DIR")
    parser.add_argument("--outputs", type=Path, default=None, metavar="FILE",
                        help="where the learner edition's own outputs are recorded (default: tests/learner_outputs.json "
                             "beside the learner folder)")
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
            build(args.instructor, args.learner, args.notebooks, execute_learner=not args.no_execute,
                  timeout=args.timeout, outputs_file=args.outputs)
    except EditionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
