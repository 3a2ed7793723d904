"""A terminal in the JupyterLab page, used as a learner does: the file browser goes to a folder, its *+* button opens
a Launcher there, a click on the Launcher's *Terminal* tile opens a terminal in that folder; lines are typed with the
keyboard into xterm, its screen is read, Ctrl+C pressed, ``exit`` typed.

Measured in JupyterLab 4.6.6: the Launcher's Terminal tile starts the shell in the file browser's folder; *File > New >
Terminal* starts it in Jupyter's root folder, wherever the file browser is. The tile runs ``terminal:create-new``
with that ``cwd`` (``@jupyterlab/terminal-extension``), which starts a terminal through the server's
``/api/terminals`` (jupyter_server_terminals 0.5.4) and adds a ``MainAreaWidget`` whose ``content`` is a ``Terminal``
holding an xterm.js ``Terminal`` in ``_term`` (read here: its buffer holds the text whichever renderer draws it).
The shell is ``$SHELL -l`` (jupyter_server_terminals adds ``-l`` when the server's output is not a terminal, as
here): ``PATH`` is the login shell's, so a program of the course's venv is named by its path. The terminal's
environment is the server's (``COURSE_HOME`` among it).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

from lab_server import REPO, LabServer

MAIN_IDS_JS = "() => [...window.jupyterapp.shell.widgets('main')].map(w => w.id)"

# The new terminal tab (one not in `before`), once its shell is connected: kept in window.courseTerminals.
NEW_TERMINAL_JS = """async (before) => {
  const main = [...window.jupyterapp.shell.widgets('main')]
    .find(w => !before.includes(w.id) && w.content && w.content.session && w.content.session.name !== undefined
               && w.content._term !== undefined);
  if (!main) return null;
  await main.content.ready;
  window.courseTerminals = window.courseTerminals || {};
  window.courseTerminals[main.id] = main;
  return [main.id, main.content.session.name];
}"""

# The terminal's text, from xterm's buffer: its scrollback and screen, wrapped lines joined.
TEXT_JS = """(id) => {
  const main = (window.courseTerminals || {})[id];
  if (!main || main.isDisposed) return null;
  const buffer = main.content._term.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && lines.length) lines[lines.length - 1] += text; else lines.push(text);
  }
  return lines.join('\\n');
}"""

FOCUS_JS = """(id) => {
  const main = window.courseTerminals[id];
  window.jupyterapp.shell.activateById(id);
  main.content._term.focus();
  return document.activeElement && document.activeElement.classList.contains('xterm-helper-textarea');
}"""


def venv_as_in_a_clone(root: Path) -> Path | None:
    """Make the venv of these tests reachable from `root` where a clone has it (``.venv`` at the top): a link to
    ``sys.prefix``, so that a line written for the repository (``../.venv/bin/rq`` from ``notebooks/``) runs the
    same programs in the JupyterLab's copy. Returns the link (None when the venv is not inside the repository)."""
    venv = Path(sys.prefix)
    if not venv.is_relative_to(REPO):
        return None
    link = root / venv.relative_to(REPO)
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(venv, target_is_directory=True)
    return link


