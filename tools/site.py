"""``make site``: the course as a static website in ``_build/site/``, built from the notebooks as stored, offline.

Two steps. First the site's sources are written into ``_build/site-src/`` (never edited by hand):

- ``index.md``, the landing page, from README.md (its opening paragraphs, the two commands, the table of what each
  notebook teaches with each name linked to its page) and the Rails mapping table from notebook 01's "Coming from the
  Rails lesson?" cell, so that none of it can drift from its source;
- ``setup.md``, README.md's section on JupyterHub, Binder and Codespaces; ``instructor.md``, INSTRUCTOR.md;
- one page per notebook, in the README table's order, made from the instructor edition with its stored outputs
  (the ones nbval proves): each exercise cell is shown as the learner edition has it (``tools/solutions.py``), its
  solution follows folded under "Solution", and the stored result of the check cell after it is folded too; each
  course widget's output shows the static HTML of its last state when the run stored one (``support.widgets.static``
  puts it in the notebook's metadata), else its text; a "Run it" line follows each page's title.

Then Sphinx (configuration in ``site/conf.py``) renders them with myst-nb, which never executes a notebook here
(``nb_execution_mode = "off"``), with warnings as errors. Nothing is fetched: no CDN, no theme download.

    python tools/site.py                     # _build/site/ (the Makefile's `make site`)
    python tools/site.py --out /tmp/site     # elsewhere (its sources go beside it, in /tmp/site-src)

The "Run it" line names the repository's address when one is configured: ``COURSE_REPO_URL``, else the ``origin``
remote of this checkout; an address on GitHub also gets a Binder link (mybinder.org builds from ``binder/``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a program: the checkout's root is not on sys.path yet
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.notebook_files import INSTRUCTOR_DIR, REPO_ROOT, read  # noqa: E402
from tools.solutions import CODE, DROP_TAG, learner_source  # noqa: E402

CONF_DIR = REPO_ROOT / "site"  # conf.py and its static files
DEFAULT_OUT = REPO_ROOT / "_build" / "site"
WIDGET_KEY = "course_widget"  # an output's metadata key naming its widget's snapshot (support.widgets.static)
SNAPSHOTS = "course_widgets"  # the notebook metadata key holding the snapshots
SETUP_HEADING = "On JupyterHub, Binder and Codespaces"
NOTEBOOK_TABLE_HEADING = "What each notebook teaches"
RAILS_CELL_HEADING = "## Coming from the Rails lesson?"


class SiteError(RuntimeError):
    """The README or a notebook is not shaped as the site expects (say what to change)."""


# --- the README's parts ---------------------------------------------------------------------------------------------


def sections(markdown: str) -> dict[str, str]:
    """Level-2 heading -> the text under it (up to the next level-2 heading); "" -> the text before the first."""
    found: dict[str, str] = {}
    heading, lines = "", []
    fence = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            found[heading] = "\n".join(lines).strip() + "\n"
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    found[heading] = "\n".join(lines).strip() + "\n"
    return found


def notebook_order(readme: str) -> list[str]:
    """The notebooks in the order of README.md's table of what each one teaches."""
    table = sections(readme).get(NOTEBOOK_TABLE_HEADING, "")
    names = re.findall(r"^\| `([\w]+)` \|", table, re.M)
    if not names:
        raise SiteError(f"README.md: no table of notebooks under '## {NOTEBOOK_TABLE_HEADING}'")
    return names


def repository_url() -> str | None:
    """The repository's public address: $COURSE_REPO_URL, else this checkout's `origin` remote (https form)."""
    url = os.environ.get("COURSE_REPO_URL", "").strip()
    if not url:
        try:
            done = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "remote", "get-url", "origin"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            url = done.stdout.strip() if done.returncode == 0 else ""
        except OSError:
            url = ""
    ssh = re.match(r"^git@([\w.-]+):(.+)$", url)
    if ssh:
        url = f"https://{ssh[1]}/{ssh[2]}"
    url = re.sub(r"\.git$", "", url)
    return url if url.startswith("https://") else None


