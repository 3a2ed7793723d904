"""The course as a website (``make site``, ``tools/site.py``): it builds with warnings as errors where no network
answers, and reads in a real Chromium from a static server on 127.0.0.1 with every other request blocked.

One test builds the site and reads it (a build per xdist worker would cost twice): in a network namespace of its
own (``unshare -n``: only a loopback device, down) where that is allowed, else with every outbound connection of the
build refused and recorded by an audit hook; then Chromium (Debian's, never downloaded: ``tests/browser.py``) opens
every page, in the light and the dark theme: each notebook's page renders with its title, previous and next
links; each exercise's solution, and its check's stored result, are hidden until their toggle is clicked (the mouse
on one, Enter on another); 01's Work-It form and inbox show their stored last state; every image has alt text;
every link to the site's own pages resolves (no 404, and each #anchor exists); axe finds no serious or critical
violation; no request left 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import site  # noqa: E402
from tools.notebook_files import INSTRUCTOR_DIR, read  # noqa: E402
from tools.solutions import CODE, DROP_TAG  # noqa: E402

FAILING_IMPACTS = ("serious", "critical")
THEMES = ("light", "dark")
# axe on the landing page and on the notebooks with the widgets and the most exercises (about 3-10 s a page here)
AXE_PAGES = ("index.html", "notebooks/01_slow_request.html", "notebooks/03_jobs.html")
SHOTS = os.environ.get("COURSE_SITE_SHOTS")  # a folder: screenshots of the landing page and 03, in both themes
NOTEBOOKS = Path(os.environ.get("COURSE_SITE_NOTEBOOKS", INSTRUCTOR_DIR))  # the instructor edition to build from

# The build, run as a program with every connection to an address outside 127.0.0.1 (and ::1) refused and recorded.
_GUARDED_BUILD = """
import ipaddress, runpy, sys
refused = []
def hook(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple):
        try:
            local = ipaddress.ip_address(args[1][0]).is_loopback
        except ValueError:
            local = False
        if not local:
            refused.append(repr(args[1]))
            raise OSError(101, "no network for the site's build: " + repr(args[1]))
    if event == "socket.getaddrinfo" and args[0] not in ("localhost", "127.0.0.1", "::1", None):
        refused.append(repr(args[0]))
        raise OSError(-2, "no name lookups for the site's build: " + repr(args[0]))
sys.addaudithook(hook)
sys.argv = ["tools/site.py", *sys.argv[1:]]
try:
    runpy.run_path("tools/site.py", run_name="__main__")
finally:
    if refused:
        print("REFUSED " + " ".join(refused), file=sys.stderr)
"""


def _namespace_works() -> bool:
    """True when `unshare -n` may make a network namespace here (root, or a kernel that lets users)."""
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "-n", "--", "true"], capture_output=True, timeout=30)
    return done.returncode == 0


def build_offline(out: Path) -> tuple[str, float, str]:
    """Build the site into `out` where no network answers; (how, seconds, output)."""
    args = ["--out", str(out), "--clean", "--instructor", str(NOTEBOOKS)]
    if _namespace_works():
        how, command = "in a network namespace with no network (unshare -n)", ["unshare", "-n", "--"]
        command += [sys.executable, "tools/site.py", *args]
    else:
        how, command = "with every connection outside 127.0.0.1 refused", [sys.executable, "-c", _GUARDED_BUILD, *args]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the site's build failed ({how}):\n{output[-4000:]}"
    assert "REFUSED" not in output, f"the build tried to reach the network:\n{output[-2000:]}"
    return how, seconds, output


class _Handler(http.server.SimpleHTTPRequestHandler):
    failed: list[str]

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if isinstance(code, int) and code >= 400 or str(code).startswith(("4", "5")):
            self.failed.append(f"{code} {self.path}")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def static_server(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """`folder` served on 127.0.0.1 (a free port) from a thread; (origin, the requests answered with 4xx/5xx)."""
    failed: list[str] = []
    handler = type("Handler", (_Handler,), {"failed": failed})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a, **k: handler(*a, directory=str(folder), **k))
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", failed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def exercises_in(name: str) -> int:
    """How many exercise cells (a code cell with a solution region) the instructor notebook has."""
    return sum(
        cell.cell_type == "code"
        and DROP_TAG not in cell.get("metadata", {}).get("tags", [])
        and any(CODE.begin.match(line) for line in cell.source.split("\n"))
        for cell in read(NOTEBOOKS / f"{name}.ipynb").cells
    )


def serious_axe(page: Any) -> list[str]:
    """axe-core (from the axe-playwright-python wheel) on the page, every fold open: its serious or critical
    violations. (In a closed <details>, axe measured code's contrast against whatever lay on top: hidden text.)"""
    from axe_playwright_python.sync_playwright import Axe

    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")  # solutions too
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")  # folds' fade-in
    page.evaluate(Axe().axe_script)
    found = page.evaluate("() => axe.run(document, {resultTypes: ['violations'], iframes: false})")["violations"]
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['html'][:160]}"
        for v in found
        if v["impact"] in FAILING_IMPACTS
    ]


