"""A worker's log shaped for a notebook cell whose output is stored and compared (``worker.ipynb``).

``for_notebook()`` changes two things about RQ's log in this process, and keeps every other line (start, queues,
each job, shutdown) as RQ writes it:

- it goes to standard output, like the worker's banner: in a notebook, standard error is shown on a red
  background, which makes an ordinary log look like a list of errors;
- RQ's housekeeping lines ("cleaning registries for queue: ...", "cleaning group registries") are left out.
  Whether a worker logs them depends on what other workers did in the last minutes (they share a lock), so a
  stored log holding them could not be compared from one run to the next.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

HOUSEKEEPING = ("cleaning registries for queue", "cleaning group registries")
RQ_LOGGER = "rq"  # the parent of rq.worker, rq.job, rq.queue...: RQ's own handlers are not added when it has one
LOG_FORMAT, DATE_FORMAT = "%(asctime)s %(message)s", "%H:%M:%S"  # support.rq_helpers.workers.run_worker logs with these


class HideHousekeeping(logging.Filter):
    """Drops a log record when its message is one of RQ's housekeeping lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(words in message for words in HOUSEKEEPING)


class NotebookLogHandler(logging.StreamHandler):
    """RQ's log records, to standard output, without housekeeping lines."""


def for_notebook(stream: TextIO | None = None) -> NotebookLogHandler:
    """Send the worker log of this process to `stream` (default: standard output), without housekeeping lines.

    Call it before ``run_worker``. Calling it again changes nothing.
    """
    logger = logging.getLogger(RQ_LOGGER)
    for handler in logger.handlers:
        if isinstance(handler, NotebookLogHandler):
            return handler
    handler = NotebookLogHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    handler.addFilter(HideHousekeeping())
    logger.addHandler(handler)
    logger.propagate = False  # not also to the root logger's handler (standard error)
    return handler


def undo() -> None:
    """Give RQ's log back to the usual handlers."""
    logger = logging.getLogger(RQ_LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, NotebookLogHandler)]:
        logger.removeHandler(handler)
    logger.propagate = True
