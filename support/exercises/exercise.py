"""Exercise checks for the course notebooks: a placeholder, results that render, hints, solutions, fallbacks.

An exercise cell in the learner edition holds the placeholder ``____``; the check cell under it calls
``exercise.check(answer)``. A check never raises into the cell: it returns a :class:`Result` that renders as a
green, red or grey box in JupyterLab and as a one-line ``text/plain`` form that nbval compares::

    from support.exercises import ____, Exercise, Incorrect

    def _check(n):
        if n != 3:
            raise Incorrect(f"You counted {n} slow steps. Look at the timings above again.")

    ex_steps = Exercise("Exercise 1", _check, title="Count the slow steps",
                        hints=["Each step printed its own timing."], solution="steps = 3", reference=3)

    ex_steps.check(____)         # Not attempted: replace ____ with your answer, then run the check again.
    ex_steps.check(2)            # Incorrect: You counted 2 slow steps. Look at the timings above again.
    steps = ex_steps.use(____)   # returns 3 and says "Using the reference solution for Exercise 1 ..."

A check function receives the learner's value(s) and either returns ``None`` (correct), a string (correct,
with that message) or a :class:`Result` (``correct()``, ``incorrect()``, ``not_attempted()``), or raises
:class:`Incorrect` / :class:`NotAttempted`. Any other exception becomes an incorrect result naming it.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import reprlib
import sys
import sysconfig
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "____", "Placeholder", "is_placeholder", "Result", "correct", "incorrect", "not_attempted",
    "Incorrect", "NotAttempted", "Exercise", "Choice", "call", "describe", "load_module_from",
]


class Placeholder:
    """The blank a learner replaces. Harmless to assign, return, pass around or call."""

    def __repr__(self) -> str:
        return "____"

    def __call__(self, *args: Any, **kwargs: Any) -> Placeholder:
        return self


____ = Placeholder()
_MISSING: Any = object()


def _code_uses_placeholder(code: types.CodeType) -> bool:
    return "____" in code.co_names or any(
        isinstance(c, types.CodeType) and _code_uses_placeholder(c) for c in code.co_consts)


def is_placeholder(obj: Any) -> bool:
    """True for ``____`` itself, a function whose body still uses ``____``, or a module that still holds one."""
    if isinstance(obj, Placeholder):
        return True
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    if isinstance(code, types.CodeType):
        return _code_uses_placeholder(code)
    if isinstance(obj, types.ModuleType):
        return any((isinstance(v, Placeholder) and k != "____")  # a blank left in, not the import of ____
                   or (callable(v) and getattr(v, "__module__", None) == obj.__name__ and is_placeholder(v))
                   for k, v in vars(obj).items())
    return False


_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict = 60, 60, 6, 6


def describe(value: Any) -> str:
    """A short, deterministic description of a learner's value (no memory addresses)."""
    if isinstance(value, types.ModuleType):
        return f"the module {value.__name__}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"the function {value.__qualname__}"
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    text = _short.repr(value)
    return f"a {type(value).__name__} object" if " at 0x" in text else text


# ----------------------------------------------------------------------------------------------- results

Kind = Literal["correct", "incorrect", "not_attempted"]
_STYLE = {  # label, text colour, background
    "correct": ("Correct", "#1a7f37", "#e6f4ea"),
    "incorrect": ("Incorrect", "#b42318", "#fdecea"),
    "not_attempted": ("Not attempted", "#555555", "#f0f0f0"),
    "note": ("Note", "#1f4e8c", "#e8f0fb"),
}


def _box(kind: str, heading: str, body_html: str) -> str:
    colour, background = _STYLE[kind][1:]
    return (f'<div style="border-left:4px solid {colour};background:{background};padding:6px 10px;'
            f'margin:4px 0"><strong style="color:{colour}">{html.escape(heading)}</strong> {body_html}</div>')


@dataclass(frozen=True)
class Result:
    """The outcome of a check. Truthy when correct; renders as HTML and a one-line text form."""

    kind: Kind
    message: str
    title: str = ""

    @property
    def correct(self) -> bool:
        return self.kind == "correct"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"{_STYLE[self.kind][0]}: {self.message}"

    __repr__ = __str__

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        heading = f"{_STYLE[self.kind][0]}" + (f" ({self.title})" if self.title else "") + ":"
        return {"text/plain": str(self), "text/html": _box(self.kind, heading, html.escape(self.message))}


def correct(message: str = "Well done.") -> Result:
    return Result("correct", message)


def incorrect(message: str) -> Result:
    return Result("incorrect", message)


