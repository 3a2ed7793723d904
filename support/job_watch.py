"""``support.job_watch``, the short name notebooks import; the code lives in support/rq_helpers/job_watch.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .rq_helpers import job_watch

sys.modules[__name__] = job_watch
