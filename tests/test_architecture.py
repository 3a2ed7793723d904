"""The shape of support/: layers that import only downwards, no import cycle, short modules, a short top level with
no module standing in for another, and the map in CONTRIBUTING.md listing exactly the modules there are."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "support"
MAX_LINES = 300
MAX_TOP_LEVEL_MODULES = 14  # the job modules, tiny_queue and the entry points; everything else lives in a subpackage

# Bottom layer first; a module may import from its own layer or a lower one.
LAYERS: dict[str, int] = {
    "services": 0,
    "exercises": 0,
    "rq_helpers": 1,
    "workit": 2,
    "widgets": 4,
    "lessons": 5,
    "checks": 6,
}
JOB_MODULES = {
    "jobs",
    "active_job",
    "failure_jobs",
    "demo_jobs",
    "tiny_queue",
    "export_jobs",
    "production_jobs",
    "ops_jobs",
    "ops_cron_config",
}  # layer 3, at the top level
ENTRY_LAYER = 7  # cli, __main__, dashboard, progress


def module_names() -> list[str]:
    """Every module of support/ as a dotted name (packages as their __init__'s name)."""
    names = []
    for path in sorted(SUPPORT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def path_of(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def layer(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1:
        return ENTRY_LAYER  # support/__init__.py
    if parts[1] in LAYERS:
        return LAYERS[parts[1]]
    return 3 if parts[1] in JOB_MODULES else ENTRY_LAYER


def imports_of(name: str, known: set[str]) -> set[str]:
    """The support modules that `name` imports anywhere in its code (also inside functions)."""
    package = name if path_of(name).name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path_of(name).read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = set(module_names())
    return {name: imports_of(name, known) for name in known}


def test_the_graph_sees_the_imports_it_should(graph: dict[str, set[str]]) -> None:
    # a check on the checker: relative, parent-relative and function-level imports are all found
    assert "support.services.maildir" in graph["support.services.inbox"]
    assert "support.rq_helpers.queues" in graph["support.workit.web"]  # imported inside a method
    assert "support.services.course" in graph["support.cli"]  # from .services import course: a module by name


def test_every_import_goes_to_the_same_layer_or_a_lower_one(graph: dict[str, set[str]]) -> None:
    upward = sorted(
        f"{name} (layer {layer(name)}) imports {other} (layer {layer(other)})"
        for name, others in graph.items()
        for other in others
        if layer(other) > layer(name) and not (other == "support" and name.startswith("support."))
    )
    assert upward == []


def test_support_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            pytest.fail("import cycle: " + " -> ".join(path[path.index(name) :] + [name]))
        if name in done:
            return
        for other in sorted(graph[name]):
            if other != "support":  # every module's package is imported first; it imports only a leaf (below)
                visit(other, path + [name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    # the package itself imports only platforms (to refuse native Windows on import), which imports nothing of
    # support: so every module's package still comes first with no way back to it
    assert graph["support"] <= {"support.services.platforms"}
    assert graph["support.services.platforms"] == set()


@pytest.mark.parametrize("name", module_names())
def test_no_module_is_over_300_lines(name: str) -> None:
    lines = len(path_of(name).read_text().splitlines())
    assert lines <= MAX_LINES, f"{path_of(name).relative_to(ROOT)} has {lines} lines: split it by concern"


def test_the_top_level_of_support_stays_short() -> None:
    top = sorted(path.name for path in SUPPORT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, (
        f"{len(top)} modules directly in support/: {top}; put new code into "
        "the subpackage of its layer (CONTRIBUTING.md, 'Where new code goes')"
    )


def _writes_to_sys_modules(tree: ast.AST) -> list[ast.AST]:
    """Where `tree` stores into sys.modules: ``sys.modules[...] = ...`` or a call of its update, setdefault or
    __setitem__ (deleting is not storing)."""

    def is_sys_modules(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "modules"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        )

    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and is_sys_modules(node.value):
            found.append(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "setdefault", "__setitem__")
            and is_sys_modules(node.func.value)
        ):
            found.append(node)
    return found


def test_the_checker_finds_writes_to_sys_modules() -> None:
    writes = "import sys\nsys.modules[__name__] = x\nsys.modules.update(a=x)\n"
    reads = "import sys\ny = sys.modules.get('a')\ndel sys.modules['a']\nsys.modules.pop('a', None)\n"
    assert len(_writes_to_sys_modules(ast.parse(writes))) == 2
    assert _writes_to_sys_modules(ast.parse(reads)) == []


# The one module that stores into sys.modules: it loads a learner's .py file (gif_sender_job.py) afresh under that
# file's own name, so that RQ can import the learner's job by its module path. It never stores a module of support.
LOADS_LEARNER_FILES = {"support.exercises.module_files"}


@pytest.mark.parametrize("name", module_names())
def test_no_module_of_support_assigns_to_sys_modules(name: str) -> None:
    """A module that replaces itself in sys.modules (an alias) defines nothing that editors, type checkers or Jedi
    can see; import the module by the path where it lives instead."""
    writes = _writes_to_sys_modules(ast.parse(path_of(name).read_text()))
    if name in LOADS_LEARNER_FILES:
        assert writes, f"{name} no longer stores into sys.modules: take it off LOADS_LEARNER_FILES"
        source = path_of(name).read_text()
        assert "sys.modules[__name__]" not in source
        return
    where = ", ".join(f"line {node.lineno}" for node in writes)
    assert writes == [], f"{path_of(name).relative_to(ROOT)} assigns to sys.modules ({where})"


def _map_from_contributing() -> dict[str, set[str]]:
    """{"services": {"state", ...}, "": {top-level modules}} from the map section of CONTRIBUTING.md."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text.split("## The support package: a map", 1)[1].split("\nWhere new code goes", 1)[0]
    found: dict[str, set[str]] = {}
    for item in re.split(r"\n- ", section)[1:]:
        package = re.match(r"`([\w/]+)/`", item)
        key = package.group(1) if package else ""
        names = set(re.findall(r"`(\w+)`", item[package.end() :] if package else item))
        found.setdefault(key, set()).update(names)
    return found


def _tree() -> dict[str, set[str]]:
    tree: dict[str, set[str]] = {}
    for path in SUPPORT.rglob("*.py"):
        if path.stem in ("__init__", "__main__"):
            continue
        folder = path.parent.relative_to(SUPPORT).as_posix()
        tree.setdefault("" if folder == "." else folder, set()).add(path.stem)
    return tree


def test_the_map_in_contributing_lists_exactly_the_modules_there_are() -> None:
    listed, tree = _map_from_contributing(), _tree()
    missing = sorted(f"{pkg}/{m}" if pkg else m for pkg, names in tree.items() for m in names - listed.get(pkg, set()))
    stale = sorted(f"{pkg}/{m}" if pkg else m for pkg, names in listed.items() for m in names - tree.get(pkg, set()))
    assert missing == [], "modules that CONTRIBUTING.md's map does not list"
    assert stale == [], "CONTRIBUTING.md's map lists modules that do not exist"


def test_each_lesson_module_names_the_notebook_that_uses_it() -> None:
    notebooks = {path.stem for path in (ROOT / "instructor").glob("*.ipynb")}
    lesson_modules = [
        *sorted((SUPPORT / "lessons").glob("[!_]*.py")),
        *(
            SUPPORT / f"{name}.py"
            for name in ("failure_jobs", "demo_jobs", "tiny_queue", "ops_jobs", "ops_cron_config")
        ),
    ]
    for path in lesson_modules:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert any(nb in doc for nb in notebooks), f"{path.name}'s docstring names none of {sorted(notebooks)}"
