"""01's Exercise 1 checked: the services it needs, the learner's time_form run around the check's own clock (alone,
and in line behind another request), the emails it sent and the requests Work-It logged, and each returned field
held to what really happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..exercises import Incorrect, NotAttempted, call, describe
from ..services import app, inbox, mailcatcher, state
from ._check_trouble import CheckCouldNot

TOO_SLOW = 1.0  # seconds: a page that keeps its user waiting longer has work that belongs in the background
MALFORMED = "ada@"  # an address Work-It refuses at once, before anything slow runs
REFUSED_THOUGHT = "This one should never be sent"
FIELDS = ("status", "seconds", "background")
SLACK = 0.05  # seconds: what the check's own clock may read beyond the learner's around the same call
LINE_AFTER = 0.3  # seconds after the good address's call starts that the check sends 'ada@', to wait in line behind it
IN_LINE = "the malformed address 'ada@' in line behind another request (Work-It serves one request at a time)"


def _services() -> float:
    """The mailer's delay of the running Work-It; the check says what to run when Work-It (sending inline) or the
    mail catcher is not running, before any of the learner's code runs."""
    service = app.status()
    if service is None or mailcatcher.status() is None:
        raise CheckCouldNot(
            "submit Work-It's form",
            "Work-It and the mail catcher are not both running",
            'run this notebook\'s first cell (course.up("app")), then this check again',
        )
    if service.delivery != "inline":
        raise CheckCouldNot(
            "time Work-It sending inline",
            f"Work-It runs with delivery {service.delivery!r} now (another notebook restarted it)",
            'run this notebook\'s first cell again (course.up("app")), then this check',
        )
    return float(service.delay)


def _timed(time_form: Any, email: str, thought: str) -> tuple[dict[str, Any], float]:
    """time_form(email, thought) as the learner wrote it, and how long the call took on the check's own clock."""
    start = time.perf_counter()
    out = call(time_form, email, thought)
    outer = time.perf_counter() - start
    if not isinstance(out, dict):
        raise Incorrect(f"time_form returned {describe(out)}; return a dict with the keys {', '.join(FIELDS)}.")
    missing = [key for key in FIELDS if key not in out]
    if missing:
        raise Incorrect(f"The dict time_form returned has no {missing[0]!r}: give it all of {', '.join(FIELDS)}.")
    return out, outer


def _posted(time_form: Any, email: str, thought: str) -> tuple[dict[str, Any], float, int]:
    """_timed(...), and how many times the form was posted meanwhile: the POST lines Work-It's log gained (it logs
    each request before it answers, unbuffered)."""
    log = state.log_path(app.NAME)
    before = log.stat().st_size if log.exists() else 0
    out, outer = _timed(time_form, email, thought)
    with log.open("rb") as file:
        file.seek(before)
        posts = file.read().decode("utf-8", "replace").count("POST /mailers ")
    return out, outer, posts


def _in_line(time_form: Any, first: Callable[[], Any]) -> tuple[Any, tuple[dict[str, Any], float]]:
    """Run first() (a slow request), and LINE_AFTER seconds later time_form('ada@', ...), which waits in line behind
    it (Work-It serves one request at a time); what first() gave (or raised), then the 'ada@' call's answer."""
    pool = ThreadPoolExecutor(max_workers=1)
    ahead = pool.submit(first)
    try:
        time.sleep(LINE_AFTER)
        try:
            behind: Any = _timed(time_form, MALFORMED, REFUSED_THOUGHT)
        except (Incorrect, NotAttempted) as exc:
            behind = exc
    finally:
        pool.shutdown(wait=True)
    value = ahead.result()  # what the call ahead raised comes first: it came first
    if isinstance(behind, Exception):
        raise behind
    return value, behind


def _emails_to(address: str) -> list[Any]:
    try:  # sent inline, the email is in the inbox before Work-It answers: a short wait covers a slow disk
        return inbox.wait_for(1, match=lambda m: address in m.to, timeout=1)
    except TimeoutError:
        return []


def _check_status(out: dict[str, Any], expected: int, what: str) -> None:
    status = out["status"]
    if isinstance(status, bool) or not isinstance(status, int):
        raise Incorrect(
            f"'status' is {describe(status)} for {what}; it should be the HTTP status Work-It answered, "
            f"a number such as {expected}: reply['status']."
        )
    if status != expected:
        raise Incorrect(
            f"Work-It answered HTTP {expected} for {what}, but 'status' says {status}: return the HTTP status "
            "Work-It answered, this very reply's, not a fixed number."
        )


def _check_seconds(out: dict[str, Any], outer: float, what: str) -> float:
    seconds = out["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise Incorrect(
            f"'seconds' is {describe(seconds)} for {what}; it should be the seconds the user waited, a number."
        )
    if outer > 0.5 and abs(seconds / 1000 - outer) <= 0.2 * outer:
        raise Incorrect(
            f"'seconds' is {seconds:.0f} for {what}, which took ⏱ {outer:.2f} s: that looks like milliseconds. "
            "Return the seconds the user waited, the plain difference of two time.perf_counter() readings."
        )
    if seconds > outer + SLACK:
        raise Incorrect(
            f"'seconds' is {seconds:.2f} for {what}, yet the whole call of time_form took ⏱ {outer:.2f} s: "
            "return the seconds the user waited, the difference of two clock readings, one just before the "
            "request and one once the answer is back."
        )
    if seconds < 0.8 * outer - SLACK:
        raise Incorrect(
            f"'seconds' is {seconds:.2f} for {what}, which kept its user waiting ⏱ {outer:.2f} s: read the clock "
            "just before the request and again once the answer is back."
        )
    return float(seconds)


def _check_background(out: dict[str, Any], seconds: float, what: str) -> None:
    verdict = out["background"]
    if not isinstance(verdict, bool):
        raise Incorrect(f"'background' is {describe(verdict)} for {what}; make it True or False.")
    if verdict != (seconds > TOO_SLOW):
        raise Incorrect(
            f"{what[0].upper() + what[1:]} took {seconds:.2f} s by your own clock, and 'background' says {verdict}: "
            f"it should be True when the user waited more than TOO_SLOW ({TOO_SLOW:g} second), else False "
            f"(seconds > TOO_SLOW), whatever the status."
        )
