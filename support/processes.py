"""``support.processes``, the short name notebooks import; the code lives in support/services/processes.py.

This module is that very module under a second name (same object: same state, same functions).
"""

import sys

from .services import processes

sys.modules[__name__] = processes
