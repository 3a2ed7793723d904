"""The course's services as a whole: start them (``up``), say where they are (``describe``), list what runs
(``recorded``) and stop everything (``down``). Notebooks, the command line (``python -m support up|status|down``)
and the tests all go through here.

    from support.services import course
    course.up("app")                       # the mail catcher and the Work-It app (inline delivery)
    course.up("redis", "app", delivery="background")
    course.down()                          # every process the course started, workers first, Redis last

Starting is idempotent: services already running (started by another notebook, a terminal, a kernel that was
restarted) are found and reused. Services a kernel starts under a Jupyter server stop when that server stops
(``server_watch``); those started from a terminal stay until ``down``. What is printed names each service and its
address, never a PID (in a kernel under a Jupyter server, the web pages' addresses through Jupyter's proxy, then
clickable links carrying the learner's token: ``support.services.links``); and before that, when something on
this machine is wrong (an old Python, no server program, widgets that cannot show), the problem lines of ``python -m
support doctor``, each saying what to do.
"""

from __future__ import annotations

import html
from pathlib import Path

from . import app, doctor, links, mailcatcher, processes, redis_server, rq_dashboard, server_watch, state
from .ports import HOST
from .processes import Service

SERVICES = ("redis", "catcher", "app", "dashboard")
LABELS = {"redis": "Redis", "catcher": "Mail catcher", "app": "Work-It app", "dashboard": "RQ dashboard"}
WEB = {"app", "dashboard"}  # the services a browser opens
PREFERRED = {
    "redis": redis_server.PREFERRED_PORT,
    "catcher": mailcatcher.PREFERRED_PORT,
    "app": app.PREFERRED_PORT,
    "dashboard": rq_dashboard.PREFERRED_PORT,
}


def up(
    *names: str, delivery: str = "inline", delay: float = 5.0, controller: str | Path | None = None, quiet: bool = False
) -> dict[str, Service]:
    """Start (or find) the named services, print one line each, and return them by name. `controller` is the
    app's controller file, with ``delivery="controller"`` (notebook 03)."""
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"Unknown service(s) {sorted(unknown)}; the course has {', '.join(SERVICES)}.")
    wanted = set(names) or {"redis", "catcher", "app"}
    for line in doctor.problem_lines(doctor.quick_checks()):  # nothing on a healthy machine
        print(line)
    server = server_watch.kernel_server()  # a kernel under a Jupyter server: what it starts stops with the server
    fresh = server is not None and not any(processes.running(name) for name in SERVICES)
    started: dict[str, Service] = {}
    if "redis" in wanted or ("app" in wanted and delivery != "inline") or "dashboard" in wanted:
        started["redis"] = redis_server.start()
    if "catcher" in wanted or "app" in wanted:
        started["catcher"] = mailcatcher.start()
    if "app" in wanted:
        started["app"] = app.start(delivery=delivery, delay=delay, controller=controller)
    if "dashboard" in wanted:
        started["dashboard"] = rq_dashboard.start()
    if server is not None:
        server_watch.tie(server, started_here=fresh, last=SERVICES)
    if not quiet:
        under_jupyter = links.jupyter_base() is not None
        print(describe(started, delivery=delivery, delay=delay, browser=under_jupyter))
        if under_jupyter and WEB & set(started):
            from IPython.display import display

            web = [n for n in SERVICES if n in WEB and n in started]
            display(LinkBar({LABELS[n]: links.browser_url(started[n].port) for n in web}))
    return started


class LinkBar:
    """The web pages' links, with the learner's token, as HTML; its text (which nbval compares) has no token."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def _repr_html_(self) -> str:
        anchors = [
            f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">Open the {label}</a>'
            for label, url in self.urls.items()
        ]
        return '<p class="course-links">' + " · ".join(anchors) + "</p>"

    def __repr__(self) -> str:
        return "Links: " + ", ".join(self.urls)


def describe(
    services: dict[str, Service],
    delivery: str = "inline",
    delay: float = 5.0,
    *,
    browser: bool = False,
    token: bool = False,
) -> str:
    """One line per service: what it is and where it listens (and a note when it had to move off its port). With
    `browser`, the web pages' addresses are the links a browser opens (``links.browser_url``), with the learner's
    token when `token` is True."""
    lines = []
    for name in SERVICES:
        service = services.get(name)
        if service is None:
            continue
        where = service.url if name != "catcher" else f"smtp://{HOST}:{service.port}"
        if browser and name in WEB:
            where = links.browser_url(service.port, token=token)
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
    with state.locked():
        server_watch.release()  # nothing is tied to a Jupyter server any more
        return processes.stop_all(last=SERVICES)  # others, then dashboard, app, catcher, Redis
