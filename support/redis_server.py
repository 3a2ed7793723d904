"""``support.redis_server``, the short name notebooks import; the code lives in support/services/redis_server.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import redis_server

sys.modules[__name__] = redis_server
