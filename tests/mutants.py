"""Mutants of every exercise's reference solution, run against the real check with the real services (issue 28).

Each mutant is the reference with one small change made in its syntax tree (the operators are ``OPERATORS`` below);
it is run through its table's ``submit`` exactly as a learner's answer is, and is *killed* when the check does not
say correct (or raises, or runs out of time). A mutant the check accepts *survives*: a bug in the check, or a change
no learner could see, listed with its reason in ``Table.equivalent``. A multiple-choice question's mutants are its
wrong answers (``exercise_table.choice_table``).

    .venv/bin/python tests/mutants.py --exercise jobs.ex_route_urgent     # one exercise (or "jobs.Exercise 2")
    .venv/bin/python tests/mutants.py --module test_checks_jobs           # every table of a test module
    .venv/bin/python tests/mutants.py --all --jobs 2 --write-record       # make mutants
    .venv/bin/python tests/mutants.py --changed                           # those whose fingerprint left the record
    .venv/bin/python tests/mutants.py --exercise jobs.ex_route_urgent --list   # the mutants' ids and diffs, not run

Each exercise runs in a child process with a state folder of its own (``COURSE_HOME`` in a temporary folder, the
progress log there too), which resets the course between mutants as ``tests/conftest.py`` does between tests; when
it ends, every course process started in that folder is stopped. (mutmut and cosmic-ray mutate files of a package on
disk and judge the mutants by a test command's exit status; these references are source text in a check module,
judged by one check's Result, so a small mutator is used instead.)
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:  # run as a script, tests/ is already first; imported, it may not be there
    sys.path.insert(0, str(TESTS))
if str(ROOT) not in sys.path:  # after tests/: tests/conftest.py is the one _reset imports
    sys.path.append(str(ROOT))

from exercise_table import Table, choice_tables  # noqa: E402

from support.exercises import Exercise  # noqa: E402

RECORD = TESTS / "mutants_record.json"
TIMEOUT = 120.0  # seconds one mutant may take before it counts as killed (a check that waits forever rejects it)


# --- the mutator -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    """One variant of a reference: `id` says where and what changed (``L4 Compare Gt->GtE``), `source` is it."""

    id: str
    source: str


Change = tuple[str, Callable[[ast.AST], ast.AST | None]]  # (what, a function editing the copy's node in place or
# returning its replacement)

_COMPARE = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
_ARITHMETIC = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr,
    ast.LShift: ast.RShift, ast.RShift: ast.LShift,
}  # fmt: skip
OPERATORS = (
    "Constant: a number +1, -1, 0 or None; a string emptied, changed ('x' added) or None; True/False swapped",
    "Compare: < <=, > >=, == !=, in / not in, is / is not swapped",
    "BinOp, AugAssign: + -, * /, // /, % //, ** *, | &, << >> swapped",
    "BoolOp: and / or swapped; Not: a `not` removed",
    "Call: each positional argument dropped, each two neighbours swapped, each keyword argument dropped",
    "Delete: each statement deleted (`pass` if it was alone); not imports, docstrings or top-level definitions",
    "Twice: each call statement made twice",
    "Return: the value replaced by None and by 0",
    "Input: each use of a parameter replaced by each other parameter of its function and by None",
    "Terminal lines (not Python): each line deleted or typed twice, each word dropped, neighbours swapped, numbers",
)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:20] + "..." + text[-1]


def _constant_changes(node: ast.Constant) -> Iterator[Change]:
    value = node.value
    if isinstance(value, bool):
        yield f"{value}->{not value}", lambda n: ast.Constant(not value)
        return
    if isinstance(value, (int, float)) and not isinstance(value, complex):
        for new in (value + 1, value - 1, 0):
            if new != value:
                yield f"{_short(value)}->{_short(new)}", lambda n, new=new: ast.Constant(new)
    elif isinstance(value, str):
        if value:
            yield f"{_short(value)}->''", lambda n: ast.Constant("")
        yield f"{_short(value)}->{_short(value + 'x')}", lambda n: ast.Constant(value + "x")
    if value is not None and not isinstance(value, bytes):
        yield f"{_short(value)}->None", lambda n: ast.Constant(None)


def _set(attr: str, value: Any) -> Callable[[ast.AST], None]:
    def change(node: ast.AST) -> None:
        setattr(node, attr, value)

    return change


def _call_changes(node: ast.Call) -> Iterator[Change]:
    count = len(node.args)
    for i in range(count):
        if not isinstance(node.args[i], ast.Starred):
            yield f"drop arg {i + 1}", lambda n, i=i: n.args.pop(i) and None  # type: ignore[attr-defined]
    for i in range(count - 1):

        def swap(n: ast.AST, i: int = i) -> None:
            args = n.args  # type: ignore[attr-defined]
            args[i], args[i + 1] = args[i + 1], args[i]

        yield f"swap args {i + 1},{i + 2}", swap
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is not None:
            yield f"drop {keyword.arg}=", lambda n, i=i: n.keywords.pop(i) and None  # type: ignore[attr-defined]


def _changes(node: ast.AST, params: Sequence[str]) -> Iterator[tuple[str, Change]]:
    """(kind, change) for every mutant of `node` alone (statements' deletions are made by their body: _body_changes)."""
    if isinstance(node, ast.Constant):
        for change in _constant_changes(node):
            yield "Constant", change
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = _COMPARE.get(type(op))
            if new is not None:
                ops = [*node.ops[:i], new(), *node.ops[i + 1 :]]
                yield "Compare", (f"{type(op).__name__}->{new.__name__}", _set("ops", ops))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        new = _ARITHMETIC.get(type(node.op))
        if new is not None:
            yield type(node).__name__, (f"{type(node.op).__name__}->{new.__name__}", _set("op", new()))
    elif isinstance(node, ast.BoolOp):
        new_op = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield "BoolOp", (f"{type(node.op).__name__}->{new_op.__name__}", _set("op", new_op()))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "Not", ("removed", lambda n: n.operand)  # type: ignore[attr-defined]
    elif isinstance(node, ast.Call):
        for change in _call_changes(node):
            yield "Call", change
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "Return", ("None", _set("value", ast.Constant(None)))
        yield "Return", ("0", _set("value", ast.Constant(0)))
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in params:
        for other in params:
            if other != node.id:
                yield "Input", (f"{node.id}->{other}", _set("id", other))
        yield "Input", (f"{node.id}->None", lambda n: ast.Constant(None))


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _body_changes(node: ast.AST, top: bool) -> Iterator[tuple[int, str, Change]]:
    """(line, kind, change) deleting or doubling one statement of each statement list of `node`. Not deleted: imports,
    docstrings, ``pass``, top-level definitions (the answer would define nothing) and ``return value`` (Return None
    does the same)."""
    for name in ("body", "orelse", "finalbody"):
        body = getattr(node, name, None)
        if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
            continue
        for i, statement in enumerate(body):
            line = statement.lineno
            skip = isinstance(statement, (ast.Import, ast.ImportFrom, ast.Pass)) or (
                i == 0 and _is_docstring(statement)
            )
            skip = skip or (isinstance(statement, ast.Return) and statement.value is not None)
            if top and isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                skip = True
            if not skip:

                def delete(n: ast.AST, name: str = name, i: int = i) -> None:
                    statements = getattr(n, name)
                    statements.pop(i)
                    if not statements and name == "body":
                        statements.append(ast.Pass())

                yield line, "Delete", (type(statement).__name__, delete)
            value = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(value, ast.Await):
                value = value.value
            if isinstance(value, ast.Call):

                def twice(n: ast.AST, name: str = name, i: int = i) -> None:
                    statements = getattr(n, name)
                    statements.insert(i, copy.deepcopy(statements[i]))

                yield line, "Twice", ("call", twice)


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside annotations (never evaluated under ``from __future__ import annotations``)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        for annotation in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if isinstance(annotation, ast.AST):
                found.update(id(n) for n in ast.walk(annotation))
    return found


def _params_in_scope(tree: ast.AST) -> dict[int, list[str]]:
    """For each node inside a function (or lambda), the parameter names of its innermost function."""
    scope: dict[int, list[str]] = {}

    def visit(node: ast.AST, params: list[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            params = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs) if p.arg not in ("self", "cls")]
        scope[id(node)] = params
        for child in ast.iter_child_nodes(node):
            visit(child, params)

    visit(tree, [])
    return scope


@functools.cache
def _cached(source: str) -> tuple[Mutant, ...]:
    return tuple(_make(source))


def mutants(source: str) -> list[Mutant]:
    """Every mutant of `source` (``_make``), made once per process."""
    return list(_cached(source))


def _make(source: str) -> list[Mutant]:
    """Every mutant of `source` (Python), each once: the ones whose text equals the reference's or an earlier
    mutant's, and the ones that do not compile, are left out. Ids are ``L<line> <kind> <what>``, with ``#2``... when
    two changes on one line read the same. Source that is not Python (typed in a terminal) gets ``text_mutants``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return text_mutants(source)
    plain = ast.unparse(tree)
    nodes = list(ast.walk(tree))
    skip = _annotation_nodes(tree)
    scope = _params_in_scope(tree)
    planned: list[tuple[int, str, int, Change]] = []  # (node index, kind, line, change)
    for index, node in enumerate(nodes):
        if id(node) not in skip:
            for kind, change in _changes(node, scope.get(id(node), [])):
                planned.append((index, kind, getattr(node, "lineno", 0), change))
        for line, kind, change in _body_changes(node, top=node is tree):
            planned.append((index, kind, line, change))
    found: list[Mutant] = []
    seen = {plain}
    ids: dict[str, int] = {}
    for index, kind, line, (what, change) in planned:
        copy_tree = copy.deepcopy(tree)
        target = list(ast.walk(copy_tree))[index]
        replacement = change(target)
        if replacement is not None and replacement is not target:
            if not _replace(copy_tree, target, replacement):
                continue
        ast.fix_missing_locations(copy_tree)
        try:
            text = ast.unparse(copy_tree)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        label = f"L{line} {kind} {what}"
        ids[label] = ids.get(label, 0) + 1
        found.append(Mutant(label if ids[label] == 1 else f"{label} #{ids[label]}", text))
    return found


def text_mutants(source: str) -> list[Mutant]:
    """Mutants of lines typed in a terminal: each line deleted or typed twice, each word dropped, each two neighbouring
    words swapped, each number +1, -1 or 0."""
    lines = source.splitlines()
    found: dict[str, str] = {}

    def add(label: str, number: int, new_lines: list[str]) -> None:
        text = "\n".join(new_lines)
        if text != source and text not in found.values():
            found.setdefault(f"L{number} {label}", text)

    for i, line in enumerate(lines):
        number, words = i + 1, line.split()
        add("Delete line", number, lines[:i] + lines[i + 1 :])
        add("Twice line", number, lines[: i + 1] + lines[i:])
        for j, word in enumerate(words):
            add(
                f"Drop word {_short(word)}", number, [*lines[:i], " ".join(words[:j] + words[j + 1 :]), *lines[i + 1 :]]
            )
            if j + 1 < len(words):
                swapped = [*words[:j], words[j + 1], word, *words[j + 2 :]]
                add(f"Swap words {j + 1},{j + 2}", number, [*lines[:i], " ".join(swapped), *lines[i + 1 :]])
            if word.isdigit():
                for new in {int(word) + 1, int(word) - 1, 0} - {int(word)}:
                    changed = [*words[:j], str(new), *words[j + 1 :]]
                    add(f"Number {word}->{new}", number, [*lines[:i], " ".join(changed), *lines[i + 1 :]])
    return [Mutant(label, text) for label, text in found.items()]


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> bool:
    """Put `new` where `old` is in `tree`; False if `old` has no parent (the tree itself)."""
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return True
            if isinstance(value, list) and any(item is old for item in value):
                value[[i for i, item in enumerate(value) if item is old][0]] = new
                return True
    return False


def _unparsed(source: str) -> str:
    """Python source as the mutants are written (``ast.unparse``); other text as it is."""
    try:
        return ast.unparse(ast.parse(source))
    except SyntaxError:
        return source


def diff(reference: str, mutant: str) -> str:
    """The lines a mutant changed, as a unified diff of the unparsed reference and the mutant."""
    reference = _unparsed(reference)
    lines = difflib.unified_diff(reference.splitlines(), mutant.splitlines(), "reference", "mutant", lineterm="", n=0)
    return "\n".join(line for line in lines if not line.startswith(("---", "+++", "@@")))


def mutants_of(table: Table) -> list[Mutant]:
    """A table's mutants: its reference's, or a multiple-choice question's wrong answers."""
    if getattr(table, "choice", False):
        return [Mutant(f"answer {requirement.wrong}", requirement.wrong) for requirement in table.requirements]
    return mutants(table.reference_source)


# --- the tables --------------------------------------------------------------------------------------------------


def table_modules() -> list[str]:
    """The test modules that declare tables: tests/test_checks_*.py."""
    return sorted(path.stem for path in TESTS.glob("test_checks_*.py"))


def exercise_key(exercise: Exercise) -> str:
    """An exercise's name in the record and on the command line: ``<check module>.<variable>``, as
    ``jobs.ex_route_urgent`` (its own name, ``Exercise 2``, if no variable of its module holds it)."""
    module = sys.modules.get(exercise.module)
    variable = next((n for n, v in vars(module or object()).items() if v is exercise), exercise.name)
    return f"{exercise.module.rsplit('.', 1)[-1]}.{variable}"


def key(table: Table) -> str:
    """The table's exercise's key (``exercise_key``)."""
    return exercise_key(table.exercise)


def load_tables(modules: Sequence[str] | None = None) -> dict[str, Table]:
    """Every table (by ``key``) of the given test modules (default: all of them), then the multiple-choice tables."""
    tables: dict[str, Table] = {}
    for name in table_modules() if modules is None else modules:
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - one broken module must not hide the others' tables
            print(f"mutants: cannot import {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        for table in getattr(module, "TABLES", ()):
            tables[key(table)] = table
    if modules is None:
        for table in choice_tables():
            tables.setdefault(key(table), table)
    return tables


def find(tables: dict[str, Table], name: str) -> str:
    """The key of the table `name` means: a key (``jobs.ex_route_urgent``) or a Table.name (``jobs.Exercise 2``)."""
    if name in tables:
        return name
    for k, table in tables.items():
        if table.name == name:
            return k
    raise SystemExit(f"No table for {name!r}; known: {', '.join(sorted(tables))}")


def _source_of(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return re.sub(r" at 0x[0-9a-f]+", "", repr(obj))


@functools.cache
def _check_files(module_name: str) -> tuple[Path, ...]:
    """The file of a check module and of the support.checks modules it imports (relatively), transitively."""
    files: list[Path] = []
    todo = [module_name]
    while todo:
        name = todo.pop()
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or Path(spec.origin) in files:
            continue
        path = Path(spec.origin)
        files.append(path)
        if not name.startswith("support.checks"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                base = "support.checks" + (f".{node.module}" if node.module else "")
                todo.append(base)
                if not node.module:
                    todo.extend(f"support.checks.{alias.name}" for alias in node.names)
    return tuple(sorted(files))


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def fingerprint(table: Table) -> str:
    """A hash that changes when the exercise's check, reference, mutants or table changes: the source of its check
    module and the check modules that one imports, the table's answers, equivalents, submit and setup, and every
    mutant's source (so a new operator counts too)."""
    parts = [table.reference_source, _source_of(table.submit), _source_of(table.setup)]
    parts += [*table.right, *(f"{r.text}\n{r.wrong}\n{r.names}" for r in table.requirements)]
    parts += [f"{k}: {v}" for k, v in sorted(table.equivalent.items())]
    parts += [m.id + "\n" + m.source for m in mutants_of(table)]
    parts += [_text(path) for path in _check_files(table.exercise.module)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


# --- running: a child process per exercise ----------------------------------------------------------------------


def _reset() -> None:
    """Between two mutants, a clean course as between two tests (tests/conftest.py's reset of the shared folder)."""
    from conftest import _reset_shared  # tests/conftest.py

    _reset_shared()


def _child(name: str, modules: Sequence[str] | None, start: int) -> None:
    """Run exercise `name`'s reference (first) and its mutants from number `start`, one JSON line each on stdout."""
    tables = load_tables(modules)
    tables.update({key(t): t for t in choice_tables() if key(t) not in tables})
    table = tables[name]
    items = [Mutant("(reference)", _unparsed(table.reference_source))] if start == 0 else []
    items += mutants_of(table)[max(start - 1, 0) :] if start else mutants_of(table)
    out = sys.stdout
    sys.stdout = sys.stderr  # what the check or the learner's code prints goes to the log, not the protocol
    for mutant in items:
        began = time.monotonic()
        try:
            if not getattr(table, "choice", False):
                _reset()
            table.setup()
            result = table.submit(mutant.source)
            line = {"kind": result.kind, "message": result.message}
        except BaseException as exc:  # noqa: BLE001 - a mutant that makes the check raise is rejected
            if isinstance(exc, KeyboardInterrupt):
                raise
            line = {"kind": "raised", "message": f"{type(exc).__name__}: {exc}"}
        line.update(id=mutant.id, seconds=round(time.monotonic() - began, 2))
        out.write(json.dumps(line) + "\n")
        out.flush()


@dataclass
class Outcome:
    """What the run of one exercise's mutants found."""

    key: str
    notebook: str
    tried: int = 0
    killed: int = 0
    equivalent: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    stale_equivalent: list[str] = field(default_factory=list)  # listed equivalent, yet the check rejected it
    error: str = ""  # the reference itself was not accepted: nothing else is trustworthy
    seconds: float = 0.0
    diffs: dict[str, str] = field(default_factory=dict)


def _course_processes_in(home: Path) -> list[Any]:
    from support.services import processes

    found = []
    for proc in processes.course_processes():
        try:
            if proc.environ().get("COURSE_HOME", "").startswith(str(home)):
                found.append(proc)
        except Exception:  # noqa: BLE001 - gone meanwhile
            continue
    return found


def _clean(home: Path, env: dict[str, str]) -> None:
    """Stop everything started in `home` (``python -m support down`` there, then any process still marked)."""
    subprocess.run([sys.executable, "-m", "support", "down"], env=env, cwd=ROOT, capture_output=True, timeout=120)
    for proc in _course_processes_in(home):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - gone meanwhile
            pass


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Hand the child's lines to the parent one by one; None when the child closed its output."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_exercise(name: str, table: Table, modules: Sequence[str] | None = None, timeout: float = TIMEOUT) -> Outcome:
    """Run the reference and every mutant of one exercise in a child process with a state folder of its own (a
    mutant that runs longer than `timeout` is counted killed, and a new child goes on with the next one)."""
    from support.checks import notebook_of

    planned = mutants_of(table)
    sources = {m.id: m.source for m in planned}
    outcome = Outcome(name, notebook_of(table.exercise) or "?", tried=len(planned))
    if table.choice:  # a question's check needs no service and no state: run here
        return _run_choice(table, outcome)
    scratch = Path(tempfile.mkdtemp(prefix="mutants-"))
    home, log = scratch / "course", scratch / "child.log"
    env = {**os.environ, "COURSE_HOME": str(home), "COURSE_PROGRESS_FILE": str(scratch / "progress.jsonl")}
    env.pop("REDIS_URL", None)
    began = time.monotonic()
    done = 0  # replies read: the reference's, then one per mutant
    try:
        while done <= len(planned) and not outcome.error:
            argv = [sys.executable, __file__, "--child", name, "--start", str(done)]
            argv += [f"--module={m}" for m in modules or ()]
            with open(log, "a") as errors:
                child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=ROOT)
            lines: queue.Queue[str | None] = queue.Queue()
            reader = threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True)
            reader.start()
            while True:
                try:
                    text = lines.get(timeout=timeout)
                except queue.Empty:
                    child.kill()
                    if done == 0:
                        outcome.error = f"the reference took more than {timeout:g} s"
                    else:
                        outcome.killed += 1
                        outcome.timeouts.append(planned[done - 1].id)
                    done += 1
                    break
                if text is None:  # the child ended
                    if child.wait() != 0 and done <= len(planned):
                        outcome.error = f"the child process ended with status {child.returncode}"
                    break
                reply = json.loads(text)
                accepted = reply["kind"] == "correct"
                if done == 0 and not accepted:
                    outcome.error = f"the reference was not accepted: {reply['kind']}: {reply['message']}"
                    child.kill()
                    break
                if done > 0 and accepted and reply["id"] in table.equivalent:
                    outcome.equivalent.append(reply["id"])
                elif done > 0 and accepted:
                    outcome.survived.append(reply["id"])
                    outcome.diffs[reply["id"]] = diff(table.reference_source, sources[reply["id"]])
                elif done > 0:
                    outcome.killed += 1
                    if reply["id"] in table.equivalent:
                        outcome.stale_equivalent.append(f"{reply['id']} ({reply['message'][:400]})")
                done += 1
            child.wait()
            reader.join(5)
            if child.stdout is not None:
                child.stdout.close()
        if outcome.error:
            tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
            outcome.error += "".join("\n      " + line for line in tail)
    finally:
        _clean(home, env)
        shutil.rmtree(scratch, ignore_errors=True)
    outcome.seconds = round(time.monotonic() - began, 1)
    return outcome


def _run_choice(table: Table, outcome: Outcome) -> Outcome:
    """A multiple-choice question's wrong answers, run in this process: each must be rejected."""
    began = time.monotonic()
    if not table.submit(table.reference_source).correct:
        outcome.error = "the right answer was not accepted"
    for mutant in mutants_of(table):
        if table.submit(mutant.source).correct:
            outcome.survived.append(mutant.id)
            outcome.diffs[mutant.id] = f"-    {table.reference_source}\n+    {mutant.source}"
        else:
            outcome.killed += 1
    outcome.seconds = round(time.monotonic() - began, 1)
    return outcome


def run(
    names: Sequence[str],
    tables: dict[str, Table],
    modules: Sequence[str] | None = None,
    jobs: int = 1,
    timeout: float = TIMEOUT,
) -> list[Outcome]:
    """Run the exercises' mutants, `jobs` exercises at a time (each in its own state folder); report as they end."""
    results: dict[str, Outcome] = {}
    todo: queue.Queue[str] = queue.Queue()
    for name in names:
        todo.put(name)
    lock = threading.Lock()

    def work() -> None:
        while True:
            try:
                name = todo.get_nowait()
            except queue.Empty:
                return
            outcome = run_exercise(name, tables[name], modules, timeout)
            with lock:
                results[name] = outcome
                print(_row(outcome), flush=True)

    threads = [threading.Thread(target=work) for _ in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[name] for name in names]


# --- reporting and the record -------------------------------------------------------------------------------------

HEADER = f"{'exercise':40} {'tried':>6} {'killed':>6} {'equiv':>6} {'surv':>6} {'secs':>6}"


def _row(o: Outcome) -> str:
    flag = f"  ERROR: {o.error.splitlines()[0]}" if o.error else ""
    return f"{o.key:40} {o.tried:6} {o.killed:6} {len(o.equivalent):6} {len(o.survived):6} {o.seconds:6.0f}{flag}"


def report(outcomes: Sequence[Outcome]) -> str:
    """The score per exercise, every survivor with its diff, and the score per notebook."""
    lines = ["", HEADER, *map(_row, outcomes)]
    for o in outcomes:
        if o.error:
            lines += ["", f"ERROR {o.key}: {o.error}"]
        for mutant in o.survived:
            lines += ["", f"SURVIVED {o.key}: {mutant}", *("    " + x for x in o.diffs.get(mutant, "").splitlines())]
        for mutant in o.timeouts:
            lines.append(f"timed out (counted killed) {o.key}: {mutant}")
        for mutant in o.stale_equivalent:
            lines.append(f"listed as equivalent but rejected {o.key}: {mutant} (take it out of Table.equivalent)")
    lines += ["", f"{'notebook':40} {'tried':>6} {'killed':>6} {'equiv':>6} {'surv':>6} {'secs':>6}"]
    for notebook in sorted({o.notebook for o in outcomes}):
        mine = [o for o in outcomes if o.notebook == notebook]
        lines.append(
            f"{notebook:40} {sum(o.tried for o in mine):6} {sum(o.killed for o in mine):6} "
            f"{sum(len(o.equivalent) for o in mine):6} {sum(len(o.survived) for o in mine):6} "
            f"{sum(o.seconds for o in mine):6.0f}"
        )
    return "\n".join(lines)


def read_record(path: Path = RECORD) -> dict[str, dict[str, Any]]:
    """The committed record: exercise key -> its last run (fingerprint, tried, killed, equivalent, survived, date)."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("exercises", {}))


def write_record(outcomes: Sequence[Outcome], tables: dict[str, Table], path: Path = RECORD, prune: bool = False):
    """Store the runs in the record (an exercise whose reference failed is left out); with `prune`, drop the
    exercises that have no table any more."""
    record = read_record(path)
    for o in outcomes:
        if o.error:
            record.pop(o.key, None)
            continue
        record[o.key] = {
            "notebook": o.notebook,
            "fingerprint": fingerprint(tables[o.key]),
            "tried": o.tried,
            "killed": o.killed,
            "equivalent": {m: tables[o.key].equivalent[m] for m in sorted(o.equivalent)},  # id: the reason
            "survived": sorted(o.survived),
            "seconds": o.seconds,
            "date": date.today().isoformat(),
        }
    if prune:
        record = {k: v for k, v in record.items() if k in tables}
    text = json.dumps({"exercises": dict(sorted(record.items()))}, indent=1, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def changed(tables: dict[str, Table], record: dict[str, dict[str, Any]]) -> list[str]:
    """The exercises whose fingerprint is not the record's (or that the record lacks)."""
    return [k for k, t in tables.items() if record.get(k, {}).get("fingerprint") != fingerprint(t)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--exercise", action="append", help="module.name: jobs.ex_route_urgent or 'jobs.Exercise 2'")
    parser.add_argument("--module", action="append", help="a test module: test_checks_jobs (only its tables)")
    which.add_argument("--all", action="store_true", help="every table (and every multiple-choice question)")
    which.add_argument("--changed", action="store_true", help="the exercises whose fingerprint left the record")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--exclude", action="append", default=[], help="leave out a notebook: 12_django_tasks")
    parser.add_argument("--list", action="store_true", help="print the mutants' ids and diffs; run nothing")
    parser.add_argument("--jobs", type=int, default=1, help="exercises run at once, each in its own state folder")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per mutant (default %(default)s)")
    parser.add_argument("--write-record", action="store_true", help=f"store the runs in {RECORD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.module, args.start)
        return 0
    tables = load_tables(args.module)
    from support.checks import notebook_of

    tables = {k: t for k, t in tables.items() if notebook_of(t.exercise) not in args.exclude}
    if args.exercise:
        names = [find(tables, name) for name in args.exercise]
    elif args.changed:
        names = changed(tables, read_record())
    else:
        names = list(tables)
    if args.list:
        for name in names:
            table = tables[name]
            print(f"{name}: {len(mutants_of(table))} mutants")
            for mutant in mutants_of(table):
                print(
                    f"  {mutant.id}\n"
                    + "\n".join("      " + x for x in diff(table.reference_source, mutant.source).splitlines())
                )
        return 0
    began = time.monotonic()
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="mutants-progress-") as scratch:  # the checks run in this process log
        os.environ["COURSE_PROGRESS_FILE"] = str(Path(scratch) / "progress.jsonl")  # there, not in the learner's file
        outcomes = run(names, tables, args.module, args.jobs, args.timeout)
    print(report(outcomes))
    print(f"\n{len(outcomes)} exercises in {time.monotonic() - began:.0f} s")
    if args.write_record:
        write_record(outcomes, tables, prune=args.all)
        print(f"Record written: {RECORD.relative_to(ROOT)}")
    return 1 if any(o.survived or o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
