"""The course's controls in the browser, on notebooks of the test's own in the same JupyterLab as ``test_browser.py``:
mail with scripts in it shows as text and runs nothing; a failed job is requeued, and the Work-It form widget sent,
with the keyboard alone; a Work-It mail passes axe on a page of its own; a JupyterLab terminal runs what is typed
into it, stops at Ctrl+C and closes (``lab_terminal.py``, which drives 02's and 03's terminal steps); JupyterLab opens
on the address ``make lab`` prints, 01 of the learner edition, without asking about the Jupyter news.

Needs Chromium (``make test`` says how to install it; ``make test BROWSER=0`` skips these, saying so).
"""

from __future__ import annotations

import base64
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from lab_page import LabPage
from lab_scripts import RECORD_SENT_VALUES_JS
from lab_server import LabServer
from lab_terminal import LabTerminal, venv_as_in_a_clone
from test_browser import (
    check_cells,
    course_home,
    lesson_steps,
    picture_on_failure,
    press_tab_until,
    serious_on_its_own,
    type_steps,
)

pytestmark = pytest.mark.slow  # a real browser and a JupyterLab: not in make test-fast

RUN_TIMEOUT = 120.0


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


PAYLOAD_THOUGHT = (
    'Hello {marker} <script>window.__pwned=1;alert(1)</script> <img src=x onerror="window.__pwned=2;alert(2)">'
)
HOSTILE_SUBJECT = '<img src=x onerror="window.__pwned=3;alert(3)"> Hostile {marker}'
HOSTILE_HTML = (
    "<p>Raw HTML {marker}</p><script>window.__pwned=4;alert(4)</script>"
    '<img src=x onerror="window.__pwned=5;alert(5)"><a href="javascript:window.__pwned=6">link</a>'
    '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>'
)


def hostile_notebook(path: Path, marker: str) -> None:
    """A notebook that mails the payloads to the catcher of the lab's state folder and shows the inbox."""
    hostile = (
        f"from email.message import EmailMessage\n"
        f"msg = EmailMessage()\n"
        f"msg['Subject'] = {HOSTILE_SUBJECT.format(marker=marker)!r}\n"
        f"msg['From'] = 'mallory@example.com'\n"
        f"msg['To'] = 'eve@example.com'\n"
        f"msg.set_content('plain part')\n"
        f"msg.add_alternative({HOSTILE_HTML.format(marker=marker)!r}, subtype='html')\n"
        f"mailer.send(msg)"
    )
    write_notebook(
        path,
        [
            "from support.services import course\nfrom support.widgets.inbox_widget import show_inbox\n"
            "from support.workit import mailer\n"
            "course.up('catcher', quiet=True);",
            f"message_id = mailer.deliver('eve@example.com', {PAYLOAD_THOUGHT.format(marker=marker)!r}, delay=0)",
            hostile,
            "inbox = show_inbox()\ninbox",
        ],
    )


