"""Work-It's routes file, the counterpart of Rails' ``config/routes.rb`` (notebook 04).

The learner's ``routes.py`` holds ``draw(app)``: Work-It calls it with its Flask app, which it builds afresh, so
whatever ``draw`` registers (rq-dashboard's blueprint at ``/rq``) is part of Work-It, behind the same guard
(``support.services.guard``: the learner's key, Jupyter's proxy prefix) as the form.

Which file: ``use(path)`` records it in the state folder, and the app's process reads that record on each request.
When the record, the file or a Python file beside it changes, the app is built again and ``draw`` runs again
(Flask refuses a blueprint registered after an app's first request, so an edit needs a new app, not a patched
one); while nothing changed, the app built last serves. The file is reloaded as the controller file is
(``support.workit.controller``: the same stamp of the folder, the same fresh import).

A file that does not load, or a ``draw`` that raises, leaves Work-It without the learner's routes: every page it
does not know answers 404 with the error, its file and line, and ``/health`` names it (``routes_error``). The app
keeps running.
"""

from __future__ import annotations

import html
import importlib.util
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..services import state
from .controller import folder_stamp, forget_neighbours, put_first_on_path, where

if TYPE_CHECKING:
    from flask import Flask

RECORD = "workit-routes"  # the file in the state folder that names the routes file
MODULE_NAME = "routes"  # the name the file is imported under
ERROR_KEY = "WORKIT_ROUTES_ERROR"  # app.config: why the routes file did not load, or ""
FILE_KEY = "WORKIT_ROUTES_FILE"  # app.config: the routes file's name, or ""


class RoutesError(RuntimeError):
    """The routes file could not be loaded, or its ``draw`` raised; the message says where."""


def course_redis_url() -> str:
    """What Work-It puts in ``app.config["REDIS_URL"]``: the course's Redis, with its password, or "" when it is not
    running (inline delivery needs none)."""
    from ..services import redis_server

    service = redis_server.status()
    return redis_server.client_url(service) if service is not None else ""


def record_path() -> Path:
    return state.home() / RECORD


def use(path: str | Path) -> Path:
    """Make Work-It load `path` as its routes file from its next request on; returns the path, resolved."""
    resolved = Path(path).resolve()
    state.write_private(record_path(), str(resolved))
    return resolved


def forget() -> None:
    """Work-It goes back to its own routes only."""
    record_path().unlink(missing_ok=True)


def recorded() -> Path | None:
    """The routes file Work-It loads, or None."""
    try:
        text = record_path().read_text().strip()
    except FileNotFoundError:
        return None
    return Path(text) if text else None


def draw(app: Flask, path: Path) -> None:
    """Import `path` afresh and run its ``draw(app)``; RoutesError (naming the file and line) when either fails."""
    if not path.is_file():
        raise RoutesError(f"{path.name} does not exist: run the cell that writes it")
    put_first_on_path(str(path.parent))
    forget_neighbours(path.parent)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 -- any error in the learner's file is shown, never raised further
        said = exc.msg if isinstance(exc, SyntaxError) else exc
        raise RoutesError(f"{path.name} could not be loaded: {type(exc).__name__}: {said}{where(exc, path)}") from exc
    if not callable(getattr(module, "draw", None)):
        raise RoutesError(f"{path.name} has no draw(app) function")
    try:
        module.draw(app)
    except Exception as exc:  # noqa: BLE001 -- shown on the page; the app goes on serving
        raise RoutesError(f"{path.name}: draw(app) raised {type(exc).__name__}: {exc}{where(exc, path)}") from exc


def _not_found_page(message: str) -> Callable[[Exception], Any]:
    def page(_error: Exception) -> Any:
        from flask import Response

        body = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>\n'
            '<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">\n'
            f"<h1>404: Work-It has no such page</h1>\n<p>Your routes are not loaded: {html.escape(message)}</p>\n"
            "</body></html>\n"
        )
        return Response(body, status=404, mimetype="text/html")

    return page


class RoutedApp:
    """A WSGI app: the Flask app `build()` returns, with the recorded routes file drawn on it; built again when the
    record, the file or a Python file beside it changes."""

    def __init__(self, build: Callable[[], Flask]) -> None:
        self.build = build
        self._key: object = None
        self._app: Flask | None = None

    def _current_key(self) -> object:
        path = recorded()
        return (path, folder_stamp(path.parent) if path is not None else ())

    def current(self) -> Flask:
        """The app to serve now (built again when the routes changed)."""
        key = self._current_key()
        if self._app is None or key != self._key:
            self._app, self._key = self._built(key[0]), key  # type: ignore[index]
        return self._app

    def _built(self, path: Path | None) -> Flask:
        app = self.build()
        app.config[FILE_KEY] = path.name if path is not None else ""
        app.config[ERROR_KEY] = ""
        if path is None:
            return app
        try:
            draw(app, path)
        except RoutesError as exc:
            app = self.build()  # what a failed draw registered must not stay half done
            app.config[FILE_KEY], app.config[ERROR_KEY] = path.name, str(exc)
            app.register_error_handler(404, _not_found_page(str(exc)))
        return app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.current()(environ, start_response)


def mounts(app: Flask) -> dict[str, str]:
    """Each blueprint registered on `app`, by name, and the path it is mounted at (``{"rq_dashboard": "/rq"}``)."""
    found: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        name, dot, _ = rule.endpoint.rpartition(".")
        if dot and name in app.blueprints:
            found.setdefault(name, []).append(rule.rule)
    result = {}
    for name, rules in found.items():
        common = os.path.commonprefix(rules)
        result[name] = common[: common.rfind("/")] if "/" in common else common
    return result
