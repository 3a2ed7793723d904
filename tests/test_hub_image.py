"""Zero to JupyterHub: the course's single-user image (``deploy/jupyterhub/Dockerfile``) and its ``config.yaml``.

No image is built here (no registry, no Docker). What the tests can prove: the Dockerfile copies what its install
step needs and runs ``install-course.sh`` on it; that script, run as the Dockerfile runs it, in a clean venv, installs
a Jupyter that has the course and an enabled jupyter-server-proxy; ``config.yaml`` uses the chart's own keys, and its
memory figures cover the README's measured footprint.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy" / "jupyterhub"
DOCKERFILE = DEPLOY / "Dockerfile"
CONFIG = DEPLOY / "config.yaml"
SCRIPT = DEPLOY / "install-course.sh"

# Keys of the Helm chart's jupyterhub/values.yaml (zero-to-jupyterhub-k8s commit 48ea50e, July 2026) that
# config.yaml sets: a key the chart does not know would fail the chart's schema check on install.
CHART_KEYS = {
    "singleuser.image.name",
    "singleuser.image.tag",
    "singleuser.defaultUrl",
    "singleuser.lifecycleHooks",
    "singleuser.memory.guarantee",
    "singleuser.memory.limit",
    "singleuser.cpu.guarantee",
    "singleuser.cpu.limit",
    "cull.enabled",
    "cull.timeout",
    "cull.every",
}
# README, "Per-learner footprint" (MB, PSS): the services together, one kernel, one worker. The Jupyter server is
# not in that table: JupyterLab's server with one kernel measured 79 MB PSS here (Dec 2026), the course's watchdog
# (support.services.server_watch) 12 MB; FOOTPRINT_SERVER_MB rounds the two up.
FOOTPRINT_SERVICES_MB, FOOTPRINT_KERNEL_MB, FOOTPRINT_WORKER_MB = 128.6, 52.7, 35.9
FOOTPRINT_SERVER_MB = 100


def _steps() -> list[tuple[str, str]]:
    """The Dockerfile's instructions: (keyword, arguments), comments and continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def _config() -> dict:
    import yaml

    return yaml.safe_load(CONFIG.read_text())


def _leaves(tree: dict, prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path != "singleuser.lifecycleHooks":
            found |= _leaves(value, path + ".")
        else:
            found[path] = value
    return found


def _megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG])", str(size)).groups()
    return float(number) * {"K": 1 / 1024, "M": 1, "G": 1024}[unit]


