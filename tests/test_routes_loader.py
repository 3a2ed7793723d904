"""Work-It's routes file (notebook 04): drawn by the real app process, drawn again after an edit without a restart,
and a broken edit shown without stopping the app."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from support.services import access, app
from support.services.processes import Service
from support.workit import routes_loader

DRAW = """import rq_dashboard


def draw(app):
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="{prefix}")
"""


@pytest.fixture
def workit(shared_course: Path) -> Iterator[Service]:
    routes_loader.forget()
    service = app.start(delivery="background")
    yield service
    routes_loader.forget()
    app.stop()


def _get(service: Service, path: str) -> requests.Response:
    return requests.get(service.url + path, headers=access.headers(), timeout=10)


def _write(path: Path, text: str) -> None:
    """Write `text`, its modification time a second later than the last write (coarse clocks see the edit too)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), max(time.time_ns(), before + 1_000_000_000)))


def test_an_edit_is_drawn_from_the_next_request_without_a_restart(workit: Service, tmp_path: Path) -> None:
    routes = tmp_path / "routes.py"
    _write(routes, DRAW.format(prefix="/dashboard"))
    routes_loader.use(routes)
    assert _get(workit, "/health").json()["blueprints"] == {"rq_dashboard": "/dashboard"}
    assert _get(workit, "/dashboard/").status_code == 200
    _write(routes, DRAW.format(prefix="/rq"))
    assert _get(workit, "/health").json()["blueprints"] == {"rq_dashboard": "/rq"}
    assert _get(workit, "/rq/").status_code == 200 and _get(workit, "/dashboard/").status_code == 404
    assert app.status() is not None and app.status().pid == workit.pid  # the same process all along


def test_a_broken_edit_shows_its_error_and_the_app_goes_on(workit: Service, tmp_path: Path) -> None:
    routes = tmp_path / "routes.py"
    _write(routes, DRAW.format(prefix="/rq").replace("def draw(app):", "def draw(app)"))
    routes_loader.use(routes)
    health = _get(workit, "/health").json()
    assert "SyntaxError" in health["routes_error"] and "(line 4)" in health["routes_error"], health
    assert health["blueprints"] == {}
    missing = _get(workit, "/rq/")
    assert missing.status_code == 404 and "SyntaxError" in missing.text
    assert _get(workit, "/").status_code == 200  # the form still answers
    _write(routes, DRAW.format(prefix="/rq"))
    assert _get(workit, "/health").json()["routes_error"] == ""
    assert _get(workit, "/rq/").status_code == 200


def test_mounts_names_each_blueprint_and_its_prefix() -> None:
    import rq_dashboard
    from flask import Flask

    flask_app = Flask("t")
    flask_app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")
    assert routes_loader.mounts(flask_app) == {"rq_dashboard": "/rq"}
    assert routes_loader.mounts(Flask("empty")) == {}
