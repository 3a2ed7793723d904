"""Native Windows: importing the package never ends the process; a notebook's first cell says why the course cannot
run there (plain lines, no traceback), and so does ``python -m support``. Windows is played by a real Python whose
``platform.system()`` answers "Windows"."""

from __future__ import annotations

import subprocess
import sys

AS_WINDOWS = "import platform\nplatform.system = lambda: 'Windows'\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", AS_WINDOWS + code], capture_output=True, text=True, timeout=120)


def test_importing_the_package_goes_on() -> None:
    done = _run("import support\nprint('still here')\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "still here\n", "")


def test_the_command_line_says_it_and_exits() -> None:
    done = _run(
        "import runpy, sys\nsys.argv = ['support', 'status']\nrunpy.run_module('support', run_name='__main__')\n"
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "native Windows" in done.stderr and "wsl --install" in done.stderr and "Traceback" not in done.stderr


def test_a_notebook_cell_shows_the_message_not_a_traceback() -> None:
    done = _run(
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_cell('import support')\n"
    )
    shown = done.stdout + done.stderr
    assert "wsl --install" in shown and "make lab" in shown
    assert "Traceback" not in shown and "File " not in shown
