"""The learner edition's own outputs: where they differ from the instructor's, and what nbval expects of it.

The learner edition is stored without outputs. Executed, the few cells where it legitimately differs from the
instructor edition (a blank exercise, its check saying "Not attempted", a later cell falling back to the reference)
are compared as nbval compares them (after ``tests/sanitize.cfg``'s masks) and recorded in
``tests/learner_outputs.json``. Under pytest, ``expected_learner`` gives nbval a learner notebook's expected
outputs: the instructor's, cell by cell, except those recorded differences.
"""

from __future__ import annotations

import configparser
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

from tools.notebook_files import INSTRUCTOR_DIR, LEARNER_DIR, REPO_ROOT, NotebookNode, as_node, read

LEARNER_OUTPUTS = REPO_ROOT / "tests" / "learner_outputs.json"  # for notebooks/; see outputs_file_for
SANITIZE_RULES = REPO_ROOT / "tests" / "sanitize.cfg"


def sanitizer(rules: Path = SANITIZE_RULES) -> Callable[[str], str]:
    """The masks of ``tests/sanitize.cfg`` (what nbval applies before it compares) as one function."""
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
    sanitize = sanitizer()
    reference = {c.get("id"): c for c in instructor.cells if c.cell_type == "code"}
    found = {}
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        theirs = reference.get(cell.id)
        if theirs is None or comparable(cell.outputs, sanitize) != comparable(theirs.outputs, sanitize):
            found[cell.id] = copy.deepcopy(list(cell.outputs))
    return found


def carried_differences(learner: NotebookNode, old_path: Path, old: dict[str, list]) -> dict[str, list]:
    """The recorded differences of cells whose id and source are unchanged since the last build (--no-execute)."""
    if not old_path.exists():
        return {}
    before = {c.get("id"): c.source for c in read(old_path).cells if c.cell_type == "code"}
    return {
        cell.id: old[cell.id]
        for cell in learner.cells
        if cell.cell_type == "code" and cell.id in old and before.get(cell.id) == cell.source
    }


def outputs_file_for(learner_dir: Path) -> Path:
    """Where the learner edition in `learner_dir` records its own outputs: ``tests/learner_outputs.json`` beside it."""
    return learner_dir.parent / "tests" / "learner_outputs.json"


def read_learner_outputs(path: Path = LEARNER_OUTPUTS) -> dict[str, dict[str, list]]:
    """Notebook name -> cell id -> the learner's outputs where they differ from the instructor's."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write_learner_outputs(table: dict[str, dict[str, list]], path: Path = LEARNER_OUTPUTS) -> None:
    """Record `table` (as `read_learner_outputs` returns it); the file is left alone when it already says that."""
    text = json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def expected_learner(
    name: str,
    instructor_dir: Path = INSTRUCTOR_DIR,
    learner_dir: Path = LEARNER_DIR,
    outputs_file: Path = LEARNER_OUTPUTS,
) -> NotebookNode:
    """A learner notebook with the outputs it must produce when run: per cell, the recorded difference if there
    is one, else the instructor cell's outputs (same id). A cell with neither is left unrun (nbval skips it)."""
    learner = read(learner_dir / name)
    differences = read_learner_outputs(outputs_file).get(name, {})
    reference = {c.get("id"): c for c in read(instructor_dir / name).cells if c.cell_type == "code"}
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        if cell.id in differences:
            cell.outputs, cell.execution_count = as_node(copy.deepcopy(differences[cell.id])), 1
        elif cell.id in reference and reference[cell.id].get("execution_count") is not None:
            cell.outputs, cell.execution_count = as_node(copy.deepcopy(reference[cell.id].outputs)), 1
    import nbformat

    return nbformat.reads(json.dumps(learner), as_version=4)  # as nbformat.read gives it: multi-line text joined