LINKS_JS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"""
IMAGES_JS = """() => Array.from(document.images).map(i => ({src: i.src.slice(0, 60), alt: i.getAttribute('alt')}))"""


def check_folds(page: Any, selector: str, how: str) -> int:
    """Every fold in `selector` is closed and its content hidden, until its toggle is used (`how`: "click", or
    "enter": focused and Enter pressed); returns how many there were."""
    folds = page.locator(f"{selector} details")
    for index in range(folds.count()):
        fold = folds.nth(index)
        content = fold.locator(".cell_input, .cell_output").first
        assert fold.get_attribute("open") is None and not content.is_visible(), f"{selector} #{index} is shown unasked"
        summary = fold.locator("summary")
        if how == "click":
            summary.click()
        else:
            summary.focus()
            page.keyboard.press("Enter")
        content.wait_for(state="visible", timeout=5_000)
    return folds.count()


@pytest.mark.slow  # a build of the site, and a browser
def test_the_site_builds_offline_and_reads_in_a_browser(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    out = tmp_path / "site"
    how, seconds, _ = build_offline(out)
    print(f"site built {how} in {seconds:.1f} s (warnings are errors)")
    chromium = request.getfixturevalue("chromium")  # skips the reading (named in the summary) when there is none
    order = site.notebook_order((ROOT / "README.md").read_text(encoding="utf-8"))
    pages = ["index.html", *(f"notebooks/{name}.html" for name in order), "setup.html", "instructor.html"]
    pages.append("search.html")
    for page_path in pages:
        assert (out / page_path).is_file(), f"{page_path} is missing from the site"

    with static_server(out) as (origin, failed):
        blocked: list[str] = []
        problems: list[str] = []
        links: set[str] = set()

        def block(route: Any) -> None:
            blocked.append(route.request.url)
            route.abort()

        for theme in THEMES:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            context.add_init_script(  # (a mail's sandboxed frame has no storage: nothing to set there)
                f"try {{ localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}'); }}"
                " catch {}"
            )
            context.route(re.compile(rf"^(?!{re.escape(origin)}/|data:|blob:|about:)"), block)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            try:
                for page_path in pages if theme == "light" else AXE_PAGES:
                    page.goto(f"{origin}/{page_path}")
                    page.wait_for_load_state("load")
                    assert page.evaluate("() => document.documentElement.dataset.theme") == theme
                    if SHOTS and page_path in ("index.html", "notebooks/03_jobs.html"):
                        take_shots(page, page_path, theme)
                    if theme == "light":
                        problems += check_page(page, page_path, order)
                        links.update(page.evaluate(LINKS_JS))
                    if page_path in AXE_PAGES:
                        problems += [f"{page_path}, {theme}: {line}" for line in serious_axe(page)]
            finally:
                context.close()
            problems += [f"a script error in the {theme} theme: {error}" for error in errors]

        problems += check_links(origin, out, links)
        problems += [f"the server answered {line}" for line in failed]
        problems += [f"a request outside the site: {url}" for url in blocked]
    assert not problems, "\n".join(problems)


def take_shots(page: Any, page_path: str, theme: str) -> None:
    """Screenshots into $COURSE_SITE_SHOTS: the top of the page; on a notebook's page also its first exercise and
    the first form widget, as the page opens (folds closed)."""
    assert SHOTS
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    stem = f"{SHOTS}/site-{Path(page_path).stem}-{theme}"
    page.screenshot(path=f"{stem}.png")
    for part, selector in (("exercise", "div.cell.tag_exercise-placeholder"), ("form", ".course-static.course-form")):
        if page.locator(selector).count():
            page.locator(selector).first.scroll_into_view_if_needed()
            page.evaluate("() => window.scrollBy(0, -120)")  # below the header, with what leads to it
            page.screenshot(path=f"{stem}-{part}.png")
    page.evaluate("() => window.scrollTo(0, 0)")


def check_page(page: Any, page_path: str, order: list[str]) -> list[str]:
    """The checks of one page in the light theme; a list of what is wrong."""
    problems = []
    images = page.evaluate(IMAGES_JS)
    problems += [f"{page_path}: an image without alt text ({image['src']})" for image in images if not image["alt"]]
    if page_path == "index.html":
        text = page.locator("main").inner_text()
        titles = [site.title_of(read(NOTEBOOKS / f"{name}.ipynb"), name) for name in order]
        for wanted in ("make lab", "make test", "MailCatcher", *titles):
            if wanted.replace("'", "\N{RIGHT SINGLE QUOTATION MARK}") not in text and wanted not in text:
                problems.append(f"index.html does not show {wanted!r}")
        page.keyboard.press("Tab")  # the keyboard's first stop: the theme's link past the navigation
        if "Skip to main content" not in page.evaluate("() => document.activeElement.textContent"):
            problems.append("index.html: the first Tab does not reach 'Skip to main content'")
        return problems
    if page_path == "search.html":
        page.goto(page.url.split("?")[0] + "?q=perform_later")
        page.locator("#search-results li").first.wait_for(timeout=15_000)
        if not page.locator("#search-results a[href*='03_jobs']").count():
            problems.append("search: 'perform_later' does not find notebook 03")
        return problems
    if not page_path.startswith("notebooks/"):
        return problems
    name = Path(page_path).stem
    title = site.title_of(read(NOTEBOOKS / f"{name}.ipynb"), name)
    shown = page.locator("main h1").first.inner_text().replace("\N{RIGHT SINGLE QUOTATION MARK}", "'")
    if shown.strip().rstrip("#").strip() != title:  # (Sphinx's smart quotes turn ' into ’)
        problems.append(f"{page_path}: its heading is not {title!r}")
    if "Run it:" not in page.locator("main").inner_text():
        problems.append(f"{page_path}: no 'Run it' line")
    for link in ("a.left-prev", "a.right-next"):  # 01's previous page is the landing page, 11's next the set-up
        if page.locator(f".prev-next-area {link}").count() != 1:
            problems.append(f"{page_path}: no {link} link")
    wanted = exercises_in(name)
    placeholders = page.locator("div.cell.tag_exercise-placeholder").count()
    solutions = check_folds(page, "div.cell.tag_exercise-solution", "click" if wanted % 2 else "enter")
    if placeholders != wanted or solutions != wanted:
        problems.append(f"{page_path}: {wanted} exercises, {placeholders} placeholders, {solutions} folded solutions")
    check_folds(page, "div.cell.tag_exercise-check", "click")
    if name == "01_slow_request":
        problems += check_widgets(page)
        if not any(image["alt"] for image in images):
            problems.append("01: no image with alt text (its plot has one)")
    return problems


def check_widgets(page: Any) -> list[str]:
    """01's Work-It form and inbox show their stored last state."""
    problems = []
    form = page.locator(".course-static.course-form").first
    if form.count() == 0:
        return ["01: the Work-It form shows no stored state (re-execute the instructor edition: make notebooks)"]
    if not form.locator("input").first.input_value() or "Answered in" not in form.inner_text():
        problems.append(f"01: the first Work-It form does not show the answer it got: {form.inner_text()[:200]!r}")
    inbox = page.locator(".course-static.course-inbox").first
    if inbox.count() == 0 or "Inbox" not in inbox.inner_text():
        return [*problems, "01: the inbox shows no stored state"]
    mails = inbox.locator("iframe[title^='Mail 1:']")
    if mails.count() != 1 or "message" not in inbox.inner_text():
        problems.append(f"01: the inbox does not show its mail: {inbox.inner_text()[:200]!r}")
    return problems


