"""Colours in support/'s HTML and CSS come from JupyterLab's theme variables, so every widget and result box reads in
the light and the dark theme. A hard-coded colour (hex, rgb()/hsl(), a named colour) is allowed only as the fallback
inside ``var(--jp-…, fallback)``, or in the short list below: documents that are not part of JupyterLab's page and
keep a fixed white background of their own (a caught mail in its frame, the Work-It page), whose text colours are
checked here to pass 4.5:1 on white."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from matplotlib.colors import CSS4_COLORS, to_rgb

SUPPORT = Path(__file__).resolve().parent.parent / "support"

# (module, colour) -> why it may be hard-coded. Nothing else may be.
ALLOWED = {
    ("widgets/inbox_widget.py", "#fff"): "the mail frame's own white background",
    ("workit/mailer.py", "#fff"): "the mail's own white background",
    ("workit/mailer.py", "#223"): "the mail's text, on its white background",
    ("workit/mailer.py", "#8c50c8"): "the quote's border in the mail",
    ("workit/mailer.py", "#667"): "the mail's signature, on its white background",
    ("workit/web.py", "#fff"): "the Work-It page's own white background (a page of its own, not JupyterLab's)",
    ("workit/web.py", "#223"): "the Work-It page's text and focus outline",
    ("workit/web.py", "#8c50c8"): "the Work-It heading and button",
    ("workit/web.py", "white"): "the Work-It button's text, on #8c50c8",
    ("workit/web.py", "#b00020"): "the Work-It page's error text",
    ("workit/web.py", "#556"): "the Work-It page's footer",
}
# Text colour on background, for the allowed colours that are text: each must pass WCAG AA (4.5:1).
TEXT_PAIRS = [
    ("#223", "#fff"),
    ("#667", "#fff"),
    ("#8c50c8", "#fff"),
    ("white", "#8c50c8"),
    ("#b00020", "#fff"),
    ("#556", "#fff"),
]

COLOUR_PROPERTIES = re.compile(
    r"^(color|background(-color)?|border(-[a-z]+)*|outline(-color)?|box-shadow|fill|"
    r"stroke|text-decoration(-color)?|caret-color|accent-color)$"
)
DECLARATION = re.compile(r"([a-z-]+)\s*:\s*([^;\"'{}]+)")
HEX = re.compile(r"(?<![&\w])#[0-9a-fA-F]{3,8}\b")
FUNCTION = re.compile(r"\b(rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(")
NAMED = re.compile(r"\b(" + "|".join(sorted(CSS4_COLORS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def strip_theme_variables(value: str) -> str:
    """`value` without its ``var(--jp-…)`` parts (fallback included): what is left is hard-coded."""
    while (start := value.find("var(--jp-")) >= 0:
        depth, end = 0, start
        for end in range(start + 3, len(value)):
            depth += {"(": 1, ")": -1}.get(value[end], 0)
            if depth == 0:
                break
        value = value[:start] + value[end + 1 :]
    return value


def colours_in(text: str) -> list[str]:
    """The hard-coded colours in the CSS declarations of `text` (an HTML or CSS string, or a piece of one)."""
    found = []
    for prop, value in DECLARATION.findall(text):
        if not COLOUR_PROPERTIES.match(prop):
            continue
        rest = strip_theme_variables(value)
        found += HEX.findall(rest) + [m.group(0) for m in FUNCTION.finditer(rest)] + NAMED.findall(rest)
    return found


def string_pieces(path: Path) -> list[tuple[int, str]]:
    """Every string constant of a module, f-strings' literal parts included, with its line number."""
    pieces = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            pieces.append((node.lineno, node.value))
    return pieces


def hard_coded_colours() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(SUPPORT.rglob("*.py")):
        module = path.relative_to(SUPPORT).as_posix()
        for line, text in string_pieces(path):
            found += [(module, line, colour) for colour in colours_in(text)]
    return found


def contrast(text: str, background: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    lighter, darker = sorted((luminance(text), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_scanner_finds_what_it_should() -> None:
    # a check on the checker: every kind of hard-coded colour is found; theme variables and entities are not
    assert colours_in("color:#777") == ["#777"]
    assert colours_in('style="background: rgba(0,0,0,.5); border:1px solid red"') == ["rgba(", "red"]
    assert (
        colours_in(
            "color:var(--jp-ui-font-color1, rgba(0, 0, 0, 0.87));border-left:4px solid var(--jp-error-color1, #d32f2f)"
        )
        == []
    )
    assert colours_in("color:var(--my-colour, #123)") == ["#123"]  # only JupyterLab's variables count
    assert colours_in("<b>&#9203; Running</b>") == []
    assert colours_in("a background worker: the colour of money") == []  # prose, not CSS


def test_no_hard_coded_colour_outside_the_theme_variables() -> None:
    unexplained = [
        f"support/{module}:{line}: {colour}"
        for module, line, colour in hard_coded_colours()
        if (module, colour.lower()) not in ALLOWED
    ]
    assert not unexplained, (
        "hard-coded colours (use var(--jp-…, fallback) so light and dark themes both read):\n  "
        + "\n  ".join(unexplained)
    )


def test_every_allowed_colour_is_still_used() -> None:
    used = {(module, colour.lower()) for module, _line, colour in hard_coded_colours()}
    assert set(ALLOWED) <= used, f"allowed but no longer used (remove them from ALLOWED): {set(ALLOWED) - used}"


@pytest.mark.parametrize("text, background", TEXT_PAIRS)
def test_fixed_text_colours_pass_four_and_a_half_to_one(text: str, background: str) -> None:
    assert contrast(text, background) >= 4.5, f"{text} on {background}: {contrast(text, background):.2f}:1"


def test_every_theme_variable_has_a_fallback() -> None:
    bare = [
        f"support/{path.relative_to(SUPPORT).as_posix()}:{line}: {match}"
        for path in sorted(SUPPORT.rglob("*.py"))
        for line, text in string_pieces(path)
        for match in re.findall(r"var\(--jp-[\w-]+\)", text)
    ]
    assert not bare, "theme variables without a fallback (other front ends do not define them):\n  " + "\n  ".join(bare)
