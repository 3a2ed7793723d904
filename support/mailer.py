"""``support.mailer``, the short name notebooks import; the code lives in support/workit/mailer.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .workit import mailer

sys.modules[__name__] = mailer