def check_links(origin: str, out: Path, links: set[str]) -> list[str]:
    """Every link to the site's own pages names a file of the site, and each #anchor an id on that page."""
    problems = []
    ids: dict[Path, set[str]] = {}
    for link in sorted(links):
        if not link.startswith(origin + "/"):
            continue
        parts = urllib.parse.urlsplit(link)
        path = out / urllib.parse.unquote(parts.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"a link to a page that is not there: {link}")
            continue
        if parts.fragment and path.suffix == ".html":
            if path not in ids:
                ids[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))
            if urllib.parse.unquote(parts.fragment) not in ids[path]:
                problems.append(f"a link to an anchor that is not there: {link}")
    return problems


# --- the parts of tools/site.py, without a build --------------------------------------------------------------------


def test_the_run_it_line_names_the_repository_and_binder_when_there_is_one() -> None:
    repo = "https://github.com/example/background-jobs"
    line = site.run_it(repo, "03_jobs")
    assert f"`git clone {repo} && cd background-jobs && make lab`" in line
    assert "notebooks/03_jobs.ipynb" in line
    assert "https://mybinder.org/v2/gh/example/background-jobs/HEAD?urlpath=lab/tree/notebooks/03_jobs.ipynb" in line
    assert "Binder" not in site.run_it("https://gitlab.example.org/me/course", "03_jobs")
    assert "make lab" in site.run_it(None, None) and "git clone" not in site.run_it(None, None)


