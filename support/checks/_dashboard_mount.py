"""How 04's Exercise 1 is checked: rq-dashboard mounted inside the running Work-It, asked over HTTP.

``verify_mounted(base)`` asks the Work-It at `base` (``http://127.0.0.1:PORT``) what a browser would: its
``/health`` (which blueprints its app has, mounted where; why the routes file did not load), ``/rq/`` with the
course's key (rq-dashboard's page), that page again as Jupyter's proxy would ask for it (its stylesheet's address
under the proxy's prefix, and the stylesheet itself), ``/rq/0/data/queues.json`` after a job was put on a queue of
its own in the course's Redis (the dashboard shows that queue: it reads the course's Redis), and ``/rq/`` without
the key (403: the guard covers it).
"""

from __future__ import annotations

import re
from typing import Any

import requests
from rq import Queue

from ..exercises import Incorrect
from ..rq_helpers import queues
from ..services import access

MOUNT = "/rq"
BLUEPRINT = "rq_dashboard"  # the name rq_dashboard.blueprint registers under
MARKER_QUEUE = "dashboard-check"  # a queue of the check's own, deleted after
PROXY_PREFIX = "/user/learner/proxy/127.0.0.1:3000"  # what jupyter-server-proxy names in X-Forwarded-Prefix
TITLE = "<title>RQ dashboard</title>"  # rq_dashboard 0.9.0 templates/rq_dashboard/base.html


def _get(url: str, key: bool = True, headers: dict[str, str] | None = None) -> requests.Response:
    sent = {**(access.headers() if key else {}), **(headers or {})}
    session = requests.Session()
    session.trust_env = False  # an http_proxy setting must not catch 127.0.0.1
    try:
        return session.get(url, headers=sent, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        raise Incorrect(f"Work-It did not answer {url}: {exc}. Is it running? Run the notebook's first cell.") from None


def _health(base: str) -> dict[str, Any]:
    response = _get(f"{base}/health")
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        raise Incorrect(
            f"Work-It's /health answered {response.status_code}; restart it with the notebook's first cell."
        )
    return data


def _registered(health: dict[str, Any]) -> None:
    if health.get("routes_error"):
        raise Incorrect(f"Work-It could not draw your routes: {health['routes_error']}")
    mounts = health.get("blueprints") or {}
    if BLUEPRINT not in mounts:
        raise Incorrect(
            "Work-It's app has no rq_dashboard blueprint. Register rq_dashboard.blueprint on the app that "
            "draw(app) receives: a Flask app of your own is not Work-It, and Work-It does not serve it."
        )
    if mounts[BLUEPRINT] != MOUNT:
        raise Incorrect(
            f"rq-dashboard is mounted at {mounts[BLUEPRINT] or '/'}, not at {MOUNT}: give "
            f'register_blueprint url_prefix="{MOUNT}".'
        )


def _the_page(base: str) -> str:
    page = _get(f"{base}{MOUNT}/")
    if page.status_code != 200:
        raise Incorrect(
            f"{MOUNT}/ answered {page.status_code}. rq-dashboard connects to its Redis in "
            "rq_dashboard.web.setup_rq_connection(app), which reads app.config['RQ_DASHBOARD_REDIS_URL']: set "
            "that, then call it, before the blueprint serves."
        )
    if "Connection Error" in page.text:
        raise Incorrect(
            f"rq-dashboard at {MOUNT} cannot reach the Redis it points at. Point RQ_DASHBOARD_REDIS_URL at the "
            "course's Redis: app.config['REDIS_URL']."
        )
    if TITLE not in page.text:
        raise Incorrect(f"{MOUNT}/ answers, but it is not rq-dashboard's page.")
    return page.text


def _behind_the_proxy(base: str) -> None:
    """The page as Jupyter's proxy asks for it: its stylesheet's address carries the prefix, and loads."""
    page = _get(f"{base}{MOUNT}/", headers={"X-Forwarded-Prefix": PROXY_PREFIX})
    found = re.search(r'href="([^"]+\.css)"', page.text)
    wanted = f"{PROXY_PREFIX}{MOUNT}/static/"
    if found is None or not found.group(1).startswith(wanted):
        raise Incorrect(f"Behind Jupyter's proxy, rq-dashboard's stylesheet should be under {wanted}: it is not.")
    sheet = _get(base + found.group(1)[len(PROXY_PREFIX) :])
    if sheet.status_code != 200:
        raise Incorrect(f"rq-dashboard's stylesheet {found.group(1)} answered {sheet.status_code}.")


def _on_the_course_redis(base: str) -> None:
    marker = Queue(MARKER_QUEUE, connection=queues.connection())
    marker.delete(delete_jobs=True)
    marker.enqueue("support.demo_jobs.noop")
    try:
        answer = _get(f"{base}{MOUNT}/0/data/queues.json")
        try:
            shown = {q.get("name"): q.get("count") for q in answer.json().get("queues", [])}
        except (ValueError, AttributeError):
            shown = {}
    finally:
        marker.delete(delete_jobs=True)
    if shown.get(MARKER_QUEUE) != 1:
        raise Incorrect(
            f"The check put a job on a queue of its own ({MARKER_QUEUE}) in the course's Redis, and rq-dashboard at "
            f"{MOUNT} does not show it: it reads another Redis. Point RQ_DASHBOARD_REDIS_URL at "
            "app.config['REDIS_URL']."
        )


def _behind_the_key(base: str) -> None:
    refused = _get(f"{base}{MOUNT}/", key=False)
    if refused.status_code != 403:
        raise Incorrect(
            f"{MOUNT}/ answered {refused.status_code} to a request without the course's key: it should be 403, as "
            "for every page of Work-It. Mount rq-dashboard inside Work-It, behind its guard."
        )


def verify_mounted(base: str) -> str:
    """Every requirement of Exercise 1 on the Work-It at `base`; Incorrect naming the first one missed."""
    _registered(_health(base))
    _the_page(base)
    _behind_the_proxy(base)
    _on_the_course_redis(base)
    _behind_the_key(base)
    return (
        f"rq-dashboard answers at {MOUNT} inside Work-It, shows the course's queues, loads its stylesheet under "
        f"Jupyter's proxy too, and refuses a request without the key."
    )
