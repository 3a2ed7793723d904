"""How every benchmark script reports: one aligned line per figure, then all figures as one JSON object."""

from __future__ import annotations

import json
from typing import Any


def print_figures(figures: dict[str, Any]) -> None:
    """Print `figures` one per line (names aligned), then as one JSON object, the last line a script prints."""
    width = max(map(len, figures), default=0)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
