"""The start files for the cloud (Codespaces / VS Code dev containers, mybinder), checked as far as they can be
here: they parse, every command they name exists (a Makefile target make can plan, a program on PATH, a file of the
repository), they install the pinned requirement files, and mybinder's ``start`` hands over to Jupyter."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
SHELL_BUILTINS = {"set", "exec", "echo", "cd", "export", "true"}


def _make_plans(command: str) -> None:
    """`make ...` as written would run (``make -n``: planned, nothing executed)."""
    words = shlex.split(command)
    assert words[0] == "make", command
    done = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{command}: {done.stderr}"


def test_the_dev_container_sets_up_and_serves_jupyterlab() -> None:
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    commands = [config["postCreateCommand"], *config["postAttachCommand"].values()]
    for command in commands:
        _make_plans(command)
    assert config["postCreateCommand"] == "make .venv/.lab-installed"  # the README's set-up, no more
    lab = config["postAttachCommand"]["jupyterlab"]
    assert lab.startswith("make lab ") and "allow_remote_access=True" in lab  # Codespaces' host name is not local
    port = re.search(r"^LAB_PORT \?= (\d+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert config["forwardPorts"] == [int(port)]
    image_python = re.search(r"python:(\d+\.\d+)", config["image"]).group(1)
    assert (3, 11) <= tuple(map(int, image_python.split("."))) <= (3, 14)


def _commands(script: Path) -> list[str]:
    """The program each command line of a shell script starts (comments, variables and builtins left out)."""
    programs = []
    for line in script.read_text().splitlines():
        if line.startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.commenters = "#"
        at_start, redirect = True, False
        for token in lexer:
            if token in (";", "&&", "||", "|", "&"):
                at_start = True
            elif token in (">", ">>", "<", "2>", ">&"):
                redirect = True
            elif redirect:
                redirect = False  # the file a redirection names
            elif at_start and not re.match(r"^\w+=", token):
                if token not in SHELL_BUILTINS:
                    programs.append(token)
                at_start = False
    return programs


def test_the_binder_scripts_parse_and_name_programs_that_exist() -> None:
    for name in ("postBuild", "start"):
        script = BINDER / name
        assert script.stat().st_mode & 0o111, f"binder/{name} must be executable"
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"binder/{name}: {done.stderr}"
        for program in _commands(script):
            made = program.startswith(".venv/")  # postBuild makes .venv/iredis itself, with `python -m venv`
            assert shutil.which(program) or made, f"binder/{name} runs {program!r}, which is not on PATH"
    start = (BINDER / "start").read_text().strip().splitlines()
    assert start[-1] == 'exec "$@"', "binder/start must end by starting Jupyter"
    assert "python -m support up" in (BINDER / "start").read_text()  # idempotent: notebooks reuse what it started


def test_binder_installs_the_pinned_requirements() -> None:
    lines = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["-r ../requirements.txt"]
    post_build = (BINDER / "postBuild").read_text()
    assert "-r requirements-cli.txt" in post_build and "--only-binary :all:" in post_build
    assert (ROOT / "requirements.txt").read_text().count("jupyter-server-proxy==") == 1
    version = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[1-4])", version), version
