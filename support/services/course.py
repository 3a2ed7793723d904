"""One call for a notebook's first cell: start the services it needs and say where they are.

    from support import course
    course.up("app")                       # the mail catcher and the Work-It app (inline delivery)
    course.up("redis", "app", delivery="background")

Starting is idempotent: services already running (started by another notebook, a terminal, a kernel that was
restarted) are found and reused. What is printed names each service and its address, never a PID.
"""

from __future__ import annotations

from . import app, dashboard, mailcatcher, processes, redis_server
from .processes import Service

SERVICES = ("redis", "catcher", "app", "dashboard")
LABELS = {"redis": "Redis", "catcher": "Mail catcher", "app": "Work-It app", "dashboard": "RQ dashboard"}
PREFERRED = {"redis": redis_server.PREFERRED_PORT, "catcher": mailcatcher.PREFERRED_PORT,
             "app": app.PREFERRED_PORT, "dashboard": dashboard.PREFERRED_PORT}


def up(*names: str, delivery: str = "inline", delay: float = 5.0, quiet: bool = False) -> dict[str, Service]:
    """Start (or find) the named services, print one line each, and return them by name."""
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"Unknown service(s) {sorted(unknown)}; the course has {', '.join(SERVICES)}.")
    wanted = set(names) or {"redis", "catcher", "app"}
    started: dict[str, Service] = {}
    if "redis" in wanted or ("app" in wanted and delivery == "background") or "dashboard" in wanted:
        started["redis"] = redis_server.start()
    if "catcher" in wanted or "app" in wanted:
        started["catcher"] = mailcatcher.start()
    if "app" in wanted:
        started["app"] = app.start(delivery=delivery, delay=delay)
    if "dashboard" in wanted:
        started["dashboard"] = dashboard.start()
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
        where = service.url if name != "catcher" else f"smtp://{processes.HOST}:{service.port}"
        line = f"{LABELS[name]:<13} {where}"
        if name == "app":
            line += f"  (delivery: {delivery}, delay {delay:g} s)"
        if service.port and service.port != PREFERRED[name] and not service.extra.get("external"):
            line += f"  [port {PREFERRED[name]} was busy, so it moved]"
        lines.append(line)
    return "\n".join(lines)
