"""``support.workers``, the short name notebooks import; the code lives in support/rq_helpers/workers.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .rq_helpers import workers

sys.modules[__name__] = workers
