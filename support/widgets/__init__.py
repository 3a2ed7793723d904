"""Notebook widgets: live views whose values a daemon thread sets (``live.Poller``), never printing into a cell.

``form_widget`` (the Work-It form), ``inbox_widget`` (the inbox), ``dashboard_widget`` (queues, workers, failed
jobs with Requeue/Delete), ``dashboard_page`` (rq-dashboard's page in an iframe or a link), ``log_view`` (a
scrolling log) and ``worker_kernel`` (an RQ worker in a second Jupyter kernel, its log in a ``LogView``).
Every widget has a fixed ``__repr__``: nbval compares it.

Imports: ``support.services`` and ``support.rq_helpers``; never a lesson module or a check.
"""
