"""Sphinx's configuration of the course's website (``make site``; ``tools/site.py`` writes the sources it reads).

The notebooks are never executed here: their stored outputs are the pages (``nb_execution_mode = "off"``). Nothing is
fetched when the site is built or read: no widget JavaScript from a CDN (the course's widgets are shown as the
static HTML of their last state, see ``tools/site.py``), no MathJax, no web fonts from elsewhere.
"""

from __future__ import annotations

from html import escape
from typing import Any

project = "Background Jobs in Python"
author = "the course's authors"
copyright = "the course's authors, MIT licence"  # noqa: A001 - Sphinx's name
language = "en"

extensions = ["myst_nb"]
exclude_patterns: list[str] = []
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["course.css"]

# myst-nb: the notebooks as stored; no widget JavaScript (it would come from a CDN); outputs as the notebook has them.
nb_execution_mode = "off"
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_merge_streams = True
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # INSTRUCTOR.md's and the notebooks' headings start at a level-3 in places

html_theme = "sphinx_book_theme"
html_title = project
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_theme_options: dict[str, Any] = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
    "navigation_with_keys": True,
    "show_prev_next": True,
}
html_context = {"default_mode": "auto"}  # the reader's system decides light or dark; the switch in the header too


def _visit_fold(self: Any, node: Any) -> None:
    """myst-nb's fold (a <details>) without its ``aria-label="Toggle hidden content"`` on <summary>: the summary's
    own text ("Solution") is what a screen reader should say."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def _depart_fold(self: Any, node: Any) -> None:
    self.body.append("</details>\n")


def setup(app: Any) -> None:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(_visit_fold, _depart_fold))
