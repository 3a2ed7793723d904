"""What stands in front of the course's web apps (Work-It, rq-dashboard): the learner's token, and Jupyter's prefix.

``protect(app)`` wraps a WSGI app so that it

- answers only requests carrying this state folder's token (``support.services.access``): as ``?course_token=``
  (the browser then gets it as an HttpOnly cookie and is sent to the same address without it), as that cookie, or
  as the ``X-Course-Token`` header; anything else gets a 403 page saying how to get a working link;
- renders right behind jupyter-server-proxy (``{base_url}proxy/127.0.0.1:PORT/``): the proxy strips its prefix
  and names it in ``X-Forwarded-Prefix``, which werkzeug's ``ProxyFix`` turns into ``SCRIPT_NAME``, so every
  ``url_for`` link, stylesheet, script and XHR address carries the prefix.
"""

from __future__ import annotations

import hmac
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from . import access

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

REFUSED = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not your course's page</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>403: this link lacks the course's key</h1>
<p>Get a working link: run <code>python -m support status</code> in a terminal, or re-run the notebook cell that
showed the link.</p>
</body></html>
"""


def _relative_location(path: str, query: list[tuple[str, str]]) -> str:
    """The same page as a relative reference (the browser resolves it against the prefixed address it shows)."""
    last = path.rsplit("/", 1)[-1]
    location = urllib.parse.quote(last) if last else "./"
    return location + ("?" + urllib.parse.urlencode(query) if query else "")


class Guard:
    """The token check around one WSGI app (see the module's docstring)."""

    def __init__(self, app: WSGIApp, token: str) -> None:
        self.app, self.token = app, token

    def _matches(self, given: str | None) -> bool:
        return given is not None and given != "" and hmac.compare_digest(given.encode(), self.token.encode())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from werkzeug.http import parse_cookie

        query = urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        given = next((v for k, v in query if k == access.PARAM), None)
        if self._matches(given) and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            path = environ.get("SCRIPT_NAME", "").rstrip("/") + "/"
            cookie = f"{access.COOKIE}={self.token}; Path={path}; HttpOnly; SameSite=Lax"
            location = _relative_location(environ.get("PATH_INFO", ""), [(k, v) for k, v in query if k != access.PARAM])
            start_response(
                "303 See Other",
                [
                    ("Location", location),
                    ("Set-Cookie", cookie),
                    ("Cache-Control", "no-store"),
                    ("Referrer-Policy", "no-referrer"),
                    ("Content-Length", "0"),
                ],
            )
            return [b""]
        cookie_token = parse_cookie(environ.get("HTTP_COOKIE", "")).get(access.COOKIE)
        header_token = environ.get("HTTP_" + access.HEADER.upper().replace("-", "_"))
        if self._matches(given) or self._matches(cookie_token) or self._matches(header_token):
            return self.app(environ, start_response)
        body = REFUSED.encode()
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


def protect(app: WSGIApp, token: str | None = None) -> WSGIApp:
    """`app` behind the token check and Jupyter's prefix (``X-Forwarded-Prefix``); `token`: this state folder's."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(Guard(app, token or access.token()), x_for=1, x_proto=1, x_host=0, x_prefix=1)