def binder_url(repo: str | None, notebook: str) -> str | None:
    """mybinder.org's link that builds the course from `repo` (on GitHub) and opens `notebook` in JupyterLab."""
    match = re.match(r"^https://github\.com/([\w.-]+)/([\w.-]+)/?$", repo or "")
    if not match:
        return None
    return f"https://mybinder.org/v2/gh/{match[1]}/{match[2]}/HEAD?urlpath=lab/tree/notebooks/{notebook}.ipynb"


def run_it(repo: str | None, notebook: str | None) -> str:
    """The "Run it" line of a page: how to get this notebook running on your machine (and on Binder)."""
    folder = re.sub(r"\.git$", "", (repo or "").rstrip("/").rsplit("/", 1)[-1]) or "background-jobs"
    get = f"`git clone {repo} && cd {folder} && make lab`" if repo else "in your copy of the course, `make lab`"
    opens = (
        f", then open `notebooks/{notebook}.ipynb`" if notebook else ", which opens `notebooks/01_slow_request.ipynb`"
    )
    line = f"**Run it:** {get}{opens} (the first `make lab` sets everything up)."
    binder = binder_url(repo, notebook or "01_slow_request")
    if binder:
        line += f" Or, with nothing installed: [run it on Binder]({binder})."
    return line


def rails_table(notebook_01: Any) -> str:
    """The Rails mapping table from notebook 01's "Coming from the Rails lesson?" cell."""
    for cell in notebook_01.cells:
        if cell.cell_type == "markdown" and cell.source.startswith(RAILS_CELL_HEADING):
            rows = [line for line in cell.source.splitlines() if line.startswith("|")]
            if rows:
                return "\n".join(rows) + "\n"
    raise SiteError(f"notebook 01 has no markdown cell starting '{RAILS_CELL_HEADING}' with a table")


def title_of(nb: Any, name: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, re.M)
            if match:
                return match[1].strip()
    raise SiteError(f"{name}.ipynb has no level-1 heading")


def landing_page(readme: str, notebook_01: Any, titles: dict[str, str], repo: str | None) -> str:
    """index.md: what the course teaches, the two commands, the notebooks in order, the Rails mapping."""
    parts = sections(readme)
    opening = parts[""]
    title = re.match(r"^# (.+)$", opening, re.M)
    if not title:
        raise SiteError("README.md does not start with a level-1 heading")
    intro = opening[title.end() :].split("\n```bash", 1)
    commands = re.search(r"```bash\n(.*?)```", opening, re.S)
    if not commands:
        raise SiteError("README.md: no ```bash block with the two commands in its opening")
    table = parts[NOTEBOOK_TABLE_HEADING]
    table = re.sub(  # each notebook's name becomes a link to its page, named by its title
        r"^\| `(\w+)` \|", lambda m: f"| [{titles[m[1]]}](notebooks/{m[1]}.ipynb) |", table, flags=re.M
    )
    toctree = "\n".join(f"notebooks/{name}" for name in titles)
    return f"""# {title[1]}

{intro[0].strip()}

```bash
{commands[1].strip()}
```

{run_it(repo, None)}

## What each notebook teaches

{table.strip()}

## Coming from the Rails lesson?

Where each name of the Rails lesson (*Intro to Background Workers*, ActiveJob and Sidekiq) went, from notebook
[01](notebooks/01_slow_request.ipynb):

{rails_table(notebook_01)}
## Setting it up elsewhere

On a JupyterHub, on Binder or in a Codespace: [](setup.md). Teaching it live: [](instructor.md).

```{{toctree}}
:caption: Notebooks
:hidden:

{toctree}
```

```{{toctree}}
:caption: More
:hidden:

setup
instructor
```
"""


