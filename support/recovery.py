"""``support.recovery``, the short name notebooks import; the code lives in support/rq_helpers/recovery.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .rq_helpers import recovery

sys.modules[__name__] = recovery
