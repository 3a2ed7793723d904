"""``support.app``, the short name notebooks import; the code lives in support/services/app.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import app

sys.modules[__name__] = app
