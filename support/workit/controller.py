"""The Work-It app's controller file, the counterpart of Rails' ``MailersController#create`` (notebook 03).

Started with a controller (``python -m support.workit.web --delivery controller --controller PATH``), the app hands
every valid form submission to ``create(email, thought)`` in that file. When the file, or a Python file beside it
(the learner's ``gif_sender_job.py``), has changed since the last request, they are imported afresh, so an edit
counts from the next submission on, without a restart; while nothing changed, the module imported last serves.
What ``create`` returns says what happened: a queued job (what ``perform_later`` returns) means a worker will send
the email; anything else means it was sent in the request.

Work-It's routes file (``support.workit.routes_loader``, notebook 04) is reloaded the same way, with
``folder_stamp``, ``forget_neighbours`` and ``where``.

A file that does not load, or a ``create`` that raises, becomes a ``ControllerError`` whose message names the file,
the error and its line: the app shows it on the page, and keeps running.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE_NAME = "mailers_controller"  # the name the file is imported under, whatever the file is called

TEMPLATE = '''"""Work-It's controller: what the app does when someone submits the form (Rails: MailersController#create)."""
from gif_sender_job import GifSenderJob
from support.workit.mailer import deliver


def create(email, thought):
    """Handle one form submission. The app has already checked both fields."""
    return deliver(email, thought)  # inline: the request waits for the slow mailer
'''  # noqa: E501 (the first line is the notebook cell's, word for word: tests/test_controller.py)


class ControllerError(RuntimeError):
    """The controller file could not be loaded, or its ``create`` raised; the message says where."""


def where(exc: BaseException, path: Path) -> str:
    """' (line N)' for the deepest frame of the controller file in `exc`'s traceback, or ''."""
    if isinstance(exc, SyntaxError) and exc.filename == str(path):
        return f" (line {exc.lineno})"
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == str(path)]
    return f" (line {lines[-1]})" if lines else ""


def forget_neighbours(folder: Path) -> None:
    """Drop the modules imported from `folder` (the learner's job modules), so that they are imported afresh, and
    any module of the same name as a file there imported from elsewhere (another folder's ``gif_sender_job``)."""
    beside = {path.stem for path in folder.glob("*.py")}
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and (Path(origin).parent == folder or name in beside):
            del sys.modules[name]


def put_first_on_path(folder: str) -> None:
    """`folder` first on ``sys.path``: its files win over same-named ones in a folder another file put there."""
    if sys.path[:1] != [folder]:
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


def folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a Python file in `folder` is edited, added or removed: each one's name, time and size."""
    found = []
    for path in sorted(folder.glob("*.py")):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue  # removed while we looked
        found.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(found)


_loaded: dict[Path, tuple[tuple[tuple[str, int, int], ...], ModuleType]] = {}  # path -> (its folder's stamp, module)


def load(path: str | Path) -> ModuleType:
    """The controller file as a module (its folder first on ``sys.path``), imported afresh when it or a Python file
    beside it changed since it was last imported, else the module imported then; ControllerError when it fails."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ControllerError(f"{path.name} does not exist: run the cell that writes it")
    folder = str(path.parent)
    moved = sys.path[:1] != [folder]
    put_first_on_path(folder)
    stamp = folder_stamp(path.parent)
    known = _loaded.get(path)
    if known is not None and known[0] == stamp and not moved:
        return known[1]
    _loaded.pop(path, None)
    forget_neighbours(path.parent)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 -- any error in the learner's file is reported, never raised further
        said = exc.msg if isinstance(exc, SyntaxError) else exc
        raise ControllerError(
            f"{path.name} could not be loaded: {type(exc).__name__}: {said}{where(exc, path)}"
        ) from exc
    if not callable(getattr(module, "create", None)):
        raise ControllerError(f"{path.name} has no create(email, thought) function")
    _loaded[path] = (stamp, module)
    return module


def create(path: str | Path, email: str, thought: str) -> Any:
    """Run the controller's ``create(email, thought)`` for one submission; returns what it returns."""
    module = load(path)
    try:
        return module.create(email, thought)
    except Exception as exc:  # noqa: BLE001 -- reported on the page; the app goes on serving
        raise ControllerError(
            f"{Path(path).name} raised {type(exc).__name__}: {exc}{where(exc, Path(path).resolve())}"
        ) from exc


def queued_job_id(result: Any) -> str | None:
    """The job id when `result` is a queued RQ job (what ``perform_later`` returns), else None."""
    from rq.job import Job

    return result.id if isinstance(result, Job) else None