def setup_page(readme: str, repo: str | None) -> str:
    body = sections(readme).get(SETUP_HEADING)
    if body is None:
        raise SiteError(f"README.md has no '## {SETUP_HEADING}' section")
    return f"# {SETUP_HEADING}\n\n{run_it(repo, None)}\n\n{body}"


# --- a notebook's page ---------------------------------------------------------------------------------------------


def _solution_shown(source: str) -> str:
    """An instructor cell's source as the solution to show: the marker lines left out."""
    markers = (CODE.begin, CODE.end, CODE.placeholder)
    return "\n".join(line for line in source.split("\n") if not any(m.match(line) for m in markers))


def _tagged(cell: Any, tag: str, show: str | None = None, hide: str | None = None) -> None:
    metadata = cell.setdefault("metadata", {})
    metadata["tags"] = [*metadata.get("tags", []), tag]
    if show:
        metadata["mystnb"] = {"code_prompt_show": show, "code_prompt_hide": hide or show}


def _with_snapshots(cell: Any, snapshots: dict[str, str]) -> None:
    """A course widget's output gets the stored static HTML of its last state (its text stays as the fallback)."""
    for output in cell.get("outputs", []):
        key = (output.get("metadata") or {}).get(WIDGET_KEY)
        if key in snapshots and "data" in output:
            output["data"]["text/html"] = snapshots[key]
        if "text/html" in output.get("data", {}):
            html = output["data"]["text/html"]
            output["data"]["text/html"] = _local_pages_unlinked("".join(html) if isinstance(html, list) else html)


LOCAL_PAGE = r"https?://(?:127\.0\.0\.1|localhost)[:/][^\"']*"


def _local_pages_unlinked(html: str) -> str:
    """A link to, or a frame of, a page of the course's own running services (Work-It on 127.0.0.1, ...) says what
    it is instead: on the site there is no such page, and nothing may be requested outside the site."""
    html = re.sub(
        rf"<iframe[^>]*src=[\"']{LOCAL_PAGE}[\"'][^>]*>.*?</iframe>",
        lambda m: (
            "<p><em>(Here the notebook shows "
            + (re.search(r'title="([^"]*)"', m[0]) or ["", "a page of the course"])[1]
            + ", live from the services it runs: run the notebook to see it.)</em></p>"
        ),
        html,
        flags=re.S,
    )
    return re.sub(
        rf"<a [^>]*href=[\"']{LOCAL_PAGE}[\"'][^>]*>(.*?)</a>",
        r"<span>\1</span> <em>(a page of the course's running app: run the notebook to open it)</em>",
        html,
        flags=re.S,
    )


def notebook_page(instructor: Any, name: str, repo: str | None) -> Any:
    """The page of one notebook: the instructor edition's outputs, each exercise as the learner sees it with its
    solution and its check's stored result folded, the widgets' snapshots, and a "Run it" line after the title."""
    learner = {cell.id: cell for cell in learner_source(instructor, name).cells}
    snapshots = instructor.metadata.get(SNAPSHOTS, {})
    page = copy.deepcopy(instructor)
    page.metadata.pop(SNAPSHOTS, None)
    cells: list[Any] = []
    after_solution = False
    for cell in page.cells:
        if DROP_TAG in cell.get("metadata", {}).get("tags", []):
            continue  # not in the learner edition: not on the site
        if cell.cell_type == "markdown" and "<!-- BEGIN SOLUTION -->" in cell.source:
            raise SiteError(f"{name}: a markdown solution (not supported by the site yet: fold it in tools/site.py)")
        _with_snapshots(cell, snapshots)
        if cell.cell_type == "code" and any(CODE.begin.match(line) for line in cell.source.split("\n")):
            placeholder = copy.deepcopy(learner[cell.id])
            placeholder.id = f"{cell.id}-learner"[-64:]
            _tagged(placeholder, "exercise-placeholder")
            cell.source = _solution_shown(cell.source)
            _tagged(cell, "exercise-solution", show="Solution", hide="Hide the solution")
            _tagged(cell, "hide-cell")
            cells += [placeholder, cell]
            after_solution = True
            continue
        if after_solution and cell.cell_type == "code" and ".check(" in cell.source and cell.get("outputs"):
            _tagged(cell, "exercise-check", show="The check's result, on the solution", hide="Hide the result")
            _tagged(cell, "hide-output")
        after_solution = False
        cells.append(cell)
    title = next(c for c in cells if c.cell_type == "markdown" and re.search(r"^# ", c.source, re.M))
    title.source = re.sub(r"^(# .+)$", lambda m: f"{m[1]}\n\n{run_it(repo, name)}\n", title.source, count=1, flags=re.M)
    page.cells = cells
    return page


