"""The check of Exercise 1 of 03_jobs (``support.checks.jobs.ex_write_job``): the learner's job module file,
imported afresh and its GifSenderJob inspected, then its perform run once with ``deliver`` recorded, not sent.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from ..active_job import ActiveJob
from ..exercises import Incorrect, NotAttempted, call, is_placeholder, load_module_from
from ..rq_helpers import queues
from ..workit import mailer


def check_job_file(path: Any) -> str:
    """Exercise 1's verdict on the job module file at `path` (its name: ``"gif_sender_job.py"``)."""
    if is_placeholder(path):
        raise NotAttempted()
    module = load_module_from(Path(path))  # a fresh import; NotAttempted / Incorrect when it does not import
    name = Path(path).name
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
    sent = _deliveries(cls)
    shown = f"GifSenderJob().perform({PROBE[0]!r}, {PROBE[1]!r})"
    if not sent:
        raise Incorrect(f"{shown} sent no email: perform should call deliver(email, thought).")
    if len(sent) > 1:
        raise Incorrect(f"{shown} called deliver {len(sent)} times: send the email once.")
    if sent[0] != PROBE:
        raise Incorrect(f"{shown} called deliver{sent[0]!r}: hand deliver the job's email, then its thought.")
    return (
        f"{name} imports, and GifSenderJob(ActiveJob) has perform(email, thought) and queue_as = "
        f"{cls.queue_as!r}. A worker can import it as {module.__name__}:GifSenderJob."
    )


PROBE = ("probe@example.com", "a thought the check made up")


def _deliveries(cls: type[ActiveJob]) -> list[tuple[Any, Any]]:
    """(email, thought) of each deliver() call while the check runs perform(*PROBE): inside ``mailer.stand_in``
    they are recorded instead of sent, in this thread only (nothing is patched: the app and workers go on sending)."""
    sent: list[tuple[Any, Any]] = []

    def record(email: Any, thought: Any, delay: Any = None) -> str:
        sent.append((email, thought))
        return "<probe@course>"

    with mailer.stand_in(record):
        call(cls().perform, *PROBE)
    return sent
