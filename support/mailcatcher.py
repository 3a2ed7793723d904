"""``support.mailcatcher``, the short name notebooks import; the code lives in support/services/mailcatcher.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import mailcatcher

sys.modules[__name__] = mailcatcher