# --- writing the sources and building ------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    """Write only what changed, so that Sphinx rebuilds only the pages whose sources changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_sources(source: Path, repo: str | None, instructor_dir: Path = INSTRUCTOR_DIR) -> list[str]:
    """The site's sources in `source`, from the notebooks in `instructor_dir`; returns their names in order."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    order = notebook_order(readme)
    on_disk = sorted(p.stem for p in instructor_dir.glob("*.ipynb"))
    if sorted(order) != on_disk:
        raise SiteError(f"README.md's table lists {sorted(order)}, instructor/ holds {on_disk}: make them agree")
    notebooks = {name: read(instructor_dir / f"{name}.ipynb") for name in order}
    titles = {name: title_of(nb, name) for name, nb in notebooks.items()}
    _write(source / "index.md", landing_page(readme, notebooks["01_slow_request"], titles, repo))
    _write(source / "setup.md", setup_page(readme, repo))
    _write(source / "instructor.md", (REPO_ROOT / "INSTRUCTOR.md").read_text(encoding="utf-8"))
    wanted = {"index.md", "setup.md", "instructor.md"}
    for name in order:
        page = notebook_page(notebooks[name], name, repo)
        page.metadata["title"] = titles[name]
        for cell in page.cells:
            cell.source = cell.source.splitlines(keepends=True)
        _write(source / "notebooks" / f"{name}.ipynb", json.dumps(page, indent=1, ensure_ascii=False) + "\n")
        wanted.add(f"notebooks/{name}.ipynb")
    for path in source.rglob("*"):  # a page whose notebook is gone goes too
        if path.is_file() and str(path.relative_to(source)) not in wanted:
            path.unlink()
    return order


def build(out: Path = DEFAULT_OUT, *, quiet: bool = True, instructor_dir: Path = INSTRUCTOR_DIR) -> int:
    """Write the sources beside `out` and run Sphinx on them (warnings are errors); returns Sphinx's status."""
    from sphinx.cmd.build import build_main

    source = out.parent / f"{out.name}-src"
    doctrees = out.parent / f"{out.name}-doctrees"
    write_sources(source, repository_url(), instructor_dir)
    args = ["-b", "html", "-W", "--keep-going", "-c", str(CONF_DIR), "-d", str(doctrees), str(source), str(out)]
    return build_main([*(["-q"] if quiet else []), *args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the site goes (default _build/site)")
    parser.add_argument(
        "--instructor", type=Path, default=INSTRUCTOR_DIR, metavar="DIR", help="the notebooks (default instructor/)"
    )
    parser.add_argument("--clean", action="store_true", help="start from nothing (no cached pages)")
    parser.add_argument("--verbose", action="store_true", help="Sphinx's progress lines")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.clean:
        # (myst-nb writes the outputs' files, pictures, into jupyter_execute/ beside the site, then copies them in)
        for path in (
            out,
            out.parent / f"{out.name}-src",
            out.parent / f"{out.name}-doctrees",
            out.parent / "jupyter_execute",
        ):
            shutil.rmtree(path, ignore_errors=True)
    started = time.monotonic()
    try:
        status = build(out, quiet=not args.verbose, instructor_dir=args.instructor.resolve())
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if status == 0:
        print(f"The site is in {out} ({time.monotonic() - started:.1f} s): open {out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
