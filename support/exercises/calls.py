"""Running the learner's code inside a check: report what it raised as an answer, and tell "your code raised"
from "checking your answer raised"."""

from __future__ import annotations

import inspect
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .placeholder import describe
from .results import Incorrect, NotAttempted


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; if it raises, raise :class:`Incorrect` naming the exception and the call."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the learner's bug, reported rather than raised
        if _is_blank_name_error(exc):
            raise NotAttempted() from exc
        shown = ", ".join([*map(describe, args), *(f"{k}={describe(v)}" for k, v in kwargs.items())])
        name = getattr(fn, "__name__", "function")
        raise Incorrect(f"Your function raised {type(exc).__name__}: {exc} (when called as {name}({shown}))") from exc


_COUNTS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def require_function(fn: Any, name: str, params: tuple[str, ...]) -> None:
    """Raise :class:`Incorrect` unless `fn` is callable with one positional argument per name in `params`
    (``name`` is what the exercise calls it). A callable whose signature cannot be read (a builtin) passes: the
    check goes on to try it."""
    if not callable(fn):
        raise Incorrect(f"{name} should be a function of ({', '.join(params)}); you gave {describe(fn)}.")
    try:
        inspect.signature(fn).bind(*params)
    except TypeError:
        count = _COUNTS.get(len(params), str(len(params)))
        raise Incorrect(f"{name} should take {count} arguments: ({', '.join(params)}).") from None
    except ValueError:  # no signature to read
        pass


def call_with_deadline(fn: Callable[[], Any], timeout: float, stop: Callable[[], Any]) -> tuple[Any, float]:
    """Run fn() in a thread and return (its value, the seconds it took). If it is still running after `timeout`
    seconds, call `stop()` (which must make fn end, for example by closing its connection) and raise TimeoutError.
    What fn raises is raised here."""
    box: dict[str, Any] = {}

    def run() -> None:
        start = time.perf_counter()
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 -- handed back to the calling thread
            box["error"] = exc
        box["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        stop()
        thread.join(2)
        raise TimeoutError(f"still running after {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"], box["seconds"]


def _is_blank_name_error(exc: BaseException) -> bool:
    """A NameError for ``____``: a blank left in code that does not import the placeholder."""
    return isinstance(exc, NameError) and exc.name == "____"


# Frames from these folders are the course's or a library's, not the learner's.
_OUR_DIRS = (
    "<frozen ",
    str(Path(__file__).resolve().parent.parent),  # support/
    *(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")),
)


def _blame(exc: BaseException, checker: Callable[..., Any]) -> str:
    """'Your code' when the traceback passes through a frame outside the checker, support/ and the libraries."""
    checker_code = getattr(checker, "__code__", None)
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename if code.co_filename.startswith("<") else str(Path(code.co_filename).resolve())
        if code is not checker_code and not filename.startswith(_OUR_DIRS):
            return "Your code raised"
        tb = tb.tb_next
    return "Checking your answer raised"
