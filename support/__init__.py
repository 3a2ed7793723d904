"""Support code for the course "Background Jobs in Python".

One concern per module: ``state`` (the state folder), ``processes`` (starting and stopping the course's own
processes), ``redis_server``, ``mailcatcher`` and ``inbox`` (the local mail catcher), ``mailer``, ``app`` (the
Work-It app), ``queues``, ``jobs``, ``workers``, ``exercises`` (the checks), and the notebook widgets.
"""

__version__ = "0.1.0"
