"""rq-dashboard (the Python counterpart of Sidekiq::Web) as a course service: a small Flask site on 127.0.0.1
(port 9181 when free) that shows the course's Redis, run by ``support.services.dashboard_server`` behind the
learner's token. ``browser_url()`` is the link to open (through Jupyter's proxy when in a notebook under Jupyter);
to show it inside a notebook, see ``support.widgets.dashboard_page``."""

from __future__ import annotations

import importlib.util
import urllib.error
import urllib.request

from . import access, dashboard_server, links, processes, redis_server, state
from .ports import HOST
from .processes import Service, ServiceError

NAME = "dashboard"
PREFERRED_PORT = 9181
BROWSER_POLL_MS = 1000  # how often the rq-dashboard page refreshes itself in the browser

INSTALL_HELP = """\
rq-dashboard is not installed in this Python environment. Install it, then run this again:
  pip install rq-dashboard==0.9.0
(The inline DashboardWidget needs only rq; it works without rq-dashboard.)"""


def _page_answers(port: int) -> bool:
    """True when the dashboard's page answers 200 (no proxy: an http_proxy setting must not catch 127.0.0.1)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        request = urllib.request.Request(f"http://{HOST}:{port}/", headers=access.headers())
        with opener.open(request, timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _page_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def _argv(port: int) -> list[str]:
    """The command line: no Redis URL in it (it goes in the environment: see ``dashboard_server``)."""
    return processes.python_argv(
        "support.services.dashboard_server", "--port", str(port), "--poll-interval", str(BROWSER_POLL_MS)
    )


def start(timeout: float = 20.0) -> Service:
    """Start rq-dashboard against the course's Redis (or return the running one) and wait until its page answers.

    A dashboard still pointing at an older Redis URL (Redis came back on another port) is replaced.
    """
    if importlib.util.find_spec("rq_dashboard") is None:
        raise ServiceError(INSTALL_HELP)
    redis = redis_server.start()
    redis_url = redis.url  # recorded, without the password
    with state.locked():
        running = processes.running(NAME)
        if running is not None and running.redis_url != redis_url:
            processes.stop(NAME)
        return processes.ensure(
            NAME,
            PREFERRED_PORT,
            _argv,
            url_for=_page_url,
            ready=_page_answers,
            timeout=timeout,
            env={dashboard_server.REDIS_URL_ENV: redis_server.client_url(redis)},
            redis_url=redis_url,
        )


def stop() -> bool:
    """Stop the dashboard if the course started it. True when a process was stopped."""
    return processes.stop(NAME)


def status() -> Service | None:
    """The running dashboard, or None (never starts it)."""
    return processes.running(NAME)


def url() -> str:
    """The dashboard's address (``http://127.0.0.1:PORT/``), starting it if needed."""
    return start().url


def browser_url() -> str:
    """The link a learner opens (with the token; through Jupyter's proxy under Jupyter), starting it if needed."""
    return links.browser_url(start().port)