def test_every_notebook_is_in_the_readme_table_in_order() -> None:
    order = site.notebook_order((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(order) == sorted(p.stem for p in INSTRUCTOR_DIR.glob("*.ipynb"))
    assert order[:3] == ["01_slow_request", "02_redis", "03_jobs"]


def test_an_exercise_page_shows_the_placeholder_and_folds_the_solution_and_the_check() -> None:
    page = site.notebook_page(read(INSTRUCTOR_DIR / "03_jobs.ipynb"), "03_jobs", None)
    by_tag = {tag: [c for c in page.cells if tag in c.metadata.get("tags", [])] for tag in ("exercise-placeholder",)}
    placeholder = by_tag["exercise-placeholder"][0]
    solution = page.cells[page.cells.index(placeholder) + 1]
    assert "____" in placeholder.source and not placeholder.outputs
    assert "hide-cell" in solution.metadata["tags"] and solution.metadata["mystnb"]["code_prompt_show"] == "Solution"
    assert "BEGIN SOLUTION" not in solution.source and "PLACEHOLDER" not in solution.source
    check = page.cells[page.cells.index(solution) + 1]
    assert ".check(" in check.source and "hide-output" in check.metadata["tags"]
    assert re.match(r"# 03 · .+\n\n\*\*Run it:\*\* .*make lab", page.cells[0].source)  # right under the title
    assert json.dumps(page)  # the page is plain JSON for myst-nb


# --- the widgets' last state, stored by a run of the instructor edition ---------------------------------------------


def test_static_html_shows_fields_read_only_and_buttons_disabled() -> None:
    from support.widgets import live
    from support.widgets.form_widget import WorkItForm

    form = WorkItForm()
    form.email.value, form.answer.value = "ada@example.com", "<span>Answered in 5.01 s</span>"
    html = live.static_html(form)
    assert 'readonly value="ada@example.com"' in html and '<button type="button" disabled>Submit</button>' in html
    assert "<span>Answered in 5.01 s</span>" in html and "<script" not in html


@pytest.mark.slow  # a kernel
def test_a_run_of_the_instructor_edition_stores_the_widgets_last_state(tmp_path: Path) -> None:
    """In a real kernel: each display of a widget keeps what it showed before the cell that shows it again, the last
    display what it shows at the end; nbval's text is as before (the browser tests see the live widgets); a plain
    run (the learner edition's) stores nothing."""
    import nbformat

    from support.widgets import live
    from tools.notebook_run import WIDGET_SNAPSHOTS, execute

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('from support.widgets.log_view import LogView\nlog = LogView("Worker log")\nlog'),
        nbformat.v4.new_code_cell('log.append("Job OK")'),
        nbformat.v4.new_code_cell("log"),  # shown again: the first display keeps what it showed before this cell
        nbformat.v4.new_code_cell('log.append("Worker stopped")'),
    ]
    done = execute(nb, cwd=tmp_path, timeout=60, snapshots=True)
    assert len(done.cells) == 4  # the cell that asked for the snapshots is gone
    shots = done.metadata[WIDGET_SNAPSHOTS]
    first, second = (done.cells[n].outputs[0] for n in (0, 2))
    assert first.metadata["course_widget"] != second.metadata["course_widget"]
    before, last = shots[first.metadata["course_widget"]], shots[second.metadata["course_widget"]]
    assert "Job OK" in before and "Worker stopped" not in before and 'class="course-static course-log"' in before
    assert "Worker stopped" in last
    assert first.data["text/plain"] == "LogView('Worker log')"  # what nbval compares is unchanged
    assert live.SNAPSHOT_KEY == "course_widget"
    plain = execute(nb, cwd=tmp_path, timeout=60)
    assert WIDGET_SNAPSHOTS not in plain.metadata  # the learner edition's run stores none
