"""The Work-It app imports the learner's controller file again only when it, or a Python file beside it, changed:
not on every request. Against the real app process, Redis and mail catcher."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from support.services import app, course
from support.workit import controller

CONTROLLER = """from pathlib import Path

with open(Path(__file__).with_name("imports.log"), "a") as log:  # one line per import of this file
    log.write("controller\\n")
from gif_sender_job import GifSenderJob


def create(email, thought):
    return GifSenderJob.perform_later(email, thought)
"""
JOB_MODULE = """from pathlib import Path

from support.active_job import ActiveJob
from support.workit.mailer import deliver

with open(Path(__file__).with_name("imports.log"), "a") as log:
    log.write("job\\n")


class GifSenderJob(ActiveJob):
    queue_as = "mailers"

    def perform(self, email, thought):
        deliver(email, thought)
"""


@pytest.fixture
def folder(shared_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    notebook = tmp_path / "notebook"
    notebook.mkdir()
    (notebook / "gif_sender_job.py").write_text(JOB_MODULE)
    (notebook / "mailers_controller.py").write_text(CONTROLLER)
    monkeypatch.chdir(notebook)
    # another test in this process may have imported a gif_sender_job of its own folder: this one must be imported
    monkeypatch.delitem(sys.modules, "gif_sender_job", raising=False)
    return notebook


def _imports(folder: Path) -> list[str]:
    return (folder / "imports.log").read_text().split()


def _later(path: Path) -> None:
    """Edit-time of `path` a second on (a file system may keep coarse times; an edit always moves it on)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_the_app_imports_the_controller_again_only_when_a_file_changed(folder: Path) -> None:
    path = folder / "mailers_controller.py"
    course.up("redis", "app", delivery="controller", controller=path, delay=0, quiet=True)
    for n in range(3):
        assert app.post_thought(f"n{n}@example.com", "queued")["job_id"]
    assert _imports(folder) == ["controller", "job"]  # three requests, one import

    path.write_text(CONTROLLER.replace("perform_later(email, thought)", "perform_later(email, thought.upper())"))
    _later(path)
    assert app.post_thought("edit@example.com", "again")["job_id"]
    assert _imports(folder) == ["controller", "job"] * 2  # the edit counts, and its neighbour comes afresh too

    _later(folder / "gif_sender_job.py")  # the job module beside it changed
    assert app.post_thought("job@example.com", "again")["job_id"]
    assert app.post_thought("job2@example.com", "again")["job_id"]
    assert _imports(folder) == ["controller", "job"] * 3


def test_load_keeps_the_module_while_nothing_changed(folder: Path) -> None:
    path = folder / "mailers_controller.py"
    try:
        first = controller.load(path)
        job_module = sys.modules["gif_sender_job"]
        assert controller.load(path) is first and sys.modules["gif_sender_job"] is job_module
        _later(path)
        assert controller.load(path) is not first and sys.modules["gif_sender_job"] is not job_module
        assert _imports(folder) == ["controller", "job"] * 2
    finally:  # this process imported the files: forget them, for the tests that follow here
        sys.modules.pop("gif_sender_job", None)
        sys.path.remove(str(folder.resolve()))


def test_the_controller_imports_the_job_module_beside_it_not_another_folders(tmp_path: Path) -> None:
    """A routes file from another folder (04's, in the learner edition) once put that folder first on the app's
    sys.path, and the instructor's controller then queued the learner's blank GifSenderJob ('Unknown queue ____')."""
    import sys

    from support.workit import controller, routes_loader

    other, mine = tmp_path / "other", tmp_path / "mine"
    for folder, word in ((other, "other"), (mine, "mine")):
        folder.mkdir()
        (folder / "neighbour_job.py").write_text(f"WORD = {word!r}\n")
    (other / "routes.py").write_text("import neighbour_job\n\ndef draw(app):\n    pass\n")
    (mine / "mailers_controller.py").write_text(
        "import neighbour_job\n\ndef create(email, thought):\n    return neighbour_job.WORD\n"
    )
    saved = list(sys.path)
    try:
        routes_loader.draw(object(), other / "routes.py")  # type: ignore[arg-type]  # other/ first, its module imported
        assert sys.modules["neighbour_job"].WORD == "other"
        assert controller.load(mine / "mailers_controller.py").create("a", "b") == "mine"
        routes_loader.draw(object(), other / "routes.py")  # type: ignore[arg-type]  # other/ first again
        assert controller.load(mine / "mailers_controller.py").create("a", "b") == "mine"
    finally:
        sys.path[:] = saved
        sys.modules.pop("neighbour_job", None)
