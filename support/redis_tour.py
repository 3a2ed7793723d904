"""``support.redis_tour``, the short name notebooks import; the code lives in support/lessons/redis_tour.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .lessons import redis_tour

sys.modules[__name__] = redis_tour
