"""The instructor's command line: ``python -m support up | status | worker | down | reset``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import processes, queues, state
from .processes import ServiceError


def _services_in_start_order() -> list[str]:
    return ["redis", "catcher", "app", "dashboard"]


def cmd_up(args: argparse.Namespace) -> int:
    from . import app, dashboard, mailcatcher, redis_server

    redis = redis_server.start()
    catcher = mailcatcher.start()
    web = app.start(delivery=args.delivery, delay=args.delay)
    rows = [("Redis", redis.url), ("Mail catcher (SMTP)", f"smtp://{processes.HOST}:{catcher.port}"),
            ("Work-It app", f"{web.url}  (delivery: {args.delivery}, delay {args.delay:g} s)")]
    rows.append(("RQ dashboard", dashboard.start().url))
    width = max(len(r[0]) for r in rows)
    print("The course's services are up:")
    for label, where in rows:
        print(f"  {label:<{width}}  {where}")
    print("Run a worker in another terminal:  python -m support worker")
    print("Stop everything:                   python -m support down")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    entries = state.read()
    services = _services_in_start_order()
    names = [n for n in services if n in entries]
    names += sorted(n for n in entries if n not in services)  # workers, and workers in a second kernel
    print(f"State folder: {state.home()}")
    if not names:
        print("Nothing is running. Start the services with:  python -m support up")
        return 0
    print(f"  {'service':<12} {'port':>6} {'pid':>8}  {'health':<8} url")
    for name in names:
        service = processes.Service.from_entry(name, entries[name])
        assert service is not None
        alive = service.alive()
        answers = alive and (service.port == 0 or processes.port_answers(service.port))
        health = "ok" if answers else ("no answer" if alive else "stopped")
        port = str(service.port) if service.port else "-"
        print(f"  {name:<12} {port:>6} {service.pid:>8}  {health:<8} {service.url}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from .workers import run_worker

    try:
        run_worker(args.queues or queues.QUEUE_NAMES, burst=args.burst, simple=args.simple,
                   with_scheduler=not args.no_scheduler, max_idle_time=args.max_idle_time, path=args.path,
                   name=args.name)
    except KeyboardInterrupt:
        pass
    return 0


def stop_everything() -> list[str]:
    """Stop every process the course started (workers first, Redis last); returns the names stopped."""
    stopped = []
    with state.locked():
        names = list(state.read())
        order = _services_in_start_order()
        names.sort(key=lambda n: -order.index(n) if n in order else -100)  # workers and kernels, then app...redis
        for name in names:
            if processes.stop(name):
                stopped.append(name)
    return stopped


def cmd_down(args: argparse.Namespace) -> int:
    stopped = stop_everything()
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
    from . import inbox

    mails = inbox.clear()
    jobs = queues.empty_all()
    print(f"Removed {mails} email(s) from the inbox and {jobs} queued job(s).")
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
    worker.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler (retries, enqueue_in)")
    worker.add_argument("--max-idle-time", type=int, default=None, help="quit after this many idle seconds")
    worker.add_argument("--path", default=None, help="folder to import job modules from (default: current)")
    worker.add_argument("--name", default=None, help=argparse.SUPPRESS)
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("down", help="stop everything the course started").set_defaults(func=cmd_down)

    reset = sub.add_parser("reset", help="empty the inbox and the queues")
    reset.add_argument("--yes", action="store_true", help="do not ask first")
    reset.set_defaults(func=cmd_reset)
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
