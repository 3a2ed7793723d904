"""rq-dashboard's page inside a notebook (an iframe) or as a link; both start the service when needed.
The page needs a browser that reaches the machine's local ports: on a remote Jupyter use the ``DashboardWidget``."""

from __future__ import annotations

import html
from typing import Any

from ..services import rq_dashboard


class DashboardFrame:
    """The dashboard page inside the notebook (an iframe); needs a browser that can reach the local port."""

    def __init__(self, src: str, height: int = 500) -> None:
        self.src = src
        self.height = height

    def _repr_html_(self) -> str:
        return (f'<iframe src="{html.escape(self.src, quote=True)}" width="100%" height="{self.height}" '
                f'title="The RQ dashboard" style="border:1px solid var(--jp-border-color1, #bdbdbd)"></iframe>')

    def __repr__(self) -> str:
        return "DashboardFrame(the rq-dashboard page)"  # nbval compares this text: no port in it


def embed(height: int = 500) -> DashboardFrame:
    """rq-dashboard inside the notebook (starts it if needed). On a remote Jupyter use ``DashboardWidget``."""
    return DashboardFrame(rq_dashboard.url(), height)


def link() -> Any:
    """A link that opens rq-dashboard in a new browser tab (starts it if needed)."""
    from IPython.display import HTML

    where = html.escape(rq_dashboard.url(), quote=True)
    return HTML(f'<a href="{where}" target="_blank" rel="noopener">Open the RQ dashboard ({where})</a>')
