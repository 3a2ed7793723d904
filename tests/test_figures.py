"""Plots say what they show: a figure with alt text is shown in IPython as an ``<img alt=...>`` of its PNG, and its
text form stays ``<Figure size ...>`` (nbval compares that)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from support.lessons import figures, timing  # noqa: E402
from support.lessons.scaling import Batch, plot_batches  # noqa: E402

SANITIZE = Path(__file__).resolve().parent / "sanitize.cfg"


def test_a_course_plot_is_an_image_with_alt_text_in_ipython() -> None:
    shell = InteractiveShell.instance()
    try:
        visits = [timing.Visit("ada@example.com", 0.0, 5.1, 200), timing.Visit("bob@example.com", 0.0, 10.2, 200)]
        fig = timing.plot_visits(visits)
        data, _metadata = shell.display_formatter.format(fig)
        assert data["text/plain"].startswith("<Figure size 700x")
        page = data["text/html"]
        assert re.fullmatch(
            r'<img alt="Three users, one server: a timeline with one bar per user[^"]*" '
            r'src="data:image/png;base64,[A-Za-z0-9+/=]+">',
            page,
        ), page[:200]
        plain = plt.figure()  # a figure without alt text is left as it was: image/png only
        assert "text/html" not in shell.display_formatter.format(plain)[0]
        plt.close("all")
    finally:
        InteractiveShell.clear_instance()


def test_every_course_plot_has_alt_text() -> None:
    before_after = timing.plot_before_after([5.0], [0.01, 0.02])
    batches = plot_batches([Batch(1, 20, 20.5, {}, []), Batch(4, 20, 5.4, {}, [])], predicted=[20, 5])
    for fig in (before_after, batches):
        alt = getattr(fig, figures.ALT, "")
        assert len(alt) > 40 and "." in alt, f"no alt text saying what the plot shows: {alt!r}"
    assert "dashed line" in getattr(batches, figures.ALT)
    plt.close("all")


def test_the_sanitizer_masks_the_png_data_only() -> None:
    rules = configparser.ConfigParser()
    rules.read(SANITIZE)
    page = '<img alt="A plot" src="data:image/png;base64,iVBORw0KGgo+/AAA=">'
    masked = re.sub(rules["png_data"]["regex"], rules["png_data"]["replace"], page)
    assert masked == '<img alt="A plot" src="data:image/png;base64,PNG">'
