"""Work-It, the course's web app: a form takes an email address and a thought, and a GIF email goes out.

It runs as a process of its own (``python -m support.workit.web --port N --delivery inline|background --delay 5``,
started by ``support.services.app``) that
serves ONE request at a time, on purpose (``flask run`` and Rails' Puma use threads): while one user waits for the
slow mailer, every other user waits in line behind them, which a threaded server only postpones.

- ``inline`` delivery calls the slow mailer inside the request (the Rails lesson's ``deliver_now``): the page hangs.
- ``background`` delivery puts a job on the ``mailers`` queue (``perform_later``) and answers at once.
- the export (notebook 08, ``support.workit.exports``) queues a slow job in any delivery mode; its page polls
  the job's status and shows its progress, result or failure.
- ``controller`` delivery hands the submission to the learner's controller file (``support.workit.controller``):
  whatever its ``create(email, thought)`` does, inline or ``perform_later``, is what the app does.
- the learner's routes file (``support.workit.routes_loader``, notebook 04) adds what its ``draw(app)`` registers,
  such as rq-dashboard's blueprint at ``/rq``; ``app.config["REDIS_URL"]`` is the course's Redis (with its
  password) when it runs, for the routes to point rq-dashboard at.

Its pages use relative links only, and it runs behind ``support.services.guard`` (the learner's token; Jupyter's
proxy prefix), so it works at ``http://127.0.0.1:PORT/`` and at ``{base_url}proxy/127.0.0.1:PORT/`` alike.

From a notebook, start and ask it through ``support.services.app`` (``support/services/app.py``).
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from ..services import guard, processes
from ..services.app import DELIVERIES, PREFERRED_PORT
from ..services.ports import HOST
from . import controller as controllers
from . import exports, mailer, routes_loader
from .validation import MAX_THOUGHT, ValidationError, validate

QUEUE = "mailers"
JOB = "support.jobs.send_gif_email"  # the job the background mode queues, by its import path

if TYPE_CHECKING:
    from flask import Flask, Response
    from rq import Queue

# Flask is imported where the app is built, not here: a notebook imports this module only to start, stop and ask
# the app's process, and should not pay for Flask at kernel start-up.

log = logging.getLogger("work-it")


# --- pages -----------------------------------------------------------------------------------------------------

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Work-It</title>
<style>
  /* A page of its own (not inside JupyterLab): a fixed light scheme; every text colour passes 4.5:1 on white. */
  html {{ color-scheme: light; background: #fff; }}
  body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #223;
          background: #fff; }}
  h1 {{ color: #8c50c8; }}
  label {{ display: block; margin: 1rem 0 0.3rem; font-weight: 600; }}
  input, textarea {{ width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; }}
  button:focus-visible, input:focus-visible, textarea:focus-visible {{ outline: 3px solid #223; outline-offset: 2px; }}
  button {{ margin-top: 1rem; padding: 0.6rem 1.4rem; font: inherit; background: #8c50c8; color: white;
            border: 0; border-radius: 4px; cursor: pointer; }}
  .error {{ color: #b00020; }}
  footer {{ margin-top: 2rem; color: #556; font-size: 0.85rem; }}
</style>
</head>
<body>
<h1>Work-It</h1>
{body}
<footer>Delivery: {delivery}, the mailer takes {delay:g} s.</footer>
</body>
</html>
"""

_FORM = f"""\
<p>Tell us what you are thinking, and we will email you a GIF about it.</p>
<form method="post" action="mailers">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" required placeholder="you@example.com">
  <label for="thought">Thought</label>
  <textarea id="thought" name="thought" rows="4" required maxlength="{MAX_THOUGHT}"
            placeholder="I could really use a coffee"></textarea>
  <button type="submit">Send me a GIF</button>
</form>
"""


def _page(body: str, delivery: str, delay: float, status: int = 200) -> Response:
    from flask import Response

    return Response(
        _PAGE.format(body=body, delivery=html.escape(delivery), delay=delay), status=status, mimetype="text/html"
    )


def _wants_json() -> bool:
    from flask import request

    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


# --- the app -----------------------------------------------------------------------------------------------------


class QueueUnavailable(RuntimeError):
    """The job could not be queued: Redis did not answer."""


class _Enqueuer:
    """Puts mail jobs on the ``mailers`` queue; one Redis connection and Queue per process, made on first use.

    It finds the course's Redis through the state file and never starts one: the app's parent (``start()``) holds
    the course-wide lock while the app boots, and a Redis that is down is an error to show, not to hide.
    """

    def __init__(self) -> None:
        self._queue: Queue | None = None

    def queue(self) -> Queue:
        if self._queue is None:
            import redis

            from ..rq_helpers import queues  # imported here: rq is only needed in background mode
            from ..services import redis_server

            service = redis_server.status()
            if service is None:
                raise QueueUnavailable("the course's Redis is not running. Start it with redis_server.start().")
            self._queue = queues.queue(QUEUE, redis.Redis.from_url(redis_server.client_url(service)))
        return self._queue

    def enqueue(self, email: str, thought: str, delay: float) -> str:
        """Queue the job; returns its id. A second try with a fresh lookup covers a Redis restarted elsewhere."""
        import redis

        for attempt in (1, 2):
            try:
                return self.queue().enqueue(JOB, email, thought, delay).id
            except (redis.RedisError, processes.ServiceError, OSError) as exc:
                self._queue = None  # Redis went away or moved: look it up again
                if attempt == 2:
                    raise QueueUnavailable(
                        f"Redis did not answer ({exc}). Is it running? Start it with redis_server.start()."
                    ) from exc
        raise AssertionError("unreachable")


