"""Running the learner's code inside a check, and whose fault an exception is (``blame``): the learner's code
(named, with its line), a course service that is not running (named, with how to start it), or the check's own
code or data (said so: the answer was not judged)."""

from __future__ import annotations

import inspect
import linecache
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import Any

from .placeholder import describe
from .results import Incorrect, NotAttempted


class CheckFailed(Incorrect):
    """The check could not judge the answer: a course service is not running, or the check's own code failed. The
    message says so and what to do; it never blames the learner's code."""


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; if it raises, raise :class:`Incorrect` naming the exception, the call and the
    line of the learner's code it came from; or :class:`CheckFailed` when it came from a service that is not running
    or from the check's own code (a helper or data the check handed the learner's function)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the learner's bug, reported rather than raised
        if _is_blank_name_error(exc):
            raise NotAttempted() from exc
        trouble = check_trouble(exc, _check_frames(sys._getframe(1)), skip=1)  # this frame first
        if trouble:
            raise CheckFailed(trouble) from exc
        shown = ", ".join([*map(describe, args), *(f"{k}={describe(v)}" for k, v in kwargs.items())])
        name = getattr(fn, "__name__", "function")
        where = learner_line(exc)
        raise Incorrect(
            f"Your function raised {_exception(exc)} (when called as {name}({shown})){where and '; ' + where}"
        ) from exc


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


# Frames of the check's own code (the exercises' framework and the checks), and of code neither side wrote (the
# course's services, lessons and app, the standard library, installed packages): an exception raised there is
# blamed on the nearest frame, from the one that raised it outwards, that is the learner's or the check's.
_SUPPORT = Path(__file__).resolve().parent.parent
_EXERCISE_FILE = str(Path(__file__).resolve().parent / "exercise.py")
_CHECK_DIRS = (str(_SUPPORT / "exercises") + "/", str(_SUPPORT / "checks") + "/")
_LIBRARY_DIRS = (
    "<frozen ",
    str(_SUPPORT) + "/",
    *(sysconfig.get_paths()[k] + "/" for k in ("stdlib", "purelib", "platlib")),
)
# What a check's stand-in raises on purpose (a mail server made to fail): when it escapes the learner's code, the
# learner's code let it out, and is named as usual.
MADE_TO_FAIL = (ConnectionError, TimeoutError)
_SERVICES = {  # name: what the learner knows it as
    "redis": "the course's Redis",
    "catcher": "the mail catcher",
    "app": "Work-It (the app)",
    "dashboard": "the RQ dashboard",
}
TRY_AGAIN = (
    "run the check again; if it fails the same way, restart the kernel, run the notebook from the top, and tell "
    "your instructor"
)


def _file(code: CodeType) -> str:
    name = code.co_filename
    return name if name.startswith("<") else str(Path(name).resolve())


def _frames(tb: TracebackType | None) -> list[tuple[CodeType, int]]:
    found = []
    while tb is not None:
        found.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    return found


def _check_frames(frame: FrameType | None) -> list[CodeType]:
    """The code of the frames from `frame` (the caller of ``call``) out to the Exercise.check running it: the check's
    own functions (only `frame` when no Exercise.check runs it)."""
    codes: list[CodeType] = []
    current = frame
    while current is not None:
        if current.f_code.co_name == "check" and current.f_code.co_filename == _EXERCISE_FILE:
            return codes
        codes.append(current.f_code)
        current = current.f_back
    return codes[:1]


def _nested(codes: Sequence[CodeType]) -> set[CodeType]:
    """Check functions' code and the code of the functions and lambdas defined inside them (their helpers, data)."""
    found: set[CodeType] = set()
    todo = list(codes)
    while todo:
        current = todo.pop()
        found.add(current)
        todo += [c for c in current.co_consts if isinstance(c, CodeType)]
    return found


def _whose(code: CodeType, checker: set[CodeType]) -> str:
    """'check', 'library' or 'learner': who wrote the code of one frame."""
    name = _file(code)
    if code in checker or name.startswith(_CHECK_DIRS):
        return "check"
    return "library" if name.startswith(_LIBRARY_DIRS) else "learner"


