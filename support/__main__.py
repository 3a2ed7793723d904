"""``python -m support ...``: the course's command line (see support/cli.py)."""

import sys

from .cli import main

sys.exit(main())
