"""The blank ``____`` a learner replaces, how to tell that an answer still holds one, and a short description of
a learner's value for messages (never the answer, never a memory address)."""

from __future__ import annotations

import reprlib
import types
from typing import Any


class Placeholder:
    """The blank a learner replaces. Harmless to assign, return, pass around or call."""

    def __repr__(self) -> str:
        return "____"

    def __call__(self, *args: Any, **kwargs: Any) -> Placeholder:
        return self


____ = Placeholder()


def _code_uses_placeholder(code: types.CodeType) -> bool:
    return "____" in code.co_names or any(
        isinstance(c, types.CodeType) and _code_uses_placeholder(c) for c in code.co_consts
    )


def is_placeholder(obj: Any) -> bool:
    """True for ``____`` itself, a function whose body still uses ``____``, or a module that still holds one."""
    if isinstance(obj, Placeholder):
        return True
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    if isinstance(code, types.CodeType):
        return _code_uses_placeholder(code)
    if isinstance(obj, types.ModuleType):
        return any(
            (isinstance(v, Placeholder) and k != "____")  # a blank left in, not the import of ____
            or (callable(v) and getattr(v, "__module__", None) == obj.__name__ and is_placeholder(v))
            for k, v in vars(obj).items()
        )
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
