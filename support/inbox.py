"""``support.inbox``, the short name notebooks import; the code lives in support/services/inbox.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import inbox

sys.modules[__name__] = inbox
