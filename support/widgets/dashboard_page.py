"""rq-dashboard's page inside a notebook (an iframe) or as a link; both start the service when needed.
Under a Jupyter server both go through Jupyter's own address (jupyter-server-proxy), so they work on JupyterHub,
Binder and Codespaces too; elsewhere they point at 127.0.0.1. Both carry the learner's token
(``support.services.links``).

``link_in_workit`` and ``embed_in_workit`` do the same for rq-dashboard mounted inside Work-It at ``/rq`` (notebook 04's
Exercise 1): the addresses are Work-It's."""

from __future__ import annotations

import html
from typing import Any

from ..services import app, links, rq_dashboard


class DashboardFrame:
    """The dashboard page inside the notebook (an iframe)."""

    def __init__(self, src: str, height: int = 500) -> None:
        self.src = src
        self.height = height

    def _repr_html_(self) -> str:
        return (
            f'<iframe src="{html.escape(self.src, quote=True)}" width="100%" height="{self.height}" '
            f'title="The RQ dashboard" style="border:1px solid var(--jp-border-color1, #bdbdbd)"></iframe>'
        )

    def __repr__(self) -> str:
        return "DashboardFrame(the rq-dashboard page)"  # nbval compares this text: no port in it


def embed(height: int = 500) -> DashboardFrame:
    """rq-dashboard inside the notebook (starts it if needed)."""
    return DashboardFrame(rq_dashboard.browser_url(), height)


def link() -> Any:
    """A link that opens rq-dashboard in a new browser tab (starts it if needed)."""
    from IPython.display import HTML

    where = rq_dashboard.browser_url()
    shown = html.escape(where.split("?")[0])  # the address without the token
    return HTML(
        f'<a href="{html.escape(where, quote=True)}" target="_blank" rel="noopener">Open the RQ dashboard ({shown})</a>'
    )


def _workit_url(path: str) -> str:
    service = app.status() or app.start(delivery="background")
    return links.browser_url(service.port, path)


def link_in_workit(path: str = "/rq/") -> Any:
    """A link that opens `path` of Work-It (rq-dashboard, once mounted at /rq) in a new browser tab."""
    from IPython.display import HTML

    where = _workit_url(path)
    shown = html.escape(where.split("?")[0])
    return HTML(
        f'<a href="{html.escape(where, quote=True)}" target="_blank" rel="noopener">Open rq-dashboard inside Work-It '
        f"({shown})</a>"
    )


def embed_in_workit(path: str = "/rq/", height: int = 500) -> DashboardFrame:
    """`path` of Work-It (rq-dashboard, once mounted at /rq) inside the notebook."""
    return DashboardFrame(_workit_url(path), height)
