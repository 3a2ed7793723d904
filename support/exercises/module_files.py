"""Loading a learner's module file afresh, for checks of exercises written as ``.py`` files."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

from .calls import _is_blank_name_error
from .results import Incorrect, NotAttempted


class ModuleLoadError(Incorrect):
    """A learner's module file is missing or does not import; inside a check it reads as an incorrect answer."""


def load_module_from(path: str | Path, name: str | None = None) -> types.ModuleType:
    """Import a fresh copy of the module at ``path`` (never the cached one, never a stale ``.pyc``).

    The fresh module replaces ``sys.modules[name]`` (``name`` defaults to the file's stem), so functions in it
    keep an importable ``__module__`` (what RQ needs) and a later ``import`` sees the same code.
    """
    path = Path(path)
    name = name or path.stem
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModuleLoadError(f"There is no file {path.name} yet: run the cell that writes it first.") from None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except SyntaxError as exc:
        _restore(name, previous)
        raise ModuleLoadError(f"{path.name} has a syntax error on line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        _restore(name, previous)
        if _is_blank_name_error(exc):
            raise NotAttempted(f"{path.name} still has a ____ in it: fill it in, then run its cell again.") from None
        raise ModuleLoadError(f"Importing {path.name} raised {type(exc).__name__}: {exc}") from exc
    return module


def _restore(name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous
