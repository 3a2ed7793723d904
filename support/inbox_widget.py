"""``support.inbox_widget``, the short name notebooks import; the code lives in support/widgets/inbox_widget.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .widgets import inbox_widget

sys.modules[__name__] = inbox_widget