def test_inbox_shows_hostile_mail_as_text(chromium: Any, lab: LabServer, jupyter: LabPage) -> None:
    """Mail with scripts in its thought, subject and HTML runs nothing in the page or in the mail frames."""
    marker = f"xss-{secrets.token_hex(4)}"
    hostile_notebook(lab.root / "xss_check.ipynb", marker)
    page = jupyter.page
    notebook = jupyter.notebook("xss_check.ipynb")
    with picture_on_failure(notebook, "browser-xss"):
        notebook.open()
        notebook.run_all(RUN_TIMEOUT)
        check_cells("xss_check.ipynb", notebook.cells(), notebook.snapshot())

        def frames_with_marker() -> list[Any]:
            found = []
            for frame in notebook.srcdoc_frames():
                try:
                    if marker in frame.evaluate("() => document.body ? document.body.innerText : ''"):
                        found.append(frame)
                except Exception:  # noqa: BLE001 - a frame replaced by a re-render
                    continue
            return found

        deadline = time.monotonic() + 15
        while len(frames_with_marker()) < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        frames = frames_with_marker()
        assert len(frames) == 2, f"the inbox shows {len(frames)} of the 2 hostile messages"
        page.wait_for_timeout(1000)  # time for any onerror handler or nested frame to run, if one could

        assert page.evaluate("typeof window.__pwned") == "undefined", "a script ran in the notebook page"
        for frame in page.frames:
            try:
                ran = frame.evaluate("typeof window.__pwned")
            except Exception:  # noqa: BLE001 - detached
                continue
            assert ran == "undefined", f"a script ran in a frame ({frame.url})"
        assert not jupyter.js_dialogs, f"a script opened a dialog: {jupyter.js_dialogs}"

        texts = [frame.evaluate("() => document.body.innerText") for frame in frames]
        thought = next((t for t in texts if "Hello " + marker in t), "")
        assert "<script>window.__pwned=1;alert(1)</script>" in thought, f"the thought is not shown as text: {thought!r}"
        assert '<img src=x onerror="window.__pwned=2;alert(2)">' in thought
        inbox_text = page.evaluate(
            "() => [...document.querySelectorAll('.course-inbox')].map(e => e.textContent).join('\\n')"
        )
        assert HOSTILE_SUBJECT.format(marker=marker) in inbox_text, "the hostile subject is not shown as text"
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0, (
            "markup from a mail reached the notebook page"
        )


DASHBOARD_NOTEBOOK = [
    "from support import dashboard\n"
    "from support.rq_helpers import queues, workers\n"
    "from support.services import course, processes\n"
    "course.up('redis', quiet=True)",
    "job = queues.queue('default').enqueue('math.sqrt', -1)  # fails: a math domain error\n"
    "service = workers.start_worker(burst=True, simple=True, with_scheduler=False)\n"
    "print('worker done:', processes.wait_until(lambda: not service.alive(), 30, 0.05))",
    "board = dashboard.show_dashboard()\nboard",
]


