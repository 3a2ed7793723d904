"""``support.worker_log``, the short name notebooks import; the code lives in support/rq_helpers/worker_log.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .rq_helpers import worker_log

sys.modules[__name__] = worker_log
