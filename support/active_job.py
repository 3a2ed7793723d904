"""A small ActiveJob for Python, so that the seed lesson's vocabulary maps one to one onto RQ.

    class GifSenderJob(ActiveJob):
        queue_as = "mailers"

        def perform(self, email, thought):
            deliver(email, thought)

    GifSenderJob.perform_now("ada@example.com", "coffee")    # runs here, now; blocks until done
    GifSenderJob.perform_later("ada@example.com", "coffee")  # writes a job into Redis; a worker runs it
    GifSenderJob.set(queue="urgent").perform_later(...)      # this one job goes to another queue (Rails' .set)

Which adapter ``perform_later`` uses is one setting, like Rails' ``config.active_job.queue_adapter``:
``"rq"`` (the default: enqueue on the course's Redis) or ``"inline"`` (run at once, in this process).
``with using_adapter("inline"): ...`` switches it for a block and always switches back.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from rq.job import Job

from .rq_helpers import queues

ADAPTERS = ("rq", "inline")
_adapter = "rq"


def set_queue_adapter(name: str) -> None:
    """Choose where ``perform_later`` sends jobs: ``"rq"`` or ``"inline"``."""
    global _adapter
    if name not in ADAPTERS:
        raise ValueError(f"Unknown queue adapter {name!r}; choose one of {', '.join(ADAPTERS)}.")
    _adapter = name


def queue_adapter() -> str:
    return _adapter


@contextmanager
def using_adapter(name: str) -> Iterator[None]:
    """Use the queue adapter `name` inside a ``with`` block; the previous one is back afterwards, even on errors."""
    previous = _adapter
    set_queue_adapter(name)
    try:
        yield
    finally:
        set_queue_adapter(previous)


class ActiveJob:
    """Base class of a job: subclass it, set ``queue_as``, write ``perform``."""

    queue_as: ClassVar[str] = "default"

    def perform(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} needs a perform() method: it is what the worker runs.")

    @classmethod
    def perform_now(cls, *args: Any) -> Any:
        """Run the job here and now, in this process; returns what ``perform`` returns."""
        return cls().perform(*args)

    @classmethod
    def perform_later(cls, *args: Any) -> Job | Any:
        """Hand the job to the queue adapter. With ``"rq"``: enqueue it on ``queue_as`` and return the RQ job at
        once."""
        return _perform_later(cls, cls.queue_as, args)

    @classmethod
    def set(cls, *, queue: str | None = None) -> ConfiguredJob:
        """This job class with options for one call, as in Rails: ``SomeJob.set(queue="urgent").perform_later(...)``."""
        return ConfiguredJob(cls, queue or cls.queue_as)


class ConfiguredJob:
    """What ``SomeJob.set(queue=...)`` returns: the same job class, sent to another queue by ``perform_later``."""

    def __init__(self, job_class: type[ActiveJob], queue: str) -> None:
        if queue not in queues.QUEUE_NAMES:
            raise ValueError(f"Unknown queue {queue!r}: the course's queues are {', '.join(queues.QUEUE_NAMES)}.")
        self.job_class = job_class
        self.queue = queue

    def perform_later(self, *args: Any) -> Job | Any:
        """Like ``job_class.perform_later``, on this queue."""
        return _perform_later(self.job_class, self.queue, args)

    def perform_now(self, *args: Any) -> Any:
        """Like ``job_class.perform_now`` (a job run here uses no queue)."""
        return self.job_class.perform_now(*args)

    def __repr__(self) -> str:
        return f"{self.job_class.__name__}.set(queue={self.queue!r})"


def _perform_later(cls: type[ActiveJob], queue_name: str, args: tuple[Any, ...]) -> Job | Any:
    if _adapter == "inline":
        return cls.perform_now(*args)
    return queues.queue(queue_name).enqueue(perform_job, job_path(cls), list(args), description=describe(cls, args))


def describe(cls: type[ActiveJob], args: tuple[Any, ...] | list[Any]) -> str:
    """How a job shows up in the worker's log and the dashboards: ``GifSenderJob.perform('ada@example.com', 'hi')``."""
    return f"{cls.__name__}.perform({', '.join(map(repr, args))})"


def job_path(cls: type[ActiveJob]) -> str:
    """``module:ClassName``, the address a worker imports the job class from."""
    if cls.__module__ == "__main__":
        raise ValueError(
            f"{cls.__name__} is defined in __main__ (a notebook cell or a script), so a worker, which is another "
            f"process, cannot import it. Put the class in a module file (for example gif_sender_job.py) and "
            f"import it from there."
        )
    return f"{cls.__module__}:{cls.__qualname__}"


def perform_job(path: str, args: list[Any]) -> Any:
    """What the worker runs: import the job class by its path and call ``perform``."""
    module_name, _, class_name = path.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls().perform(*args)
