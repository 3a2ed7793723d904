"""The check of Exercise 1 of 03_jobs (``support.checks.jobs.ex_write_job``): the learner's job module file,
imported afresh and its GifSenderJob inspected, then its perform run twice, with two different emails and thoughts,
with ``deliver`` recorded, not sent.

The import and the runs happen with ``deliver`` recorded (``mailer.stand_in``) and the inline queue adapter: a file
that sends or queues at import (a worker imports it for every job), or a perform that queues its own job again, is
seen doing so, and nothing reaches the inbox or Redis.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..active_job import ActiveJob, using_adapter
from ..exercises import Incorrect, NotAttempted, call, is_placeholder, load_module_from
from ..rq_helpers import queues
from ..workit import mailer


def check_job_file(path: Any) -> str:
    """Exercise 1's verdict on the job module file at `path` (its name: ``"gif_sender_job.py"``)."""
    if is_placeholder(path):
        raise NotAttempted()
    name = Path(path).name
    with _recorded() as at_import:
        module = load_module_from(Path(path))  # a fresh import; NotAttempted / Incorrect when it does not import
    if at_import:
        raise Incorrect(
            f"Importing {name} sends an email, or queues one (deliver{at_import[0][:2]!r} ran as the file was "
            "imported): a worker imports the file before it runs a job, so every job would send one more. Keep only "
            "the class in the file: importing it sends nothing."
        )
    cls = getattr(module, "GifSenderJob", None)
    if cls is None:
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type) and v.__module__ == module.__name__)
        found = f" (it defines {', '.join(classes)})" if classes else ""
        raise Incorrect(f"{name} defines no class GifSenderJob{found}. The worker looks the class up by that name.")
    if not (isinstance(cls, type) and issubclass(cls, ActiveJob)):
        raise Incorrect(
            "GifSenderJob is not a subclass of ActiveJob: write class GifSenderJob(ActiveJob): ... so "
            "that it gets perform_now and perform_later."
        )
    perform = cls.__dict__.get("perform")
    if perform is None:
        raise Incorrect("GifSenderJob has no perform method of its own: perform is what runs when the job runs.")
    if is_placeholder(perform) or cls.queue_as == "____" or is_placeholder(cls.queue_as):
        raise NotAttempted(f"{name} still has a ____ in it: fill it in, then run its cell again.")
    perform = getattr(perform, "__func__", perform)  # a staticmethod or classmethod: look at its function
    params = list(inspect.signature(perform).parameters)
    if not params or params[0] in ("email", "thought"):
        raise Incorrect(
            f"perform({', '.join(params)}) has no self. It is a method, so self comes first: "
            "def perform(self, email, thought)."
        )
    if params[1:] == ["thought", "email"]:
        raise Incorrect(
            f"perform takes ({', '.join(params[1:])}) after self, but a GifSenderJob needs "
            "(email, thought), in that order: perform_later(email, thought) hands its arguments to "
            "perform in the same order."
        )
    if cls.queue_as not in queues.QUEUE_NAMES:
        raise Incorrect(
            f"queue_as is {cls.queue_as!r}, which is not one of the course's queues "
            f"({', '.join(queues.QUEUE_NAMES)}). The Rails lesson sends mail on 'mailers'."
        )
    if cls.queue_as != "mailers":
        raise Incorrect(
            f"queue_as is {cls.queue_as!r}, so your emails would wait in the {cls.queue_as} queue. The job "
            "should wait in the queue where the Rails lesson puts mail jobs, as the exercise says."
        )
    if not perform.__code__.co_names:
        raise Incorrect("perform does not call anything yet: it has to send the email, with deliver(email, thought).")
    for probe in (PROBE, (f"probe-{uuid.uuid4().hex[:6]}@example.org", f"Another thought ({uuid.uuid4().hex[:6]})")):
        _sends_once(cls, probe)
    return (
        f"{name} imports, and GifSenderJob(ActiveJob) has perform(email, thought) and queue_as = "
        f"{cls.queue_as!r}. A worker can import it as {module.__name__}:GifSenderJob."
    )


PROBE = ("probe@example.com", "a thought the check made up")
SLOW = (None, mailer.DEFAULT_DELAY)  # deliver's own slow step: no delay given, or the seed's 5 seconds


def _sends_once(cls: type[ActiveJob], probe: tuple[str, str]) -> None:
    """Incorrect unless ``GifSenderJob().perform(*probe)`` calls deliver once, with the probe's email and thought."""
    shown = f"GifSenderJob().perform({probe[0]!r}, {probe[1]!r})"
    with _recorded() as sent:
        try:
            call(cls().perform, *probe)
        except Incorrect as exc:
            if isinstance(exc.__cause__, RecursionError):
                raise Incorrect(
                    f"{shown} runs its own job again (perform_later or perform_now inside perform): a worker "
                    "would queue a new job for every job it runs. perform sends the email: deliver(email, thought)."
                ) from None
            raise
    if not sent:
        raise Incorrect(f"{shown} sent no email: perform should call deliver(email, thought).")
    if len(sent) > 1:
        raise Incorrect(f"{shown} called deliver {len(sent)} times: send the email once.")
    if sent[0][:2] != probe:
        raise Incorrect(f"{shown} called deliver{sent[0][:2]!r}: hand deliver the job's email, then its thought.")
    if sent[0][2] not in SLOW:
        raise Incorrect(
            f"{shown} called deliver with a delay of {sent[0][2]!r}: send it with deliver(email, thought), the same "
            "slow mailer the app used in 01 (its 5 seconds are the work the worker takes over)."
        )


@contextmanager
def _recorded() -> Iterator[list[tuple[Any, Any, Any]]]:
    """(email, thought, delay) of each deliver() call in this thread inside the block: inside ``mailer.stand_in``
    they are recorded instead of sent (nothing is patched: the app and workers go on sending). perform_later runs
    the job here (the inline adapter), so that what it would queue is recorded too, not written into Redis."""
    sent: list[tuple[Any, Any, Any]] = []

    def record(email: Any, thought: Any, delay: Any = None) -> str:
        sent.append((email, thought, delay))
        return "<probe@course>"

    with mailer.stand_in(record), using_adapter("inline"):
        yield sent
