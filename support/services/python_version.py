"""Which Pythons the course supports, as a pure function, and a check that runs with any Python from 3.7 on.

The Makefile runs this file with the learner's Python before anything is installed
(``python3 support/services/python_version.py``), so it imports nothing from the course and keeps to syntax that old
Pythons still parse: a learner on 3.9 gets a sentence saying what to do, not a SyntaxError.
"""

from __future__ import annotations

import sys

OLDEST = (3, 11)  # filelock 4.3.1 (a pin) requires 3.11; 3.10 reached its end of life in October 2026
NEWEST_TESTED = (3, 14)  # CI runs 3.11 and 3.13; the pins resolve as wheels for 3.11 to 3.15 (tests/test_wheels.py)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version[:2])


def python_problem(version: tuple[int, ...]) -> str | None:
    """One line saying what to do when the course cannot run on Python `version`, or None when it can.
    Newer Pythons than the tested ones are not turned away: nothing is known to break on them."""
    if tuple(version[:2]) < OLDEST:
        return (
            f"Python {_dotted(version)} is too old: the course needs Python {_dotted(OLDEST)} or newer. "
            f"Install Python 3.13 (python.org, `brew install python@3.13`, `sudo apt-get install python3.13`), "
            f"then run: make PYTHON=python3.13 lab"
        )
    return None


def python_note(version: tuple[int, ...]) -> str:
    """How the course stands on Python `version`, in a few words."""
    if python_problem(version):
        return "too old"
    if tuple(version[:2]) > NEWEST_TESTED:
        return f"newer than the tested {_dotted(OLDEST)}-{_dotted(NEWEST_TESTED)}; the pins install as wheels"
    return f"supported ({_dotted(OLDEST)}-{_dotted(NEWEST_TESTED)})"


def main() -> int:
    """Print what this Python is and whether the course runs on it; exit 1 when it does not."""
    version = tuple(sys.version_info[:3])
    problem = python_problem(version)
    print(f"Python {'.'.join(map(str, version))} ({sys.executable}): {problem or python_note(version)}")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
