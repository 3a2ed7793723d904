"""The course's services: its own processes, where they run, and the data they keep.

What belongs here: the state folder (``state``), starting, finding and stopping processes (``processes``,
``ports``), each service (``redis_server``, ``mailcatcher`` with the ``maildir`` it fills, the Work-It ``app``,
``rq_dashboard``), reading caught mail (``inbox``), and all of them at once (``course``: up, describe, down); what
this machine needs for them (``platforms``, ``python_version``, ``doctor``).

Imports: nothing else of ``support`` (this is the bottom layer); modules here import each other without cycles.
A service that runs code of an upper layer starts it as a process by module name (``python -m support.workit.web``),
never by importing it.
"""
