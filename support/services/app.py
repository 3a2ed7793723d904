"""Work-It, the course's web app, as a course service: start it, stop it, ask it, post its form.

The app itself (its pages, its form handling, its one-request-at-a-time server) is ``support.workit.web``; it runs
as a process of its own (``python -m support.workit.web``), so this module imports neither Flask nor rq:

- ``start(delivery="inline")``: the mailer runs inside the request (the Rails lesson's ``deliver_now``); the page hangs.
- ``start(delivery="background")``: the request queues a job on ``mailers`` (``perform_later``) and answers at once.
- ``start(delivery="controller", controller="mailers_controller.py")``: the request runs the learner's controller
  file (notebook 03), which does one or the other.

From a notebook: ``start()``, ``stop()``, ``status()``, ``url()``, ``browser_url()`` (the link a learner opens: with
the token the app asks for, through Jupyter's proxy under Jupyter) and ``post_thought()``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import access, links, mailcatcher, processes, redis_server, state
from .ports import HOST
from .processes import Service

NAME = "app"
PREFERRED_PORT = 3000  # the port `rails s` uses
DELIVERIES = ("inline", "background", "controller")
SERVER_MODULE = "support.workit.web"  # what the app's process runs (python -m)


def _health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    import requests

    try:
        response = requests.get(f"http://{HOST}:{port}/health", headers=access.headers(), timeout=timeout)
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("app") == "work-it" else None


def _mode(health: dict[str, Any] | None) -> dict[str, Any] | None:
    if not health:
        return None
    return {"delivery": health.get("delivery"), "delay": health.get("delay"), "controller": health.get("controller")}


def start(
    delivery: str = "inline", delay: float = 5.0, controller: str | Path | None = None, timeout: float = 15
) -> Service:
    """Start Work-It with this delivery and delay (or return the running one if it matches; else restart it).
    With ``delivery="controller"``, `controller` is the controller file the app runs for each submission.

    Starts what it needs first: the mail catcher, and Redis unless the delivery is inline.
    """
    if delivery not in DELIVERIES:
        raise ValueError(f"delivery must be one of {', '.join(DELIVERIES)}, not {delivery!r}")
    if (delivery == "controller") != bool(controller):
        raise ValueError("give a controller file with delivery='controller' (and only then)")
    delay = float(delay)
    path = str(Path(controller).resolve()) if controller else ""
    wanted = {"delivery": delivery, "delay": delay, "controller": path}
    mailcatcher.start()
    if delivery != "inline":
        redis_server.start()
    with state.locked():
        service = processes.running(NAME)
        if service is not None:
            same = {"delivery": service.delivery, "delay": service.delay, "controller": service.controller} == wanted
            # A busy app (one request at a time) cannot answer /health, but its socket still accepts connections.
            if same and processes.port_answers(service.port):
                return service
            processes.stop(NAME)
        extra = ["--controller", path] if path else []
        return processes.ensure(
            NAME,
            PREFERRED_PORT,
            argv_for=lambda port: processes.python_argv(
                SERVER_MODULE, "--port", str(port), "--delivery", delivery, "--delay", repr(delay), *extra
            ),
            url_for=lambda port: f"http://{HOST}:{port}",
            ready=lambda port: _mode(_health(port, timeout=0.5)) == wanted,
            timeout=timeout,
            delivery=delivery,
            delay=delay,
            controller=path,
        )


def stop() -> bool:
    """Stop Work-It. True when a process was stopped."""
    return processes.stop(NAME)


def status() -> Service | None:
    """The running Work-It app, or None (never starts it)."""
    return processes.running(NAME)


def url() -> str:
    """The app's address: the running one's, else a new one started with the defaults."""
    service = status() or start()
    return service.url


def browser_url() -> str:
    """The form page's link for the learner's browser (see ``support.services.links``), starting the app if needed."""
    service = status() or start()
    return links.browser_url(service.port)


def post_thought(email: str | None, thought: str | None, timeout: float = 60) -> dict[str, Any]:
    """Submit the form as a browser would (fields that are None are left out) and time the round trip.

    Returns the app's JSON answer plus ``status`` (the HTTP code) and ``seconds``.
    """
    import requests

    data = {k: v for k, v in (("email", email), ("thought", thought)) if v is not None}
    target = url() + "/mailers"
    t0 = time.perf_counter()
    response = requests.post(
        target, data=data, headers={"Accept": "application/json", **access.headers()}, timeout=timeout
    )
    seconds = time.perf_counter() - t0
    try:
        result = response.json()
        if not isinstance(result, dict):
            raise ValueError
    except ValueError:
        result = {"ok": False, "error": response.text[:500]}
    result.update(status=response.status_code, seconds=seconds)
    return result
