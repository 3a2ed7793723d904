"""``support.dashboard``: everything notebooks 04 and 05 call ``dashboard.…``, gathered under one short name.

The code lives by kind; this module only re-exports it:

- rq-dashboard as a course service (``start``, ``stop``, ``status``, ``url``): ``support/services/rq_dashboard.py``
- its page in the notebook (``embed``, ``link``; mounted in Work-It at /rq: ``embed_in_workit``,
  ``link_in_workit``): ``support/widgets/dashboard_page.py``
- ``rq info``: ``support/rq_helpers/rq_info.py``
- the plain data (``snapshot``, ``counts_table``, ``failed_table``): ``support/rq_helpers/snapshot.py``
- Requeue / Delete (``requeue_failed``, ``delete_failed``, ``requeue_all_failed``):
``support/rq_helpers/failed_jobs.py``
- the live widget (``DashboardWidget``, ``show_dashboard``): ``support/widgets/dashboard_widget.py``
"""

from .rq_helpers.failed_jobs import delete_failed, requeue_all_failed, requeue_failed
from .rq_helpers.rq_info import rq_info
from .rq_helpers.snapshot import COLUMNS, counts_table, failed_table, snapshot
from .services.rq_dashboard import INSTALL_HELP, NAME, PREFERRED_PORT, start, status, stop, url
from .widgets.dashboard_page import DashboardFrame, embed, embed_in_workit, link, link_in_workit
from .widgets.dashboard_widget import POLL_SECONDS, DashboardWidget, show_dashboard

__all__ = [
    "COLUMNS",
    "INSTALL_HELP",
    "NAME",
    "POLL_SECONDS",
    "PREFERRED_PORT",
    "DashboardFrame",
    "DashboardWidget",
    "counts_table",
    "delete_failed",
    "embed",
    "embed_in_workit",
    "failed_table",
    "link",
    "link_in_workit",
    "requeue_all_failed",
    "requeue_failed",
    "rq_info",
    "show_dashboard",
    "snapshot",
    "start",
    "status",
    "stop",
    "url",
]