def test_a_failed_job_is_requeued_with_the_keyboard_alone(chromium: Any, lab: LabServer, jupyter: LabPage) -> None:
    """The dashboard widget (as in 04 and 05) with one failed job: Tab to its Requeue button, whose name says which
    job, and press Enter; the job is queued again. Then the form widget (as in 01): Tab, type, Enter."""
    write_notebook(
        lab.root / "keyboard_check.ipynb",
        DASHBOARD_NOTEBOOK
        + [
            "course.up('app', delay=0, quiet=True)\nfrom support.widgets.form_widget import WorkItForm\n"
            "form = WorkItForm()\nform"
        ],
    )
    page = jupyter.page
    notebook = jupyter.notebook("keyboard_check.ipynb")
    with picture_on_failure(notebook, "browser-keyboard"):
        notebook.open()
        notebook.run_all(RUN_TIMEOUT)
        check_cells("keyboard_check.ipynb", notebook.cells(), notebook.snapshot())
        page.wait_for_function(
            "() => [...document.querySelectorAll('.course-dashboard button')]"
            ".some(b => /^Requeue [0-9a-f]{8}$/.test(b.textContent.trim()))",
            timeout=30_000,
        )
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # start from the page
        presses = press_tab_until(
            page,
            "e.tagName === 'BUTTON' && e.closest('.course-dashboard') && "
            "/^Requeue [0-9a-f]{8}$/.test(e.textContent.trim())",
        )
        name = page.evaluate("() => document.activeElement.textContent.trim()")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => /Requeued job [0-9a-f]{8}/.test(document.querySelector('.course-dashboard').textContent)",
            timeout=30_000,
        )
        print(f"dashboard: {presses} presses of Tab reached the button {name!r}; Enter requeued the job")

        presses = press_tab_until(page, "e.tagName === 'INPUT' && e.closest('.course-form')")
        page.evaluate(RECORD_SENT_VALUES_JS, "keyboard_check.ipynb")
        page.keyboard.type("ada@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("keyboard only")
        page.keyboard.press("Shift+Tab")
        page.wait_for_function(  # both fields' last values are on their way to the kernel (lab_scripts says why)
            "() => ['ada@example.com', 'keyboard only'].every(v => window.courseSentValues.includes(v))",
            timeout=30_000,
        )
        page.keyboard.press("Enter")  # Enter in the Email field sends the form
        page.wait_for_function(
            "() => /Answered in [0-9.]+ s/.test(document.querySelector('.course-form').textContent)", timeout=60_000
        )
        print(f"form widget: {presses} presses of Tab reached Email; Enter sent the form")


def test_a_work_it_mail_passes_axe_on_its_own(chromium: Any) -> None:
    """The mail as its frame shows it (axe skips the inbox's sandboxed frames): no serious or critical violation,
    and its GIF's alt text says what the GIF shows."""
    from support.workit import mailer

    gif = mailer.pick_gif("coffee")
    document = mailer._html_body("I could really use a coffee", gif, "gif.1")
    document = document.replace("cid:gif.1", "data:image/gif;base64," + base64.b64encode(gif.read_bytes()).decode())
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_content(document)
        assert page.evaluate("() => document.images[0].alt") == "An animated GIF about coffee"
        serious = serious_on_its_own(page)
        print("mail: " + (", ".join(serious) or "no serious or critical axe violation"))
        assert not serious, serious
    finally:
        context.close()


def _descendants(lab: LabServer, *words: str) -> list[psutil.Process]:
    """The JupyterLab server's descendants (its terminals' shells and what they run) whose command line has `words`."""
    assert lab.proc is not None
    found = []
    for child in psutil.Process(lab.proc.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and all(w in child.cmdline() for w in words):
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_a_terminal_in_jupyterlab_runs_what_is_typed(chromium: Any, lab: LabServer, jupyter: LabPage) -> None:
    """A terminal opened in notebooks/ (as the Launcher opens one there): lines typed with the keyboard run in that
    folder with the course's environment, a Python typed there writes a file, Ctrl+C stops a running program, and
    ``exit`` closes the tab and ends the terminal on the server."""
    token = secrets.token_hex(4)
    target = lab.scratch / f"typed-{token}.txt"
    terminal = LabTerminal(jupyter.page, lab).open("notebooks")
    try:
        assert terminal.name in terminal.server_terminals()
        assert str((lab.root / "notebooks").resolve()) in terminal.run("pwd -P")
        assert f"home={lab.home}" in terminal.run('echo "home=$COURSE_HOME"')
        # POSIX sh arithmetic only: with no SHELL set (as in CI) JupyterLab's terminal runs sh, which is dash here
        shown = terminal.run(f'echo "hello-$((6*7))-{token}"')
        assert re.search(rf"^hello-42-{token}\s*$", shown, re.M), shown
        terminal.run(f"{sys.executable} -c \"import pathlib; pathlib.Path('{target}').write_text('{token}')\"")
        assert target.read_text() == token, "the Python typed in the terminal did not write its file"

        terminal.type_line("sleep 600")
        deadline = time.monotonic() + 10
        while not _descendants(lab, "sleep", "600") and time.monotonic() < deadline:
            time.sleep(0.1)
        sleeping = _descendants(lab, "sleep", "600")
        assert len(sleeping) == 1, f"the typed 'sleep 600' runs {len(sleeping)} times under JupyterLab"
        for attempt in range(3):  # a learner presses again when a busy page lost the keystroke
            terminal.interrupt(keyboard=attempt == 0)  # again, into the session, if the page lost the key
            try:
                sleeping[0].wait(5)
                break
            except psutil.TimeoutExpired:
                if attempt == 2:
                    raise AssertionError("three Ctrl+C typed into the terminal did not end 'sleep 600'") from None
        assert "after-5" in terminal.run("echo after-$((2+3))"), "the shell did not come back after Ctrl+C"
    finally:
        for left in _descendants(lab, "sleep", "600"):  # ours, started by this test's typing: ended by PID
            left.kill()
        terminal.close()
    assert terminal.name not in terminal.server_terminals(), "the terminal still runs on the server after exit"
    assert jupyter.page.evaluate("(id) => !document.getElementById(id)", terminal.id), (
        "the terminal's tab is still open"
    )


def test_the_redis_tour_lines_typed_in_a_jupyterlab_terminal(chromium: Any, lab: LabServer, jupyter: LabPage) -> None:
    """02's terminal step on its own: support.lessons.redis_tour's lines, typed one by one into a JupyterLab terminal
    in notebooks/, open the command line on the lab's Redis, write the key and the list the check reads, and leave."""
    from support.lessons import redis_tour
    from support.services import course, redis_server

    with course_home(lab.home):
        course.up("redis", quiet=True)
        client = redis_server.connect()
        client.delete(redis_tour.NAME_KEY, redis_tour.TODO_KEY)
    venv_as_in_a_clone(lab.root)
    steps = lesson_steps("support.lessons.redis_tour", lab)
    terminal = LabTerminal(jupyter.page, lab).open("notebooks")
    try:
        type_steps(terminal, steps)
        shown = terminal.text()
        assert "watch-it-run" in shown.split(steps[-2], 1)[-1], f"LRANGE answered nothing; the terminal:\n{shown}"
        with course_home(lab.home):
            assert client.get(redis_tour.NAME_KEY) == b"Ada"
            assert 0 < client.ttl(redis_tour.NAME_KEY) <= redis_tour.NAME_SECONDS
            assert client.lrange(redis_tour.TODO_KEY, 0, -1) == [b"watch-it-run", b"start-a-worker", b"write-a-job"]
    finally:
        terminal.close()
        with course_home(lab.home):  # 02 in the browser must find them written by its own terminal step
            client.delete(redis_tour.NAME_KEY, redis_tour.TODO_KEY)


NOTIFICATION = "@jupyterlab/apputils-extension:notification"
NEWS_PROMPT = "official Jupyter news"  # JupyterLab 4.6.6: "Would you like to get notified about official Jupyter news?"


def _opens_on_01(context: Any, lab: LabServer) -> str:
    """A fresh page on the address ``make lab`` prints (``/lab/tree/notebooks/01_slow_request.ipynb``); once 01 is
    open and JupyterLab has started, the page's text."""
    page = context.new_page()
    try:
        page.goto(lab.url(f"lab/tree/notebooks/01_slow_request.ipynb?reset&token={lab.token}"))
        page.wait_for_function(
            "() => !!(window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell"
            ".currentWidget.context && window.jupyterapp.shell.currentWidget.context.path"
            " === 'notebooks/01_slow_request.ipynb')",
            timeout=60_000,
            polling=100,
        )
        page.evaluate("async () => { await window.jupyterapp.restored; }")
        page.wait_for_timeout(3000)  # the news prompt, when asked for, comes as JupyterLab starts
        return page.inner_text("body")
    finally:
        page.close()


def test_jupyterlab_opens_on_01_without_the_news_prompt(
    chromium: Any, lab: LabServer, jupyter: LabPage, browser_context: Any
) -> None:
    """Item 7 of issue 24: with no setting of the learner's own, JupyterLab (its defaults changed by the course's
    lab-settings/overrides.json, which make installs into the venv) opens the learner edition's 01 and asks nothing
    about the Jupyter news. The same page, with the learner's setting "Ask" (JupyterLab's own default), shows the
    prompt: the test can see it."""
    context, _ = browser_context
    path = f"/lab/api/settings/{NOTIFICATION}"
    saved = lab.api("GET", path)["raw"]
    try:
        lab.api("PUT", path, body={"raw": '{"fetchNews": "none"}'})
        assert NEWS_PROMPT in _opens_on_01(context, lab), "JupyterLab's own default did not show the news prompt"
        lab.api("PUT", path, body={"raw": "{}"})
        assert NEWS_PROMPT not in _opens_on_01(context, lab), (
            "JupyterLab asked about the Jupyter news: is lab-settings/overrides.json installed into the venv's "
            "share/jupyter/lab/settings/ (make .venv/.lab-installed)?"
        )
    finally:
        lab.api("PUT", path, body={"raw": saved})
