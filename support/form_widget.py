"""``support.form_widget``, the short name notebooks import; the code lives in support/widgets/form_widget.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .widgets import form_widget

sys.modules[__name__] = form_widget
