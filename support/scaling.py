"""``support.scaling``, the short name notebooks import; the code lives in support/lessons/scaling.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .lessons import scaling

sys.modules[__name__] = scaling
