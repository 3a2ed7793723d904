"""``python -m support ...``: the course's command line (see support/cli.py). On native Windows it says why the
course cannot run there, and how to run it in WSL, before anything else is imported."""

import sys

from .services.platforms import here, platform_problem

if (problem := platform_problem(*here())) is not None:
    print(problem, file=sys.stderr)
    sys.exit(2)

from .cli import main  # noqa: E402 - after the platform check: what it imports needs a POSIX system

sys.exit(main())
