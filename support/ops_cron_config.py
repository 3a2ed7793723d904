"""The cron configuration of ``10_operations``: what ``rq cron`` runs.

Start it as rq does: ``rq cron support.ops_cron_config`` (the course starts it with ``python -m rq.cli cron``, the Redis
URL in the environment as RQ_REDIS_URL, never on the command line). ``rq cron`` imports this module, collects what
``rq.cron.register`` registered, and enqueues each job every ``interval`` seconds for as long as it runs.
"""

from __future__ import annotations

import os

from rq import cron

from support.ops_jobs import expire_sessions

INTERVAL = 1  # seconds between runs (a real clean-up would run every few minutes)
MAX_AGE = 300  # a session not seen for 5 minutes is expired

WHO = os.environ.get("COURSE_SERVICE", "rq cron")  # the course names each process it starts: cron-1, cron-2, ...

cron.register(
    expire_sessions, "default", kwargs={"max_age": MAX_AGE, "by": WHO}, interval=INTERVAL, name="expire-sessions"
)
