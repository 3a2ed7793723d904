"""A check sees what the learner's code would send without patching the mailer for the whole process
(``mailer.stand_in``): another thread's email still goes out while the check runs. Real mail catcher."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from support.checks.jobs import ex_write_job
from support.services import inbox
from support.workit import mailer

# perform starts another thread that sends an email (as the Work-It app or a widget of the same kernel would)
# while the check runs it (twice); each run must see exactly one deliver, its own.
BUSY_JOB = """import threading

from support.active_job import ActiveJob
from support.workit.mailer import deliver


class GifSenderJob(ActiveJob):
    queue_as = "mailers"

    def perform(self, email, thought):
        other = threading.Thread(target=deliver, args=("bystander@example.com", "sent meanwhile", 0))
        other.start()
        other.join()
        deliver(email, thought)
"""


def test_stand_in_answers_in_its_thread_only(services: Path) -> None:
    seen: list[tuple[str, str, float | None]] = []
    answers: list[str] = []

    def record(email: str, thought: str, delay: float | None = None) -> str:
        seen.append((email, thought, delay))
        return "<recorded>"

    with mailer.stand_in(record):
        assert mailer.deliver("me@example.com", "recorded", 3) == "<recorded>"
        other = threading.Thread(target=lambda: answers.append(mailer.deliver("you@example.com", "sent", 0)))
        other.start()
        other.join()
    assert seen == [("me@example.com", "recorded", 3)]
    assert answers[0].startswith("<") and answers[0] != "<recorded>"
    assert len(inbox.wait_for(1, match=lambda m: "you@example.com" in m.to)) == 1
    assert inbox.to_address("me@example.com") == []
    assert mailer.deliver("after@example.com", "sent again", 0) != "<recorded>"  # the block is over


def test_the_job_check_leaves_other_threads_sending(services: Path, tmp_path: Path) -> None:
    path = tmp_path / "gif_sender_job.py"
    path.write_text(BUSY_JOB)
    before = mailer.deliver
    result = ex_write_job.check(str(path))
    sys.modules.pop("gif_sender_job", None)  # the check imported it afresh, under its name
    assert result.correct, result.message  # it saw one deliver: the bystander's went out for real
    assert len(inbox.wait_for(2, match=lambda m: "bystander@example.com" in m.to)) == 2  # perform runs twice
    assert inbox.to_address("probe@example.com") == []  # the check's own probe was recorded, not sent
    assert mailer.deliver is before
