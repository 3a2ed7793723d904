"""What a check says when its own work fails, not the learner's answer: Redis does not answer, or a worker the check
did not start takes the check's jobs. The message says what the check could not do and what to do about it, never
"your function raised"; the learner's own code is run through ``exercises.call``, which blames it, with its
exception, before anything reaches here. (An exception that escapes a check unwrapped is judged the same way by
``exercises.calls.blame``; these say it in the check's own words.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import redis

from ..exercises.calls import CheckFailed, service_trouble

F = TypeVar("F", bound=Callable[..., Any])

START_REDIS = 'start it with course.up("redis") (or `python -m support up` in a terminal), then run the check again'


class CheckCouldNot(CheckFailed):
    """The check could not run (a service, its own jobs): the answer is not judged. Shown as the check's message."""

    def __init__(self, what: str, why: str, remedy: str) -> None:
        super().__init__(f"The check could not {what}: {why}. Your answer is not judged yet: {remedy}.")


def redis_needed(check: F) -> F:
    """Wrap a check function: a Redis error raised by the check's own code (the learner's code is run through
    ``call``, which turns what it raises into Incorrect first) becomes :class:`CheckFailed`, with the framework's
    message when Redis is not running (``exercises.calls.service_trouble``), else :class:`CheckCouldNot`'s."""

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except redis.RedisError as exc:
            trouble = service_trouble(exc)  # Redis is not running, or REDIS_URL names a server that does not answer
            if trouble:
                raise CheckFailed(trouble) from exc
            raise CheckCouldNot("talk to the course's Redis", f"{type(exc).__name__}: {exc}", START_REDIS) from exc

    return wrapper  # type: ignore[return-value]