def _raised_by(exc: BaseException, checker: Sequence[CodeType] = (), skip: int = 0) -> tuple[str, CodeType, int] | None:
    """Whose code raised `exc`: the innermost frame that is the learner's or the check's (library frames are passed
    over: a library raises for whoever called it), with that frame's code and line; None when there is none."""
    nested = _nested(checker)
    for code, line in reversed(_frames(exc.__traceback__)[skip:]):
        whose = _whose(code, nested)
        if whose != "library":
            return whose, code, line
    return None


def learner_line(exc: BaseException, checker: Sequence[CodeType] = ()) -> str:
    """'line 3 of your code: `return {}[n]`' for the innermost frame of the learner's code, or ''."""
    nested = _nested(checker)
    for code, line in reversed(_frames(exc.__traceback__)):
        if _whose(code, nested) == "learner":
            text = linecache.getline(code.co_filename, line).strip()
            where = (
                "your code"
                if "ipykernel" in code.co_filename or code.co_filename.startswith("<")
                else Path(code.co_filename).name
            )
            return f"line {line} of {where}" + (f": `{text}`" if text else "")
    return ""


def _exception(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300] + '...' if len(text) > 300 else text}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _suspects(exc: BaseException) -> list[str]:
    """The services an exception (or one it came from) says could not be reached: Redis for redis-py's connection
    errors, the app (or the dashboard) for an HTTP request's, the mail catcher for an SMTP client's."""
    import smtplib
    import urllib.error

    import redis
    import requests

    names: list[str] = []
    for error in _chain(exc):
        smtp = any(code.co_filename.endswith("smtplib.py") for code, _ in _frames(error.__traceback__))
        if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
            names.append("redis")
        elif isinstance(error, (requests.ConnectionError, requests.Timeout, urllib.error.URLError)):
            names += ["app", "dashboard"]
        elif isinstance(error, smtplib.SMTPException) or (smtp and isinstance(error, OSError)):
            names.append("catcher")
    return list(dict.fromkeys(names))


def _not_running(name: str) -> bool:
    """True when the course's service `name` does not answer now (Redis: also a REDIS_URL server; the dashboard
    only when it was started and is gone)."""
    import os

    from ..services import processes, state

    if name == "redis" and os.environ.get("REDIS_URL"):
        import redis

        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=0.5, socket_timeout=0.5).ping()
            return False
        except redis.RedisError:
            return True
    if name == "dashboard" and state.get(name) is None:
        return False
    service = processes.running(name)
    return service is None or not processes.port_answers(service.port)


def service_trouble(exc: BaseException) -> str:
    """What to tell the learner when `exc` comes from a course service that is not running (or could not be
    started); '' when it does not (the services answer: the learner's own connection went wrong)."""
    from ..services.processes import ServiceError

    for error in _chain(exc):
        if isinstance(error, ServiceError):
            return f"The check could not run: {error} That is not your answer's fault: once that is fixed, {TRY_AGAIN}."
    for name in _suspects(exc):
        if _not_running(name):
            return (
                f"The check could not run: {_SERVICES[name]} is not running ({_exception(exc)}). That is not your "
                f"answer's fault: start it with course.up({name!r}) (or run this notebook's cell that starts the "
                "services), then run the check again."
            )
    return ""


def check_trouble(exc: BaseException, checker: Sequence[CodeType] = (), skip: int = 0) -> str:
    """The message when `exc` is not the learner's fault: a service not running (whoever's code raised it), or an
    exception raised in the check's own code or data; '' when the learner's code raised it."""
    trouble = service_trouble(exc)
    if trouble:
        return trouble
    raised = _raised_by(exc, checker, skip)
    if raised is None or raised[0] == "learner" or isinstance(exc, MADE_TO_FAIL):
        return ""
    _, code, line = raised
    where = f"{Path(code.co_filename).name}, line {line}, in {code.co_name}"
    return (
        f"The check itself failed: its own code raised {_exception(exc)} ({where}). That is not your answer's fault, "
        f"and your answer was not judged: {TRY_AGAIN}."
    )


def blame(exc: BaseException, checker: Callable[..., Any] | None = None) -> str:
    """The message for an exception that escaped a check (`checker` is the check function): the check's trouble
    (``check_trouble``), else the learner's code, named with its line."""
    code = getattr(checker, "__code__", None)
    codes = [code] if code is not None else []
    trouble = check_trouble(exc, codes)
    if trouble:
        return trouble
    where = learner_line(exc, codes)
    return f"Your code raised {_exception(exc)}" + (f" ({where})" if where else "")
