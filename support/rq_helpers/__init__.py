"""Helpers around RQ on the course's Redis, for any notebook: the named queues, workers (foreground and background),
waiting on jobs, a snapshot of the queues, acting on failed jobs, ``rq info``, a worker log fit for a notebook, and
getting abandoned jobs back.

Imports: ``support.services`` only (for Redis and the service records). Nothing here knows a notebook or a widget.
"""
