"""Work-It's "export my thoughts" (notebook 08): a slow action answered at once with a job id and a status URL.

Routes (relative links only, so they work behind Jupyter's proxy; ``support.services.guard`` checks the token):

- ``GET exports``: the form; ``POST exports`` queues ``support.export_jobs.export_thoughts`` on ``default`` and
  answers JSON ``{"job_id", "status_url", "page_url"}`` (or, from a browser form, a 303 to the page);
- ``GET exports/<id>/status``: JSON from ``export_status.status_of`` (404 with ``state: expired`` for an unknown id);
- ``GET exports/<id>/``: the page: a ``<progress>`` bar that polls ``status`` every ``POLL_MS`` ms, then the
  result, or the failure message;
- ``GET exports/<id>/events``: the same answers pushed as Server-Sent Events (each with ``sent_at``, the app's
  clock when it sent it), for the comparison in ``benchmarks/results_page.py``. The page does not use it: Work-It
  serves one request at a time, so an open stream blocks every other user until it closes. The stream says
  ``X-Accel-Buffering: no``, which tells an nginx in front not to buffer it; jupyter-server-proxy 4.6.0 streams it
  when the request says ``Accept: text/event-stream``, as a browser's ``EventSource`` does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import export_status

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

JOB = "support.export_jobs.export_thoughts"  # by import path: the app never imports the job module itself
QUEUE = "default"
POLL_MS = 500  # how often the page asks for the status
MAX_TEXT = 20_000  # characters of thoughts per export
LIMITS = {"steps": (1, 50), "step_delay": (0.0, 5.0)}
RESULT_TTL = 600  # seconds a finished export stays fetchable
FAILURE_TTL = 3600  # seconds a failed one does

_FORM = f"""\
<h2>Export my thoughts</h2>
<form method="post" action="exports">
  <label for="thoughts">Thoughts, one a line</label>
  <textarea id="thoughts" name="thoughts" rows="5" required maxlength="{MAX_TEXT}"></textarea>
  <button type="submit">Export my thoughts</button>
</form>
"""

_STATUS_PAGE = """\
<h2>Your export</h2>
<label for="bar">Progress</label>
<progress id="bar" max="100" value="0" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"
          style="width: 100%; height: 1.5rem"></progress>
<p id="state" role="status" aria-live="polite">Waiting for a worker...</p>
<pre id="result" tabindex="0" hidden
     style="white-space: pre-wrap; border: 1px solid currentColor; padding: 0.5rem"></pre>
<p id="error" class="error" role="alert" hidden></p>
<p id="polls">Status requests so far: 0</p>
<p><a href="../../exports">Export more thoughts</a></p>
<script>
(() => {{
  const POLL_MS = {poll_ms};
  const bar = document.getElementById("bar"), state = document.getElementById("state");
  const result = document.getElementById("result"), error = document.getElementById("error");
  const polls = document.getElementById("polls");
  let asked = 0;
  function show(s) {{
    const pct = s.percent == null ? 0 : s.percent;
    bar.value = pct; bar.setAttribute("aria-valuenow", String(pct));
    state.textContent = s.state === "started" ? `Working: ${{pct}} %` : `State: ${{s.state}}`;
    if (s.state === "finished") {{
      bar.value = 100; bar.setAttribute("aria-valuenow", "100");
      result.textContent = s.result && s.result.text !== undefined ? s.result.text : JSON.stringify(s.result);
      result.hidden = false;
    }}
    if (s.error) {{ error.textContent = s.error; error.hidden = false; }}
  }}
  async function poll() {{
    let s;
    try {{
      const r = await fetch("status", {{headers: {{Accept: "application/json"}}, credentials: "same-origin"}});
      s = await r.json();
    }} catch (e) {{
      s = {{state: "unreachable", error: "The app did not answer; trying again."}};
    }}
    asked += 1; polls.textContent = `Status requests so far: ${{asked}}`;
    show(s);
    if (!["finished", "failed", "stopped", "canceled", "expired"].includes(s.state)) setTimeout(poll, POLL_MS);
    else document.body.dataset.done = s.state;
  }}
  poll();
}})();
</script>
"""


class BadExport(ValueError):
    """The form's fields do not make an export."""