def test_the_dockerfile_copies_what_its_install_step_needs_and_runs_it() -> None:
    steps = _steps()
    assert steps[0][0] == "ARG" and steps[1] == ("FROM", "${BASE_IMAGE}")
    assert re.fullmatch(r"BASE_IMAGE=quay\.io/jupyter/[\w-]+-notebook:\d{4}-\d\d-\d\d", steps[0][1]), steps[0]
    copied = set()
    for keyword, args in steps:
        if keyword == "COPY":
            *sources, target = [a for a in shlex.split(args) if not a.startswith("--")]
            copied |= {(source, target) for source in sources}
    runs = [args for keyword, args in steps if keyword == "RUN"]
    assert len(runs) == 1, runs
    install, *fixes = [part.strip() for part in runs[0].split("&&")]
    assert install == "/opt/course/deploy/jupyterhub/install-course.sh /opt/course"  # what the last test runs
    assert fixes == ['fix-permissions "${CONDA_DIR}"', 'fix-permissions "/home/${NB_USER}"']  # docker-stacks' own
    need = {"requirements.txt", "pyproject.toml", "README.md"}  # pip install -r, pip install -e (its readme)
    assert {(name, "/opt/course/") for name in need} <= copied
    for folder in ("support", "notebooks", "lab-settings"):
        assert (folder, f"/opt/course/{folder}") in copied
    assert ("deploy/jupyterhub/install-course.sh", "/opt/course/deploy/jupyterhub/") in copied
    for source, _ in copied:
        assert (REPO / source).exists(), source
    # the learner's copy, made by config.yaml's postStart, is what Python imports (PYTHONPATH)
    assert ("ENV", "PYTHONPATH=/home/jovyan/course") in steps
    hook = " ".join(_config()["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert "cp -a /opt/course /home/jovyan/course" in hook and "[ -d /home/jovyan/course ] ||" in hook


def test_the_config_uses_the_charts_keys_and_covers_the_footprint() -> None:
    leaves = _leaves(_config())
    assert set(leaves) == CHART_KEYS
    guarantee = _megabytes(leaves["singleuser.memory.guarantee"])
    limit = _megabytes(leaves["singleuser.memory.limit"])
    working = FOOTPRINT_SERVER_MB + FOOTPRINT_SERVICES_MB + 2 * FOOTPRINT_KERNEL_MB  # a notebook and worker.ipynb
    busiest = working + 4 * FOOTPRINT_WORKER_MB  # 06 runs up to four workers at once
    assert working <= guarantee and busiest <= limit, (working, guarantee, busiest, limit)
    assert leaves["cull.enabled"] is True and leaves["cull.timeout"] >= 600
    notebook = leaves["singleuser.defaultUrl"].removeprefix("/lab/tree/course/")
    assert (REPO / notebook).exists(), notebook


@pytest.mark.slow  # pip installs every pin into a fresh venv: about 45 s of one core
def test_the_install_step_gives_a_clean_venv_the_course_and_jupyter_server_proxy(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER", "COURSE"))}
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", PIP_CACHE_FLAG="")  # the test's pip cache, not none
    done = subprocess.run(
        ["sh", str(SCRIPT), str(REPO)], env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"The course is installed for {venv / 'bin' / 'python'}" in done.stdout
    python = str(venv / "bin" / "python")
    found = subprocess.run(
        [
            python,
            "-c",
            "import json, support.services.state as s, jupyter_server_proxy, jupyterlab; "
            "print(json.dumps([str(s.REPO_ROOT), jupyterlab.__version__]))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
    )  # fmt: skip  (not from the checkout: python -c puts its folder first on the path)
    root, lab_version = json.loads(found.stdout)
    assert root == str(REPO)
    pinned = re.search(r"^jupyterlab==(\S+)", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned and lab_version == pinned.group(1)
    settings = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(settings.read_text()) == json.loads((REPO / "lab-settings" / "overrides.json").read_text())
    # The learner's copy (postStart's cp -a) first on PYTHONPATH, as the image's ENV says: the course, its notebooks
    # and its state folder are then the copy's, not /opt/course's.
    copy = tmp_path / "home" / "course"
    shutil.copytree(REPO / "support", copy / "support", ignore=shutil.ignore_patterns("__pycache__"))
    mine = subprocess.run(
        [python, "-c", "import support.services.state as s; print(s.REPO_ROOT, s.home())"],
        env={**env, "PYTHONPATH": str(copy)}, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert mine.stdout.split() == [str(copy), str(copy / ".course")]


def test_the_tljh_settings_put_the_learners_copy_first_on_pythons_path(tmp_path: Path) -> None:
    """deploy/jupyterhub/tljh_course.py, loaded as TLJH loads it (a config file with `c`), with a stand-in for TLJH's
    generate_system_username: PYTHONPATH is the system user's ~/course, and the start page is 01 there."""
    import pwd
    import types

    from traitlets.config import Config

    user = pwd.getpwuid(os.getuid())
    normalize = types.ModuleType("tljh.normalize")
    normalize.generate_system_username = lambda name: user.pw_name if name == "jupyter-ada" else name  # type: ignore[attr-defined]
    config = Config()
    saved = {name: sys.modules.get(name) for name in ("tljh", "tljh.normalize")}
    sys.modules.update({"tljh": types.ModuleType("tljh"), "tljh.normalize": normalize})
    try:
        source = (DEPLOY / "tljh_course.py").read_text()
        exec(compile(source, "tljh_course.py", "exec"), {"get_config": lambda: config})  # noqa: S102
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    spawner = types.SimpleNamespace(user=types.SimpleNamespace(name="ada"))
    assert config.Spawner.environment["PYTHONPATH"](spawner) == f"{user.pw_dir}/course"
    notebook = config.Spawner.default_url.removeprefix("/lab/tree/course/")
    assert (REPO / notebook).exists(), notebook
