"""The learner's key to the course's web pages (the Work-It app, rq-dashboard): a random token per state folder.

On a shared machine every Unix user reaches 127.0.0.1, so the app and the dashboard (with its Requeue and Delete
buttons) answer only requests that carry this token (``support.services.guard`` checks it). It lives in
``access_token`` in the state folder, readable by its owner only (0600). A browser brings it once in a link
(``?course_token=...``) and then as a cookie; the course's own HTTP clients send it as a header (``headers()``).
"""

from __future__ import annotations

import os
import secrets
import urllib.parse

from . import state

FILE = "access_token"
PARAM = "course_token"  # in a link's query string
COOKIE = "course_token"  # what the browser keeps after its first visit
HEADER = "X-Course-Token"  # what the course's own HTTP clients send


def token() -> str:
    """This state folder's token, created (0600) on first use. No lock: a service process reads it while its
    parent holds the course-wide lock; two first users race safely (the file appears whole, once, by a hard link)."""
    path = state.home() / FILE
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    draft = path.with_name(f".{FILE}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(24) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # someone else's came first: theirs is the token
    finally:
        draft.unlink()
    return path.read_text().strip()


def headers() -> dict[str, str]:
    """The header that lets the course's own HTTP clients in."""
    return {HEADER: token()}


def with_token(url: str) -> str:
    """`url` with the token added to its query string (what a link shown to the learner carries)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k != PARAM] + [(PARAM, token())]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
