"""A queue made by hand from one Redis list: the consumer program of ``02_redis``.

A producer puts work on the left end of a list (``LPUSH``); a consumer in another process takes it from the right
end (``BRPOP``), so the oldest item comes out first. ``BRPOP`` blocks: with nothing to do, the consumer waits inside
Redis until an item arrives. That is all a job queue is underneath; RQ adds job records and bookkeeping on top.

Run the consumer as a process of its own::

    python -m support.tiny_queue redis://127.0.0.1:6379/0 tiny:queue 3

Give it the course's Redis by its address, without the password (anyone on the machine can read a command line):
it finds the password in the course's state folder. It takes 3 items from the list ``tiny:queue`` and prints one line
per item, then exits. It gives up (and says so)
after ``--patience`` seconds without work, so a consumer nobody feeds never lingers.
"""

from __future__ import annotations

import argparse
import sys
import time

import redis

PATIENCE = 30.0  # seconds a consumer waits for one item before it gives up


def consume(r: redis.Redis, key: str, count: int, patience: float = PATIENCE) -> list[str]:
    """Take `count` items off the right end of the list `key`, waiting for each one; print and return them."""
    taken = []
    for _ in range(count):
        started = time.perf_counter()
        popped = r.brpop(key, timeout=patience)  # blocks inside Redis until an item is there
        if popped is None:
            print(f"gave up: nothing arrived on {key} for {patience:g} s", flush=True)
            break
        _list_name, item = popped
        item = item.decode() if isinstance(item, bytes) else item  # a client made without decode_responses=True
        print(f"took {item!r} after waiting ⏱ {time.perf_counter() - started:.2f} s", flush=True)
        taken.append(item)
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tiny_queue", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the Redis server, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("key", help="the list to take items from")
    parser.add_argument("count", type=int, help="how many items to take, then exit")
    parser.add_argument(
        "--patience",
        type=float,
        default=PATIENCE,
        help=f"seconds to wait for one item before giving up (default {PATIENCE:g})",
    )
    args = parser.parse_args(argv)
    # socket_timeout: longer than the wait, or the client would give up on a BRPOP that Redis still holds
    from .services import redis_server  # not at the top: `consume` is shown in 02, and needs none of the course

    r = redis.Redis.from_url(
        redis_server.authenticated(args.url), decode_responses=True, socket_timeout=args.patience + 5
    )
    print(f"consumer ready, waiting for {args.count} items on {args.key}", flush=True)
    taken = consume(r, args.key, args.count, args.patience)
    return 0 if len(taken) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
