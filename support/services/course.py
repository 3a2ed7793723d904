"""The course's services as a whole: start them (``up``), say where they are (``describe``), list what runs
(``recorded``) and stop everything (``down``). Notebooks, the command line (``python -m support up|status|down``)
and the tests all go through here.

    from support import course
    course.up("app")                       # the mail catcher and the Work-It app (inline delivery)
    course.up("redis", "app", delivery="background")
    course.down()                          # every process the course started, workers first, Redis last

Starting is idempotent: services already running (started by another notebook, a terminal, a kernel that was
restarted) are found and reused. What is printed names each service and its address, never a PID; and before that,
when something on this machine is wrong (an old Python, no server program, widgets that cannot show), the problem
lines of ``python -m support doctor``, each saying what to do.
"""

from __future__ import annotations

from pathlib import Path

from . import app, doctor, mailcatcher, processes, redis_server, rq_dashboard, state
from .ports import HOST
from .processes import Service

SERVICES = ("redis", "catcher", "app", "dashboard")
LABELS = {"redis": "Redis", "catcher": "Mail catcher", "app": "Work-It app", "dashboard": "RQ dashboard"}
PREFERRED = {"redis": redis_server.PREFERRED_PORT, "catcher": mailcatcher.PREFERRED_PORT,
             "app": app.PREFERRED_PORT, "dashboard": rq_dashboard.PREFERRED_PORT}


def up(*names: str, delivery: str = "inline", delay: float = 5.0, controller: str | Path | None = None,
       quiet: bool = False) -> dict[str, Service]:
    """Start (or find) the named services, print one line each, and return them by name. `controller` is the
    app's controller file, with ``delivery="controller"`` (notebook 03)."""
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"Unknown service(s) {sorted(unknown)}; the course has {', '.join(SERVICES)}.")
    wanted = set(names) or {"redis", "catcher", "app"}
    for line in doctor.problem_lines(doctor.quick_checks()):  # nothing on a healthy machine
        print(line)
    started: dict[str, Service] = {}
    if "redis" in wanted or ("app" in wanted and delivery != "inline") or "dashboard" in wanted:
        started["redis"] = redis_server.start()
    if "catcher" in wanted or "app" in wanted:
        started["catcher"] = mailcatcher.start()
    if "app" in wanted:
        started["app"] = app.start(delivery=delivery, delay=delay, controller=controller)
    if "dashboard" in wanted:
        started["dashboard"] = rq_dashboard.start()
    if not quiet:
        print(describe(started, delivery=delivery, delay=delay))
    return started


def describe(services: dict[str, Service], delivery: str = "inline", delay: float = 5.0) -> str:
    """One line per service: what it is and where it listens (and a note when it had to move off its port)."""
    lines = []
    for name in SERVICES:
        service = services.get(name)
        if service is None:
            continue
        where = service.url if name != "catcher" else f"smtp://{HOST}:{service.port}"
        line = f"{LABELS[name]:<13} {where}"
        if name == "app" and service.controller:
            line += f"  (controller: {Path(service.controller).name}, delay {delay:g} s)"
        elif name == "app":
            line += f"  (delivery: {delivery}, delay {delay:g} s)"
        if service.port and service.port != PREFERRED[name] and not service.external:
            line += f"  [port {PREFERRED[name]} was busy, so it moved]"
        lines.append(line)
    return "\n".join(lines)


def recorded() -> list[Service]:
    """Every service the state file records (running or not): the shared ones in start order, then the others
    (workers, worker kernels) by name."""
    entries = state.read()
    names = [n for n in SERVICES if n in entries] + sorted(n for n in entries if n not in SERVICES)
    return [service for n in names if (service := Service.from_entry(n, entries[n])) is not None]


def down() -> list[str]:
    """Stop every process the course started (workers and kernels first, Redis last); returns the names stopped."""
    stopped = []
    with state.locked():
        names = list(state.read())
        names.sort(key=lambda n: -SERVICES.index(n) if n in SERVICES else -len(SERVICES))  # others, app ... redis
        for name in names:
            if processes.stop(name):
                stopped.append(name)
    return stopped