def _number(form: Any, name: str, default: float, kind: type = float) -> Any:
    raw = form.get(name)
    if raw in (None, ""):
        return default
    low, high = LIMITS[name]
    try:
        value = kind(raw)
    except ValueError:
        raise BadExport(f"{name} must be a number from {low:g} to {high:g}, not {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadExport(f"{name} must be from {low:g} to {high:g}, not {value:g}")
    return value


def parse(form: Any) -> dict[str, Any]:
    """The export's arguments from the form: ``thoughts`` (lines), optional steps, step_delay, fail_at, hold_at."""
    text = (form.get("thoughts") or "").strip()
    if not text:
        raise BadExport("Write at least one thought to export")
    if len(text) > MAX_TEXT:
        raise BadExport(f"That is {len(text)} characters; an export takes at most {MAX_TEXT}")
    args: dict[str, Any] = {
        "thoughts": [line.strip() for line in text.splitlines() if line.strip()],
        "steps": _number(form, "steps", 5, int),
        "step_delay": _number(form, "step_delay", 0.2),
    }
    for name in ("fail_at", "hold_at"):
        if form.get(name):
            try:
                args[name] = int(form[name])
            except ValueError:
                raise BadExport(f"{name} must be a step number") from None
    return args


def register(app: Flask, connection: Callable[[], Any], page: Callable[..., Response]) -> None:
    """Add the export routes to `app`; `connection()` gives the course's Redis, `page(body, status=...)` a page."""
    from flask import jsonify, redirect, request
    from markupsafe import escape
    from rq import Queue

    def wants_json() -> bool:
        return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"

    @app.get("/exports")
    def export_form() -> Response:
        return page(_FORM)

    @app.post("/exports")
    def export_start() -> ResponseReturnValue:
        try:
            args = parse(request.form)
        except BadExport as exc:
            if wants_json():
                return jsonify({"ok": False, "error": str(exc)}), 400
            return page(f'<p class="error">{escape(str(exc))}</p><p><a href="exports">Try again</a></p>', status=400)
        try:
            job = Queue(QUEUE, connection=connection()).enqueue(
                JOB, kwargs=args, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL
            )
        except Exception as exc:  # noqa: BLE001 -- Redis is down or moved: say so, as the mail form does
            return jsonify({"ok": False, "error": f"Could not queue the export: {exc}"}), 503
        page_url = f"exports/{job.id}/"
        links = {"ok": True, "job_id": job.id, "status_url": f"exports/{job.id}/status", "page_url": page_url}
        return jsonify(links) if wants_json() else redirect(page_url, code=303)

    @app.get("/exports/<job_id>/status")
    def export_state(job_id: str) -> ResponseReturnValue:
        try:
            answer = export_status.status_of(export_status.fetch(job_id, connection()))
        except Exception as exc:  # noqa: BLE001 -- Redis is down: a clear answer, not a 500
            return jsonify(
                {"state": "unreachable", "percent": None, "result": None, "error": f"Could not ask Redis: {exc}"}
            ), 503
        response = jsonify(answer)
        response.status_code = 404 if answer["state"] == "expired" else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/exports/<job_id>/")
    def export_page(job_id: str) -> Response:
        return page(_STATUS_PAGE.format(poll_ms=POLL_MS))

    @app.get("/exports/<job_id>/events")
    def export_events(job_id: str) -> Response:
        from flask import Response

        def stream() -> Iterator[str]:
            while True:
                answer = export_status.status_of(export_status.fetch(job_id, connection()))
                yield f"data: {json.dumps({**answer, 'sent_at': time.time()})}\n\n"
                if export_status.finished(answer):
                    return
                time.sleep(POLL_MS / 1000)  # the server still asks Redis this often; only the client stops asking

        return Response(
            stream(), mimetype="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