class LabTerminal:
    """One terminal in the JupyterLab page `page` (served by `lab`)."""

    def __init__(self, page: Any, lab: LabServer) -> None:
        self.page, self.lab = page, lab
        self.id = ""
        self.name = ""  # the server's name for it (GET /api/terminals)
        self.typed: list[str] = []

    # --- life cycle ------------------------------------------------------------------------------------------

    def open(self, folder: str = "", timeout: float = 30.0) -> LabTerminal:
        """Open a terminal in `folder` (relative to Jupyter's root; "" is the root) as a learner does: the file
        browser goes there, its + button opens a Launcher, a click on the Terminal tile; wait for the first prompt."""
        page = self.page
        page.evaluate(
            "async (path) => { await window.jupyterapp.commands.execute('filebrowser:go-to-path', {path}); }",
            "/" + folder.strip("/"),
        )
        before = page.evaluate(MAIN_IDS_JS)
        page.locator('.jp-FileBrowser [data-command="launcher:create"]').first.click()
        page.locator('.jp-LauncherCard[title="Start a new terminal session"]:visible').last.click()
        deadline = time.monotonic() + timeout
        while (found := page.evaluate(NEW_TERMINAL_JS, before)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no terminal opened within {timeout:.0f} s of a click on the Launcher's tile")
            page.wait_for_timeout(100)
        self.id, self.name = found
        self.wait_for(lambda text: bool(text.strip()), timeout, "the shell's first prompt")
        return self

    def close(self, timeout: float = 20.0) -> None:
        """Type ``exit``: the shell ends, JupyterLab closes the tab (closeOnExit) and the server forgets it. A shell
        that does not end (something still holds the terminal) is shut down as Running Terminals > Shut Down does."""
        if not self.id:
            return
        if self.alive():
            try:
                self.type_line("exit")
            except Exception:  # noqa: BLE001 - the page is gone; the server is asked below
                pass
        deadline = time.monotonic() + timeout
        while self.name in self.server_terminals() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.name in self.server_terminals():
            self.lab.api("DELETE", f"/api/terminals/{self.name}")
        self.page.evaluate(
            "(id) => { const m = (window.courseTerminals || {})[id]; if (m && !m.isDisposed) m.dispose();"
            " if (window.courseTerminals) delete window.courseTerminals[id]; }",
            self.id,
        )

    def alive(self) -> bool:
        return self.page.evaluate(TEXT_JS, self.id) is not None and self.name in self.server_terminals()

    def server_terminals(self) -> list[str]:
        """The names of the terminals the server runs (its REST API)."""
        return [t["name"] for t in self.lab.api("GET", "/api/terminals")]

    # --- the keyboard --------------------------------------------------------------------------------------

    def focus(self) -> None:
        if not self.page.evaluate(FOCUS_JS, self.id):
            raise AssertionError("the terminal did not take the keyboard focus")

    def type_line(self, line: str) -> None:
        """Type `line` with the keyboard, then Enter."""
        self.focus()
        self.page.keyboard.type(line)
        self.page.keyboard.press("Enter")
        self.typed.append(line)

    def type_lines(self, lines: list[str], settle: float = 0.0) -> None:
        for line in lines:
            self.type_line(line)
            if settle:
                self.page.wait_for_timeout(settle * 1000)

    def interrupt(self, keyboard: bool = True) -> None:
        """Ctrl+C (with nothing selected, xterm sends it to the program: SIGINT from the terminal). With
        ``keyboard=False`` the same character goes straight into the terminal's session, as xterm sends a keystroke
        (``session.send({type: "stdin"})``): for a second try when the page did not pass the key on."""
        if keyboard:
            self.focus()
            self.page.evaluate("(id) => window.courseTerminals[id].content._term.clearSelection()", self.id)
            self.page.keyboard.press("Control+c")
            self.typed.append("^C")
        else:
            self.page.evaluate(
                "(id) => window.courseTerminals[id].content.session.send({type: 'stdin', content: ['\\x03']})",
                self.id,
            )
            self.typed.append("^C (through the session)")

    # --- the screen ----------------------------------------------------------------------------------------

    def text(self) -> str:
        return self.page.evaluate(TEXT_JS, self.id) or ""

    def wait_for(self, expected: Any, timeout: float = 30.0, what: str = "") -> str:
        """Wait until the terminal's text has `expected` (a string, a compiled regex, or a predicate on the text);
        returns the text. Fails with the text shown."""
        if isinstance(expected, str):
            found = lambda text: expected in text  # noqa: E731
        elif isinstance(expected, re.Pattern):
            found = lambda text: expected.search(text) is not None  # noqa: E731
        else:
            found = expected
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if found(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the terminal did not show {what or expected!r} within {timeout:.0f} s; typed: {self.typed}; "
                    f"it shows:\n{text[-3000:]}"
                )
            self.page.wait_for_timeout(200)

    def wait_quiet(self, quiet: float = 0.8, timeout: float = 30.0) -> str:
        """Wait until the terminal's text has not changed for `quiet` seconds (a program has answered what was typed
        and waits for the next line); returns the text."""
        deadline = time.monotonic() + timeout
        last, since = self.text(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal never went quiet within {timeout:.0f} s; typed: {self.typed}")
            self.page.wait_for_timeout(100)
            text = self.text()
            if text != last:
                last, since = text, time.monotonic()
        return last

    def run(self, line: str, timeout: float = 30.0) -> str:
        """Type `line`, then wait until the shell is back at its prompt; returns what `line` printed. (A marker echoed
        after it shows the shell has finished: ``echo`` of an arithmetic expansion, whose result is not typed.)"""
        self.type_line(line)
        number = len(self.typed) + 1000
        self.type_line(f"echo course-done-$(({number}+1))")
        text = self.wait_for(f"course-done-{number + 1}", timeout, f"{line!r} finished")
        return text.split(line, 1)[-1].split(f"echo course-done-$(({number}+1))", 1)[0]
