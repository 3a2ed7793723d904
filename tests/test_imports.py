"""Every module of support/ imports, in a fresh Python: what a newer (or older) Python breaks shows here first.

(CI runs this file again on its second Python, with the worker classes and the core notebooks: ``make test-python``.)
"""

from __future__ import annotations

import subprocess
import sys

from test_architecture import module_names

SCRIPT = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:  # every failure, not only the first
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_of_support_imports() -> None:
    names = [name for name in module_names() if not name.endswith("__main__")]  # __main__ runs the command line
    assert len(names) > 40, names
    done = subprocess.run([sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"modules that do not import on Python {sys.version.split()[0]}:\n{done.stdout}" \
                                 f"{done.stderr[-2000:]}"
