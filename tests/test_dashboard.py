"""The dashboards: rq-dashboard as a course service, the inline widget with its buttons, and `rq info`.

Real processes only: the course's Redis, rq-dashboard, and burst workers that really run (and fail) jobs.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from rq.job import Job

from support import dashboard
from support.rq_helpers import queues, workers
from support.services import access, processes


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(url, headers=access.headers()), timeout=5) as response:
        return response.status, response.read()


def _shown(widget: dashboard.DashboardWidget, queue: str, column: str) -> int:
    """The number the widget's table shows for `queue` and `column` (read from its HTML, as a learner sees it)."""
    match = re.search(rf'title="{queue}: {column}"[^>]*>(\d+)<', widget.counts.value)
    assert match, widget.counts.value
    return int(match.group(1))


def _run_burst_worker() -> None:
    """Run a real burst worker (no fork, no scheduler) until the queues are empty and it has exited."""
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    assert processes.wait_until(lambda: not service.alive(), 15, 0.05), "the burst worker did not finish"


@pytest.fixture
def widget(shared_course: Path) -> Iterator[dashboard.DashboardWidget]:
    view = dashboard.DashboardWidget(interval=0.05)
    yield view
    view.close()


def test_dashboard_serves_on_loopback_only_and_starts_once(course_home: Path) -> None:
    service = dashboard.start()
    status, page = _get(service.url)
    assert status == 200 and b"RQ" in page
    listening = {c.laddr.ip for c in psutil.Process(service.pid).net_connections("tcp") if c.status == "LISTEN"}
    assert listening == {"127.0.0.1"}
    assert service.url == f"http://127.0.0.1:{service.port}/"
    again = dashboard.start()
    assert (again.pid, again.port) == (service.pid, service.port)
    assert dashboard.status() == service
    assert repr(dashboard.embed()) == "DashboardFrame(the rq-dashboard page)"
    assert service.url in dashboard.embed()._repr_html_()
    assert dashboard.stop() and dashboard.status() is None
    assert not processes.process_alive(service.pid, service.started)


def test_its_json_api_counts_the_course_queues(shared_course: Path) -> None:
    mailers = queues.queue("mailers")
    for _ in range(4):
        mailers.enqueue("time.sleep", 0)
    queues.queue("urgent").enqueue("time.sleep", 0)
    _, body = _get(dashboard.start().url + "0/data/queues.json")
    counts = {q["name"]: q["count"] for q in json.loads(body)["queues"]}
    assert counts == {"mailers": 4, "urgent": 1}  # rq lists a queue once a job was put on it


def test_snapshot_counts_queued_jobs_exactly(shared_course: Path) -> None:
    for name, n in (("urgent", 3), ("default", 2)):
        for _ in range(n):
            queues.queue(name).enqueue("time.sleep", 0)
    snap = dashboard.snapshot()
    assert {name: row["queued"] for name, row in snap["queues"].items()} == {"urgent": 3, "mailers": 0, "default": 2}
    assert snap["workers"] == [] and snap["failed"] == []
    table = dashboard.counts_table(snap).splitlines()
    assert table[0].split() == ["queue", *dashboard.COLUMNS]
    assert table[1].split() == ["urgent", "3", "0", "0", "0", "0", "0"]


def test_failed_jobs_show_their_error_and_the_buttons_requeue_and_delete(widget: dashboard.DashboardWidget) -> None:
    default = queues.queue("default")
    sqrt = default.enqueue("math.sqrt", -1)
    div = default.enqueue("operator.truediv", 1, 0)
    pow_ = default.enqueue("math.pow", 0, -1)
    _run_burst_worker()

    snap = dashboard.snapshot()
    errors = {f["id"]: f["error"] for f in snap["failed"]}
    assert errors == {
        sqrt.id: "ValueError: math domain error",
        div.id: "ZeroDivisionError: division by zero",
        pow_.id: "ValueError: math domain error",
    }
    assert snap["queues"]["default"]["failed"] == 3 and snap["queues"]["default"]["queued"] == 0
    assert "operator.truediv(1, 0)  ->  ZeroDivisionError: division by zero" in dashboard.failed_table(snap)

    widget.refresh()
    assert "ZeroDivisionError: division by zero" in widget.html
    row = widget._row_ids.index(sqrt.id)
    # each button's name (what a screen reader says) names its job, and its tooltip says which call that was
    assert widget.requeue_buttons[row].description == f"Requeue {sqrt.id[:8]}"
    assert widget.delete_buttons[row].description == f"Delete {sqrt.id[:8]}"
    assert "math.sqrt(-1)" in widget.requeue_buttons[row].tooltip and sqrt.id[:8] in widget.delete_buttons[row].tooltip
    widget.requeue_buttons[row].click()
    assert (_shown(widget, "default", "queued"), _shown(widget, "default", "failed")) == (1, 2)
    assert default.get_job_ids() == [sqrt.id]

    widget.delete_buttons[widget._row_ids.index(div.id)].click()
    assert _shown(widget, "default", "failed") == 1
    assert not Job.exists(div.id, connection=default.connection)
    assert div.id not in widget._row_ids and f"Deleted job {div.id[:8]}." in widget.status.value

    widget.requeue_all_button.click()
    assert (_shown(widget, "default", "queued"), _shown(widget, "default", "failed")) == (2, 0)
    assert "Requeued 1 failed job." in widget.status.value
    assert widget.requeue_all_button.disabled


def test_the_widget_follows_a_worker_live(widget: dashboard.DashboardWidget) -> None:
    default = queues.queue("default")
    for _ in range(8):
        default.enqueue("time.sleep", 0.15)
    assert processes.wait_until(lambda: _shown(widget, "default", "queued") == 8, 2)
    seen_queued: list[int] = []
    seen_busy = False
    service = workers.start_worker(burst=True, simple=True, with_scheduler=False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the thread updates the widget: the test only reads it
        seen_queued.append(_shown(widget, "default", "queued"))
        seen_busy = seen_busy or ">busy<" in widget.workers.value
        if seen_queued[-1] == 0 and _shown(widget, "default", "finished") == 8:
            break
        time.sleep(0.02)
    assert seen_queued[-1] == 0 and _shown(widget, "default", "finished") == 8
    assert any(0 < n < 8 for n in seen_queued), seen_queued  # it changed while jobs ran, not only at the end
    assert seen_busy
    assert processes.wait_until(lambda: not service.alive(), 10, 0.05)
    assert processes.wait_until(lambda: "No worker is running" in widget.workers.value, 5)
    assert repr(widget) == "DashboardWidget(live view of the course's queues)"


def test_rq_info_reports_the_course_queues(shared_course: Path) -> None:
    queues.queue("mailers").enqueue("time.sleep", 0)
    info = dashboard.rq_info()
    assert "Updated:" in info
    stable = dashboard.rq_info(stable=True)
    lines = stable.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["urgent", "mailers", "default"]
    assert lines[1].endswith("1, 0 executing, 0 finished, 0 failed")
    assert "3 queues, 1 jobs total" in stable and "0 workers, 3 queues" in stable
    assert "Updated:" not in stable
