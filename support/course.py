"""``support.course``, the short name notebooks import; the code lives in support/services/course.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import course

sys.modules[__name__] = course
