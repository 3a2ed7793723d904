"""The ActiveJob-like layer and the worker in a second kernel, against real Redis, real workers and the catcher."""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest

from support import active_job, cli
from support.lessons.kernels import WorkerKernel
from support.rq_helpers import queues, workers
from support.services import inbox, mailcatcher, processes, state

JOB_MODULE = """
from support.active_job import ActiveJob
from support.workit.mailer import deliver


class GifSenderJob(ActiveJob):
    queue_as = "mailers"

    def perform(self, email, thought):
        return deliver(email, thought, delay=0.3)
"""


@pytest.fixture
def job_class(shared_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "gif_sender_job.py").write_text(textwrap.dedent(JOB_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("gif_sender_job", None)
    mailcatcher.start()
    active_job.set_queue_adapter("rq")
    yield importlib.import_module("gif_sender_job").GifSenderJob
    active_job.set_queue_adapter("rq")
    sys.modules.pop("gif_sender_job", None)


def test_perform_now_blocks_for_the_slow_step_and_sends(job_class) -> None:
    started = time.perf_counter()
    job_class.perform_now("ada@example.com", "coffee")
    assert time.perf_counter() - started >= 0.3
    assert inbox.wait_for(1, timeout=5)[0].to == ["ada@example.com"]


def test_perform_later_enqueues_on_queue_as_and_returns_at_once(job_class) -> None:
    # "At once" is what happened, not a stopwatch (a timed bound fails on a busy machine; benchmarks/run.py times
    # an enqueue): it returned with the job still queued and nothing sent, so the slow step did not run in here.
    job = job_class.perform_later("ada@example.com", "coffee")
    assert job.get_status() == "queued"
    assert job.origin == "mailers" and queues.queue("mailers").job_ids == [job.id]
    assert list(job.args) == ["gif_sender_job:GifSenderJob", ["ada@example.com", "coffee"]]
    assert inbox.count() == 0  # nothing is sent until a worker runs it


def test_a_worker_process_runs_the_job_from_the_module_file(job_class, tmp_path: Path) -> None:
    job = job_class.perform_later("grace@example.com", "cat")
    workers.start_worker(["mailers"], path=tmp_path, simple=True, with_scheduler=False)
    message = inbox.wait_for(1, timeout=10)[0]
    assert message.to == ["grace@example.com"] and "cat" in message.text
    assert processes.wait_until(lambda: job.get_status(refresh=True) == "finished", 5)


def test_the_inline_adapter_runs_perform_later_at_once(job_class) -> None:
    active_job.set_queue_adapter("inline")
    job_class.perform_later("ada@example.com", "rain")
    assert queues.queue("mailers").count == 0 and inbox.wait_for(1, timeout=5)[0].to == ["ada@example.com"]


def test_a_job_class_from_main_is_refused_with_an_explanation(shared_course: Path) -> None:
    cls = type("CellJob", (active_job.ActiveJob,), {"__module__": "__main__", "perform": lambda self: None})
    with pytest.raises(ValueError, match="cannot import it"):
        cls.perform_later()
    with pytest.raises(ValueError, match="Unknown queue adapter"):
        active_job.set_queue_adapter("sidekiq")


@pytest.mark.slow
def test_a_worker_in_a_second_kernel_runs_jobs_and_stops_cleanly(job_class, tmp_path: Path, capsys) -> None:
    kernel = WorkerKernel(["mailers"], cwd=tmp_path, simple=True).start()
    try:
        assert kernel.name in state.read()
        capsys.readouterr()
        cli.main(["status"])
        assert re.search(rf"^  {kernel.name} +- +\d+  ok ", capsys.readouterr().out, re.M), "status hides it"
        job = job_class.perform_later("linus@example.com", "code")
        assert inbox.wait_for(1, timeout=10)[0].to == ["linus@example.com"]
        assert processes.wait_until(lambda: job.get_status(refresh=True) == "finished", 5)
        assert processes.wait_until(lambda: any("Job OK" in line for line in kernel.log.lines), 5)
        assert "urgent" not in kernel.log.lines[0:20] and any("mailers" in line for line in kernel.log.lines)
    finally:
        pid = state.get(kernel.name)["pid"]
        kernel.stop()
    assert kernel.name not in state.read()
    assert processes.wait_until(
        lambda: not processes.process_alive(pid, 0) and not any(p.pid == pid for p in processes.course_processes()), 10
    )
    assert repr(kernel.log) == "LogView('Worker log (second kernel)')"


def test_set_sends_one_job_to_another_queue(job_class) -> None:
    job = job_class.set(queue="urgent").perform_later("ada@example.com", "coffee")
    assert job.origin == "urgent" and queues.queue("urgent").job_ids == [job.id]
    assert job.description == "GifSenderJob.perform('ada@example.com', 'coffee')"
    assert job_class.queue_as == "mailers" and job_class.perform_later("b@example.com", "x").origin == "mailers"
    assert repr(job_class.set(queue="urgent")) == "GifSenderJob.set(queue='urgent')"
    assert job_class.set().queue == "mailers"
    with pytest.raises(ValueError, match="Unknown queue 'fast'"):
        job_class.set(queue="fast")


def test_using_adapter_switches_for_a_block_and_always_back(job_class) -> None:
    with active_job.using_adapter("inline"):
        assert active_job.queue_adapter() == "inline"
        message_id = job_class.perform_later("ada@example.com", "inline")
    assert isinstance(message_id, str) and queues.queue("mailers").count == 0
    assert inbox.wait_for(1, timeout=5)[0].to == ["ada@example.com"]
    assert active_job.queue_adapter() == "rq"
    with pytest.raises(RuntimeError), active_job.using_adapter("inline"):
        raise RuntimeError("a job failed")
    assert active_job.queue_adapter() == "rq"
    with pytest.raises(ValueError, match="Unknown queue adapter"), active_job.using_adapter("sidekiq"):
        pass
    assert active_job.queue_adapter() == "rq"


@pytest.mark.slow
def test_start_worker_kernel_reuses_or_replaces_and_never_leaks(job_class, tmp_path: Path) -> None:
    from rq import Worker

    from support.lessons import kernels

    def kernel_entries() -> list[str]:
        return [name for name in state.read() if name.startswith(kernels.KERNEL_PREFIX)]

    first = kernels.start_worker_kernel(["mailers"], cwd=tmp_path, simple=True, with_scheduler=False)
    try:
        assert "course-log" in first.log._dom_classes
        again = kernels.start_worker_kernel(["mailers"], cwd=tmp_path, simple=True, with_scheduler=False)
        assert again is first and kernel_entries() == [first.name]  # a cell run twice: the same worker
        other = kernels.start_worker_kernel(["urgent", "mailers"], cwd=tmp_path, simple=True, with_scheduler=False)
        assert other is not first and not first.running and other.running
        assert kernel_entries() == [other.name]  # the first one was stopped, not left behind
        assert [w.name for w in Worker.all(connection=queues.connection())] == [other.rq_name]
        job = job_class.perform_later("grace@example.com", "cat")
        assert inbox.wait_for(1, timeout=10)[0].to == ["grace@example.com"]
        assert processes.wait_until(lambda: job.get_status(refresh=True) == "finished", 5)
    finally:
        assert kernels.stop_worker_kernel() is True
    assert kernels.stop_worker_kernel() is False and kernel_entries() == []
    assert processes.wait_until(lambda: not Worker.all(connection=queues.connection()), 5)


def test_the_worker_kernel_keeps_its_own_output_out_of_the_notebook(
    shared_course: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    kernel = WorkerKernel(["default"], cwd=tmp_path, simple=True, with_scheduler=False).start()
    try:
        assert processes.wait_until(lambda: any("Listening on" in line for line in kernel.log.lines), 10)
    finally:
        kernel.stop()
    assert "Kernel is running" not in capfd.readouterr().err  # Jupyter's start-up warning went to the log file
    assert state.log_path(kernel.name).exists()


def test_the_log_view_shows_the_last_lines_escaped_with_a_fixed_repr() -> None:
    from support.lessons.kernels import LogView

    view = LogView("Worker log", max_lines=3)
    assert "(nothing yet)" in view.value and "course-log" in view._dom_classes
    view.append("one\ntwo\n")
    view.append("<b>three</b>\nfour\nfive\n")
    assert view.lines == ["one", "two", "<b>three</b>", "four", "five"]
    assert "&lt;b&gt;three&lt;/b&gt;\nfour\nfive</pre>" in view.value and "two" not in view.value
    assert "the last 3 of 5 lines" in view.value
    assert repr(view) == "LogView('Worker log')"
