"""The browser the tests drive: where Chromium is (never downloaded), how to install it, and how to start it.

Run as a program (``make check-browser``, ``make test``'s first step), it says which Chromium the browser tests will
use, or, when there is none, how to install it, and exits 1: before anything else has started.
"""

from __future__ import annotations

import os
import shutil
import sys

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Where Chromium lives: Debian's package, other Linux packages, the macOS app (Homebrew's cask installs it there).
CHROMIUM_PLACES = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
]
CHROMIUM_OVERRIDE = "COURSE_CHROMIUM"  # a path to the Chromium program to use instead
NOT_INSTALLED = """Chromium is not installed, and the browser tests need it (no browser is ever downloaded by them).
Install it, then run the tests again:
  Debian/Ubuntu:  sudo apt-get install chromium   (Ubuntu: chromium-browser)
  macOS:          brew install --cask chromium
  or name the program:  export COURSE_CHROMIUM=/path/to/chromium
Or run every other test without it:  make test BROWSER=0"""


def find_chromium() -> str | None:
    """The Chromium program to drive: $COURSE_CHROMIUM, else the first of the usual places, else one on PATH."""
    override = os.environ.get(CHROMIUM_OVERRIDE)
    if override:
        return override if os.access(override, os.X_OK) else None
    for place in CHROMIUM_PLACES:
        if os.access(place, os.X_OK):
            return place
    return shutil.which("chromium") or shutil.which("chromium-browser")


if __name__ == "__main__":  # make test's first step: stop before anything starts when Chromium is missing
    found = find_chromium()
    if found is None:
        print(NOT_INSTALLED, file=sys.stderr)
        sys.exit(1)
    print(f"Chromium for the browser tests: {found}")
