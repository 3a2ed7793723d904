"""``support.kernels``, the short name notebooks import; the code lives in support/lessons/kernels.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .lessons import kernels

sys.modules[__name__] = kernels