def create_app(delivery: str = "inline", delay: float = 5.0, controller: str | None = None) -> Flask:
    """The Work-It Flask app, sending `inline` (slow, in the request), in the `background` (queued), or as the
    `controller` file says (its path in `controller`)."""
    from flask import Flask, g, jsonify, request

    if delivery not in DELIVERIES:
        raise ValueError(f"delivery must be one of {', '.join(DELIVERIES)}, not {delivery!r}")
    if (delivery == "controller") != bool(controller):
        raise ValueError("a controller file goes with delivery='controller', and only with it")
    delay = float(delay)
    app = Flask("work-it")
    app.config["REDIS_URL"] = routes_loader.course_redis_url()  # for the routes file
    enqueuer = _Enqueuer()
    app.extensions["work-it-enqueuer"] = enqueuer

    def answer(status: int, message: str, job_id: str | None = None) -> Response:
        ok = status < 400
        if _wants_json():
            data: dict[str, Any] = (
                {"ok": True, "delivery": delivery, "job_id": job_id, "message": message}
                if ok
                else {"ok": False, "error": message}
            )
            response = jsonify(data)
            response.status_code = status
            return response
        if ok:
            body = f"<h2>Thanks! Check your email</h2>\n<p>{html.escape(message)}</p>\n"
        else:
            body = f'<h2>Sorry, that did not work</h2>\n<p class="error">{html.escape(message)}</p>\n'
        return _page(body + '<p><a href="./">Send another thought</a></p>\n', delivery, delay, status)

    @app.before_request
    def _clock() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _log_line(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("t0", time.perf_counter())
        log.info("%s %s %s %.3fs", request.method, request.path, response.status_code, seconds)
        return response

    @app.get("/")
    def form() -> Response:
        return _page(_FORM, delivery, delay)

    @app.get("/health")
    def health() -> Response:
        from flask import current_app

        return jsonify(
            {
                "ok": True,
                "app": "work-it",
                "delivery": delivery,
                "delay": delay,
                "controller": controller or "",
                "routes_file": current_app.config.get(routes_loader.FILE_KEY, ""),
                "routes_error": current_app.config.get(routes_loader.ERROR_KEY, ""),
                "blueprints": routes_loader.mounts(current_app),
            }
        )

    @app.post("/mailers")
    def mailers() -> Response:
        try:
            email, thought = validate(request.form.get("email"), request.form.get("thought"))
        except ValidationError as exc:
            return answer(400, str(exc))
        if controller is not None:  # delivery == "controller" (create_app checked they go together)
            try:
                job_id = controllers.queued_job_id(controllers.create(controller, email, thought))
            except controllers.ControllerError as exc:
                return answer(500, str(exc))
            if job_id is None:
                return answer(200, f"We sent a GIF about your thought to {email}.")
            return answer(200, f"Your GIF is on its way to {email}: a worker will send it shortly.", job_id)
        if delivery == "inline":
            try:
                mailer.deliver(email, thought, delay)
            except (ConnectionError, OSError) as exc:
                return answer(502, f"Could not send the email: {exc}")
            return answer(200, f"We sent a GIF about your thought to {email}.")
        try:
            job_id = enqueuer.enqueue(email, thought, delay)
        except QueueUnavailable as exc:
            return answer(503, f"Could not queue the email: {exc}")
        return answer(200, f"Your GIF is on its way to {email}: a worker will send it shortly.", job_id)

    exports.register(
        app, lambda: enqueuer.queue().connection, lambda body, status=200: _page(body, delivery, delay, status)
    )  # notebook 08's export
    return app


# --- the server process ----------------------------------------------------------------------------------------


def serve(port: int, delivery: str, delay: float, controller: str | None = None) -> None:
    """Serve the app on 127.0.0.1:`port`, one request at a time, until killed."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class OneLineHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # the app logs one line per request itself, with its duration

    os.environ["WORKIT_DELAY"] = repr(delay)  # the mailer's delay when a controller calls deliver() without one
    routed = routes_loader.RoutedApp(lambda: create_app(delivery, delay, controller))  # + the learner's routes
    app = routed.current()
    if delivery == "background":  # connect now, so that the first POST is as fast as the others
        try:
            app.extensions["work-it-enqueuer"].queue().connection.ping()
        except Exception as exc:  # noqa: BLE001 -- not fatal: each POST will say what is wrong
            log.warning("Redis is not reachable yet: %s", exc)
    server = make_server(HOST, port, guard.protect(routed), threaded=False, processes=1, request_handler=OneLineHandler)
    log.info("Work-It listening on http://%s:%d (delivery: %s, delay %g s)", HOST, port, delivery, delay)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.workit.web", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=PREFERRED_PORT)
    parser.add_argument("--delivery", choices=DELIVERIES, default="inline")
    parser.add_argument("--delay", type=float, default=5.0)
    parser.add_argument("--controller", default=None, help="the controller file (with --delivery controller)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        serve(args.port, args.delivery, args.delay, args.controller)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
