"""The instructor's command line: ``python -m support up | status | worker | down | reset | doctor | progress``.

It only parses arguments and prints: what each command does lives in ``support.services.course`` (up, status,
down), ``support.rq_helpers.workers`` (worker), ``support.services.inbox`` and ``support.rq_helpers.queues`` (reset),
``support.services.doctor`` (doctor), ``support.progress`` (progress).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .rq_helpers import queues
from .services import course, inbox, links, processes, server_watch, state
from .services.processes import ServiceError


def cmd_up(args: argparse.Namespace) -> int:
    services = course.up(*course.SERVICES, delivery=args.delivery, delay=args.delay, quiet=True)
    server_watch.keep()  # started from a terminal: they stay until `down`, whatever Jupyter server ends
    print("The course's services are up:")
    for line in course.describe(
        services, delivery=args.delivery, delay=args.delay, browser=True, token=True
    ).splitlines():
        print(f"  {line}")
    print("Run a worker in another terminal:  python -m support worker")
    print("Stop everything:                   python -m support down")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    services = course.recorded()
    print(f"State folder: {state.home()}")
    if not services:
        print("Nothing is running. Start the services with:  python -m support up")
        return 0
    print(f"  {'service':<12} {'port':>6} {'pid':>8}  {'health':<8} url")
    for service in services:
        alive = service.alive()
        answers = alive and (service.port == 0 or processes.port_answers(service.port))
        health = "ok" if answers else ("no answer" if alive else "stopped")
        port = str(service.port) if service.port else "-"
        url = links.browser_url(service.port) if service.name in course.WEB and service.port else service.url
        print(f"  {service.name:<12} {port:>6} {service.pid:>8}  {health:<8} {url}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .rq_helpers.workers import recorded_while_running, run_worker  # rq's worker is slow to import

    try:
        with recorded_while_running():  # so that `python -m support down` stops it too
            run_worker(
                args.queues or queues.QUEUE_NAMES,
                burst=args.burst,
                simple=args.simple,
                with_scheduler=not args.no_scheduler,
                max_idle_time=args.max_idle_time,
                path=args.path,
                name=args.name,
                kind=args.kind,
                serializer=args.serializer,
            )
    except KeyboardInterrupt:
        pass
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .services import doctor

    return doctor.main()


def cmd_down(args: argparse.Namespace) -> int:
    stopped = course.down()
    print("Stopped: " + ", ".join(stopped) if stopped else "Nothing was running.")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print("reset empties the inbox and every queue; run it with --yes to confirm.", file=sys.stderr)
            return 1
        if input("Empty the inbox and all the queues? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    mails = inbox.clear()
    jobs = queues.empty_all()
    print(f"Removed {mails} email(s) from the inbox and {jobs} queued job(s).")
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from . import progress  # imports every check module: only for this command

    if args.export:
        learner, count = progress.export(args.export, args.learner)
        print(f"Wrote {count} rows for {learner} to {args.export} (nothing was sent anywhere).")
        return 0
    try:
        table = progress.report(args.notebook)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Kept in {progress.path()} on this machine only; nothing is sent anywhere.")
    print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m support", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start Redis, the mail catcher and the Work-It app, and print their URLs")
    up.add_argument("--delivery", choices=["inline", "background"], default="inline")
    up.add_argument("--delay", type=float, default=5.0, help="seconds the slow mailer takes (default 5)")
    up.set_defaults(func=cmd_up)

    sub.add_parser("status", help="show each service, its port, PID and health").set_defaults(func=cmd_status)

    worker = sub.add_parser("worker", help="run an RQ worker in the foreground (like `bundle exec sidekiq`)")
    worker.add_argument("queues", nargs="*", help=f"queues in priority order (default: {' '.join(queues.QUEUE_NAMES)})")
    worker.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    worker.add_argument("--simple", action="store_true", help="run jobs in the worker process (no fork)")
    worker.add_argument(
        "--class",
        dest="kind",
        choices=["fork", "spawn", "simple"],
        default=None,
        help="how to run each job: fork (Linux default), spawn (macOS default) or simple",
    )
    worker.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler (retries, enqueue_in)")
    worker.add_argument("--max-idle-time", type=int, default=None, help="quit after this many idle seconds")
    worker.add_argument("--path", default=None, help="folder to import job modules from (default: current)")
    worker.add_argument(
        "--serializer",
        choices=["pickle", "json"],
        default=None,
        help="how the jobs were stored (default: rq's, pickle); must match the app's queues",
    )
    worker.add_argument("--name", default=None, help=argparse.SUPPRESS)
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("down", help="stop everything the course started").set_defaults(func=cmd_down)

    sub.add_parser(
        "doctor",
        help="check this machine for the course: Python, platform, server, worker, ports, "
        "widgets; one line per problem saying what to do",
    ).set_defaults(func=cmd_doctor)

    reset = sub.add_parser("reset", help="empty the inbox and the queues")
    reset.add_argument("--yes", action="store_true", help="do not ask first")
    reset.set_defaults(func=cmd_reset)

    progress = sub.add_parser(
        "progress",
        help="your exercises per notebook: correct, tried, not attempted, used the "
        "reference, and hints taken (kept in the state folder only)",
    )
    progress.add_argument("notebook", nargs="?", default=None, help="only this notebook, e.g. 03_jobs")
    progress.add_argument("--export", metavar="FILE.csv", help="write one CSV row per exercise, to hand in")
    progress.add_argument(
        "--learner",
        metavar="NAME",
        help="the learner column of the export (default: a random id made once and kept in the state folder)",
    )
    progress.set_defaults(func=cmd_progress)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
