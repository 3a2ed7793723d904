"""``support.timing``, the short name notebooks import; the code lives in support/lessons/timing.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .lessons import timing

sys.modules[__name__] = timing