def not_attempted(message: str = "replace ____ with your answer, then run the check again.") -> Result:
    return Result("not_attempted", message)


class Incorrect(Exception):
    """Raise inside a check function: the answer is wrong, and the message says what the learner produced."""


class NotAttempted(Exception):
    """Raise inside a check function when there is nothing to check yet."""


class _Message:
    """A note, hint or solution: deterministic ``text/plain`` plus a styled HTML form."""

    def __init__(self, text: str, html_body: str) -> None:
        self.text, self._html = text, html_body

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self._html}


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


def _is_blank_name_error(exc: BaseException) -> bool:
    """A NameError for ``____``: a blank left in code that does not import the placeholder."""
    return isinstance(exc, NameError) and exc.name == "____"


# Frames from these folders are the course's or a library's, not the learner's.
_OUR_DIRS = ("<frozen ", str(Path(__file__).resolve().parent),
             *(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")))


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


# --------------------------------------------------------------------------------------------- exercises

class Exercise:
    """One exercise: a check (function or ``expected`` value), numbered hints, a solution, a reference value.

    Subclasses may override :meth:`evaluate` instead of passing a check function.
    """

    def __init__(self, name: str, check: Callable[..., Result | str | None] | None = None, *, title: str = "",
                 hints: Sequence[str] = (), solution: str = "", expected: Any = _MISSING,
                 reference: Any = _MISSING) -> None:
        self.name, self.title, self.hints, self.solution_code = name, title, list(hints), solution.strip("\n")
        self._checker, self.expected = check, expected
        self.reference = expected if reference is _MISSING else reference
        self._hints_shown = 0
        self.last_result: Result | None = None
        self._last_values: tuple[Any, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.name}: {self.title}" if self.title else self.name

    def evaluate(self, *values: Any) -> Result | str | None:
        """The default check: compare a single value with ``expected``."""
        if self._checker is not None:
            return self._checker(*values)
        if self.expected is _MISSING:
            raise TypeError(f"{self.name} has neither a check function nor an expected value")
        (value,) = values
        if value == self.expected:
            return None
        if type(value) is not type(self.expected):
            raise Incorrect(f"You gave {describe(value)} (type {type(value).__name__}); "
                            f"the answer has type {type(self.expected).__name__}.")
        raise Incorrect(f"You gave {describe(value)}, which is not the answer.")

    def check(self, *values: Any) -> Result:
        """Check the learner's answer. Never raises (except KeyboardInterrupt); returns a renderable Result."""
        try:
            if any(is_placeholder(v) for v in values):
                raise NotAttempted()
            outcome = self.evaluate(*values)
            result = outcome if isinstance(outcome, Result) else correct(outcome or "Well done.")
        except Incorrect as exc:
            result = incorrect(str(exc))
        except NotAttempted as exc:
            result = not_attempted(str(exc)) if str(exc) else not_attempted()
        except (Exception, SystemExit) as exc:
            blame = _blame(exc, self._checker or self.evaluate)
            message = f"{blame} {type(exc).__name__}: {exc}"
            result = not_attempted() if _is_blank_name_error(exc) else incorrect(message)
        result = Result(result.kind, result.message, self.label)
        self.last_result, self._last_values = result, values
        return result

    def hint(self, n: int | None = None) -> _Message:
        """Show the next hint (or hint ``n``, counting from 1)."""
        total = len(self.hints)
        if n is None:
            if self._hints_shown >= total:
                text = (f"No more hints for {self.name}." if total else f"{self.name} has no hints.")
                text += " Call .solution() to see the reference solution." if self.solution_code else ""
                return _Message(text, _box("note", "Hint:", html.escape(text)))
            self._hints_shown += 1
            n = self._hints_shown
        if not 1 <= n <= total:
            text = f"{self.name} has {total} hint{'s' * (total != 1)}; ask for one between 1 and {total}."
            return _Message(text, _box("note", "Hint:", html.escape(text)))
        heading = f"Hint {n}/{total}:"
        return _Message(f"{heading} {self.hints[n - 1]}", _box("note", heading, html.escape(self.hints[n - 1])))

    def solution(self) -> _Message:
        """Show the reference solution as a code block."""
        code = self.solution_code or "# (no solution text for this exercise)"
        return _Message(f"Solution for {self.label}:\n{code}",
                        _box("note", f"Solution for {self.label}:", f"<pre><code>{html.escape(code)}</code></pre>"))

    def use(self, value: Any, reference: Any = _MISSING, *, quiet: bool = False) -> Any:
        """The learner's value when it checks as correct, else the reference (with a note saying so).

        Reuses the last check when it was run on this very value, so slow checks are not repeated.
        """
        same = self._last_values is not None and len(self._last_values) == 1 and self._last_values[0] is value
        result = self.last_result if same and self.last_result is not None else self.check(value)
        if result.correct:
            return value
        reference = self.reference if reference is _MISSING else reference
        if reference is _MISSING:
            raise ValueError(f"{self.name} has no reference solution to fall back to")
        if not quiet:
            text = f"Using the reference solution for {self.name} so you can go on."
            _display(_Message(text, _box("note", "Note:", html.escape(text))))
        return reference

    answer_or_reference = use


def _display(obj: Any) -> None:
    from IPython.display import display  # outside IPython this prints str(obj)

    display(obj)


# ------------------------------------------------------------------------------------------------ choice

class Choice(Exercise):
    """A multiple-choice question, checked from code (``q.check("b")``) or through :meth:`widget`."""

    def __init__(self, name: str, question: str, options: Mapping[str, str] | Sequence[str],
                 answer: str | Iterable[str], *, explanations: Mapping[str, str] | None = None,
                 title: str = "", hints: Sequence[str] = ()) -> None:
        self.question = question
        self.options = dict(options) if isinstance(options, Mapping) else dict(zip("abcdefghij", options))
        self.answer = {answer} if isinstance(answer, str) else set(answer)
        self.explanations = dict(explanations or {})
        if not self.answer <= self.options.keys():
            raise ValueError(f"{name}: every right answer must be one of the options {list(self.options)}")
        solution = ", ".join(f"{k}) {self.options[k]}" for k in sorted(self.answer))
        super().__init__(name, title=title, hints=hints, solution=solution)

    def _parse(self, value: Any) -> set[str]:
        picks = (value.replace(",", " ").split() if isinstance(value, str)
                 else list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value])
        picks = [p.lower() if isinstance(p, str) and p not in self.options else p for p in picks]
        if not picks or any(not isinstance(p, str) or p not in self.options for p in picks):
            raise Incorrect(f"You chose {describe(value)}; pick from {', '.join(self.options)}.")
        return set(picks)

    def evaluate(self, value: Any) -> Result | str | None:
        picks = self._parse(value)
        if picks == self.answer:
            return " ".join(self.explanations[p] for p in sorted(picks) if p in self.explanations) or None
        chosen = ", ".join(f"{p}) {self.options[p]}" for p in sorted(picks))
        why = " ".join(self.explanations[p] for p in sorted(picks - self.answer) if p in self.explanations)
        if not why and len(self.answer) > 1:
            why = "At least one option is wrong or missing." if picks & self.answer else "None of those is right."
        raise Incorrect(f"You chose {chosen}. {why or 'Think again.'}")

    def widget(self) -> Any:
        """RadioButtons (one answer) or a row of ToggleButtons (several); choosing runs :meth:`check`."""
        import ipywidgets as w

        labels = [(f"{k}) {v}", k) for k, v in self.options.items()]
        question = w.HTML(f"<b>{html.escape(self.label)}</b>: {html.escape(self.question)}")
        feedback = w.HTML("")
        if len(self.answer) == 1:
            picker: Any = w.RadioButtons(options=labels, value=None, layout={"width": "max-content"})
            picker.observe(lambda _: self._show(picker.value, feedback), names="value")
        else:
            picker = w.VBox([w.ToggleButton(description=label, layout={"width": "max-content"})
                             for label, _ in labels])
            keys = [k for _, k in labels]
            for button in picker.children:
                button.observe(lambda _: self._show([k for k, b in zip(keys, picker.children) if b.value] or ____,
                                                    feedback), names="value")
        return _choice_box_class()([question, picker, feedback], text=self._text())

    def _show(self, value: Any, feedback: Any) -> None:
        feedback.value = self.check(____ if value is None else value)._repr_mimebundle_()["text/html"]

    def _text(self) -> str:
        lines = [f"{self.label}: {self.question}", *(f"  {k}) {v}" for k, v in self.options.items())]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self._text(), "text/html": "<br>".join(map(html.escape, self._text().splitlines()))}


@functools.cache
def _choice_box_class() -> type:
    import ipywidgets as w

    class ChoiceBox(w.VBox):
        """A VBox whose text/plain form is the question and its options, not the widget's state."""

        def __init__(self, children: list[Any], text: str) -> None:
            super().__init__(children)
            self._text = text

        def __repr__(self) -> str:
            return self._text

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            return {**(super()._repr_mimebundle_(**kwargs) or {}), "text/plain": self._text}

    return ChoiceBox


# ------------------------------------------------------------------------------------------ module files

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
