"""Executing a notebook for its stored edition: a fresh state folder, a fresh kernel, outputs tidied of this machine.

What is stored shows nothing of the machine it ran on: not the checkout's path, the run's state folder, the
learner's token, the kernel's exact Python version, widget state or the frames of installed libraries.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.notebook_files import REPO_ROOT, EditionError, NotebookNode, without_volatile_metadata

SHOWN_CHECKOUT = "/home/you/background-jobs"  # stands for the author's checkout in stored outputs
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# The last state of the course's widgets, as static HTML for the website (support.widgets.live.snapshots,
# tools/site.py): asked of the kernel after the last cell, kept in the notebook's metadata (nbval compares no
# metadata). Only the instructor edition keeps them; the learner edition opens clean.
WIDGET_SNAPSHOTS = "course_widgets"
_SNAPSHOT_SOURCE = (
    "import json as _json, sys as _sys\n"
    "if 'support.widgets.live' in _sys.modules:\n"
    "    print(_json.dumps(_sys.modules['support.widgets.live'].snapshots()))"
)

_run_home: Path | None = None  # the state folder of the edition being executed (see fresh_state_folder)


def _without_this_machine(text: str) -> str:
    """`text` with this checkout's path replaced by a neutral one, and the learner's token in links by ``TOKEN``
    (the sanitizer masks both the same way; a stored notebook never carries the author's token)."""
    if _run_home is not None:  # the fresh state folder of this run is shown as the course's own .course/
        text = text.replace(str(_run_home), f"{SHOWN_CHECKOUT}/.course")
    return re.sub(r"course_token=[\w-]+", "course_token=TOKEN", text.replace(str(REPO_ROOT), SHOWN_CHECKOUT))


@contextmanager
def fresh_state_folder() -> Iterator[Path]:
    """An empty state folder (``COURSE_HOME``) for one edition's run, as the tests give each edition: what a run
    records never depends on what an earlier run left in ``.course/`` (a key, a job, a line in the append-only
    file). Every service started in it is stopped afterwards, and the folder removed."""
    global _run_home
    from support.services import course

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
        cell.metadata = type(cell.metadata)(without_volatile_metadata(cell.metadata))
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


def execute(
    nb: NotebookNode, cwd: Path, timeout: int = 300, kernel: str = "python3", *, snapshots: bool = False
) -> NotebookNode:
    """Run every cell in a fresh kernel with ``cwd`` as its working directory; the kernel is shut down after. With
    `snapshots`, the last state of each course widget shown is kept in the notebook's metadata (see above)."""
    import nbformat  # imported here: --check stays fast
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    run: Any = nbformat.from_dict(nb)  # nbformat's NotebookNode: the same dict with attribute access
    run.metadata.pop(WIDGET_SNAPSHOTS, None)
    if snapshots:
        run.cells.append(nbformat.v4.new_code_cell(_SNAPSHOT_SOURCE))
    os.environ["COURSE_AUTORUN"] = "1"  # the kernel inherits it: the worker notebook stops once idle
    client = NotebookClient(
        run,
        timeout=timeout,
        kernel_name=kernel,
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        raise EditionError(f"{type(exc).__name__}: {exc}") from None
    if snapshots:
        last = run.cells.pop()
        text = "".join(o.get("text", "") for o in last.outputs if o.get("name") == "stdout").strip()
        if text:
            run.metadata[WIDGET_SNAPSHOTS] = {
                key: _without_this_machine(html) for key, html in json.loads(text).items()
            }
    return tidy(run)
