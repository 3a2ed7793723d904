"""Work-It's export (notebook 08) over real HTTP, with a real Redis and a real worker: progress through job.meta,
the result, the failure, an expired or unknown id, the token, bad input, and the Server-Sent Events stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from rq.job import Job

from support.lessons import results
from support.rq_helpers import queues, workers
from support.services import access, course
from support.workit import export_status, exports

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Redis, Work-It and one worker on default, in a state folder of this module's own; yields the app's URL."""
    home = tmp_path_factory.mktemp("exports") / "course"
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSE_HOME", str(home))
    mp.delenv("REDIS_URL", raising=False)
    try:
        started = course.up("redis", "app", delivery="background", delay=0, quiet=True)
        workers.start_worker(["default"], with_scheduler=False)
        yield started["app"].url
    finally:
        course.down()
        mp.undo()


def post(base: str, headers: dict | None = None, **fields: object) -> requests.Response:
    return requests.post(
        base + "/exports",
        data=fields,
        headers=headers if headers is not None else {**JSON, **access.headers()},
        timeout=30,
        allow_redirects=False,
    )


def status(base: str, url: str, headers: dict | None = None) -> requests.Response:
    return requests.get(
        f"{base}/{url}", headers=headers if headers is not None else {**JSON, **access.headers()}, timeout=30
    )


def test_the_export_reports_progress_then_its_result(running: str) -> None:
    started = post(running, thoughts="Coffee first\n<script>alert(1)</script>", steps=3, step_delay=0, hold_at=2)
    assert started.status_code == 200
    links = started.json()
    assert links["status_url"] == f"exports/{links['job_id']}/status" and links["page_url"].startswith("exports/")
    job = Job.fetch(links["job_id"], connection=queues.connection())
    assert results.wait_for_step(job, 2)  # held there: the answer below cannot race the job
    answer = status(running, links["status_url"]).json()
    assert answer == {"state": "started", "percent": 67, "result": None, "error": None}
    results.resume(job)
    assert results.wait_done(job) == "finished"
    answer = status(running, links["status_url"]).json()
    assert answer["state"] == "finished" and answer["percent"] == 100
    assert answer["result"] == {"thoughts": 2, "text": "1. Coffee first\n2. <script>alert(1)</script>"}
    assert 0 < queues.connection().ttl(job.key) <= exports.RESULT_TTL


def test_the_page_escapes_what_the_job_returns(running: str) -> None:
    page = requests.get(f"{running}/exports/abc/", headers=access.headers(), timeout=30)
    assert page.status_code == 200 and 'role="status"' in page.text and "<progress" in page.text
    assert "innerHTML" not in page.text and "result.textContent" in page.text  # a thought is text, never markup
    assert 'fetch("status"' in page.text  # relative: works behind Jupyter's proxy


def test_a_failed_export_says_why(running: str) -> None:
    links = post(running, thoughts="x", steps=3, step_delay=0, fail_at=2).json()
    job = Job.fetch(links["job_id"], connection=queues.connection())
    assert results.wait_done(job) == "failed"
    answer = status(running, links["status_url"]).json()
    assert answer["state"] == "failed" and answer["percent"] == 33
    assert answer["error"] == "RuntimeError: The export failed at step 2 of 3 (on purpose)"
    assert 0 < queues.connection().ttl(job.key) <= exports.FAILURE_TTL


@pytest.mark.parametrize("job_id", ["0123456789abcdef0123456789abcdef", "x" * 65, "a b", "rq:queues"])
def test_an_unknown_or_malformed_id_is_expired_not_a_server_error(running: str, job_id: str) -> None:
    response = status(running, f"exports/{job_id}/status")
    assert response.status_code == 404
    assert response.json() == {"state": "expired", "percent": None, "result": None, "error": export_status.EXPIRED}


def test_a_path_in_the_id_is_not_found_never_a_server_error(running: str) -> None:
    assert status(running, "exports/..%2F..%2Fhealth/status").status_code == 404


def test_an_expired_result_is_expired(running: str) -> None:
    links = post(running, thoughts="x", steps=1, step_delay=0).json()
    job = Job.fetch(links["job_id"], connection=queues.connection())
    assert results.wait_done(job) == "finished"
    job.delete()  # what Redis does when result_ttl runs out: the job's keys are gone
    assert status(running, links["status_url"]).json()["state"] == "expired"


def test_without_the_token_every_export_route_is_refused(running: str) -> None:
    assert post(running, headers=JSON, thoughts="x").status_code == 403
    assert status(running, "exports/abc/status", headers=JSON).status_code == 403
    assert requests.get(f"{running}/exports/abc/", timeout=30).status_code == 403
    assert requests.get(f"{running}/exports", headers={access.HEADER: "not-the-token"}, timeout=30).status_code == 403


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"thoughts": "   "}, "Write at least one thought"),
        ({"thoughts": "x" * (exports.MAX_TEXT + 1)}, "an export takes at most"),
        ({"thoughts": "x", "steps": "0"}, "steps must be from 1 to 50"),
        ({"thoughts": "x", "steps": "many"}, "steps must be a number"),
        ({"thoughts": "x", "step_delay": "60"}, "step_delay must be from 0 to 5"),
        ({"thoughts": "x", "fail_at": "two"}, "fail_at must be a step number"),
    ],
)
def test_bad_input_is_a_400_saying_what_is_wrong(running: str, fields: dict, message: str) -> None:
    response = post(running, **fields)
    assert response.status_code == 400 and message in response.json()["error"]


def test_bad_input_from_the_form_is_escaped_on_the_page(running: str) -> None:
    response = post(running, headers=access.headers(), thoughts="x", steps="<b>many</b>")
    assert response.status_code == 400 and "<b>many</b>" not in response.text and "&lt;b&gt;" in response.text


def test_the_form_redirects_to_the_page_with_a_relative_link(running: str) -> None:
    response = post(running, headers=access.headers(), thoughts="x", steps=1, step_delay=0)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("exports/") and response.headers["Location"].endswith("/")


def test_server_sent_events_push_each_state_until_the_end(running: str) -> None:
    links = post(running, thoughts="x", steps=2, step_delay=0.3).json()
    with requests.get(
        f"{running}/exports/{links['job_id']}/events", headers=access.headers(), stream=True, timeout=30
    ) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [json.loads(line[5:]) for line in response.iter_lines(decode_unicode=True) if line.startswith("data:")]
    assert events[-1]["state"] == "finished" and len(events) >= 2
    assert all(isinstance(event["sent_at"], float) for event in events)  # when the app sent it (the benchmark's)


def test_server_sent_events_tell_nginx_not_to_buffer_the_stream(running: str) -> None:
    """nginx buffers a proxied response unless told otherwise (ngx_http_proxy_module, proxy_buffering); the
    stream's X-Accel-Buffering: no turns that off for this response alone."""
    links = post(running, thoughts="x", steps=1, step_delay=0).json()
    with requests.get(
        f"{running}/exports/{links['job_id']}/events", headers=access.headers(), stream=True, timeout=30
    ) as response:
        assert response.headers["X-Accel-Buffering"] == "no"
        assert response.headers["Cache-Control"] == "no-store"
