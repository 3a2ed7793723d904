"""rq-dashboard's process, as the course runs it: ``python -m support.services.dashboard_server --port N``.

rq-dashboard's own Flask app, with the course's guard in front (``support.services.guard``: the learner's token,
and Jupyter's proxy prefix). The Redis URL comes in the environment variable ``COURSE_DASHBOARD_REDIS_URL``, not on
the command line: every user on the machine can read a process's command line, and the URL may carry a password.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .ports import HOST

REDIS_URL_ENV = "COURSE_DASHBOARD_REDIS_URL"


def create_app(redis_url: str, poll_ms: int = 1000):  # noqa: ANN201 -- a Flask app (Flask imported lazily)
    """rq-dashboard's Flask app reading `redis_url`, its page refreshing every `poll_ms` milliseconds."""
    from rq_dashboard.cli import make_flask_app
    from rq_dashboard.web import setup_rq_connection

    app = make_flask_app(None, None, None, "")
    app.config["RQ_DASHBOARD_REDIS_URL"] = redis_url
    app.config["RQ_DASHBOARD_POLL_INTERVAL"] = poll_ms
    app.config["DEPRECATED_OPTIONS"] = []
    setup_rq_connection(app)
    return app


def main(argv: list[str] | None = None) -> int:
    from werkzeug.serving import make_server

    from . import guard

    parser = argparse.ArgumentParser(prog="python -m support.services.dashboard_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--poll-interval", type=int, default=1000, help="the page's refresh, in milliseconds")
    args = parser.parse_args(argv)
    redis_url = os.environ.get(REDIS_URL_ENV)
    if not redis_url:
        print(f"{REDIS_URL_ENV} is not set: the dashboard does not know which Redis to show.", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING)
    server = make_server(HOST, args.port, guard.protect(create_app(redis_url, args.poll_interval)), threaded=True)
    print(f"rq-dashboard listening on http://{HOST}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
