"""The two editions' notebook files: where they live, and reading and writing them as plain JSON.

Reading notebooks as JSON keeps ``python tools/editions.py --check`` fast: importing nbformat pulls in jsonschema's
format checkers, which take a second or more to import. nbformat is imported only to write a notebook.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR_DIR = REPO_ROOT / "instructor"
LEARNER_DIR = REPO_ROOT / "notebooks"
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")


class EditionError(ValueError):
    """A notebook whose solution markers do not pair up, or that failed to execute."""


class NotebookNode(dict):
    """A dict with attribute access, like nbformat's NotebookNode (without importing nbformat)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


def as_node(obj: Any) -> Any:
    """`obj` (parsed JSON) with every dict in it a `NotebookNode`."""
    if isinstance(obj, dict):
        return NotebookNode({k: as_node(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [as_node(v) for v in obj]
    return obj


def without_volatile_metadata(metadata: dict) -> dict:
    """A cell's metadata without what changes from run to run (execution timing)."""
    return {k: v for k, v in metadata.items() if k not in VOLATILE_CELL_METADATA}


def read(path: Path) -> NotebookNode:
    """A version-4 notebook as JSON, with each cell's ``source`` joined into one string (as nbformat does)."""
    nb = as_node(json.loads(path.read_text(encoding="utf-8")))
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


def notebook_names(directory: Path, names: Iterable[str] | None = None) -> list[str]:
    """``*.ipynb`` file names in ``directory`` (or just ``names``, given as names, stems or paths)."""
    if names:
        return sorted({n if n.endswith(".ipynb") else n + ".ipynb" for n in (Path(a).name for a in names)})
    return sorted(p.name for p in directory.glob("*.ipynb"))
