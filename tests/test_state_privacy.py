"""The state folder is its owner's alone: folders 0700, files 0600, whoever writes them (this process, Redis, the
mail catcher); one left readable by an older checkout is tightened on first use."""

from __future__ import annotations

import os
import smtplib
import stat
from email.message import EmailMessage
from pathlib import Path

from support.rq_helpers import queues
from support.services import course, inbox, processes, redis_server, state


def _modes(top: Path) -> dict[str, int]:
    """Every folder and file under `top` (itself included), relative path -> permission bits."""
    found = {".": stat.S_IMODE(top.stat().st_mode)}
    for path in top.rglob("*"):
        found[str(path.relative_to(top))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _open_to_others(top: Path) -> dict[str, str]:
    return {name: oct(mode) for name, mode in _modes(top).items() if mode & 0o077}


def test_everything_the_course_writes_is_private(course_home: Path) -> None:
    services = course.up("redis", "catcher", quiet=True)
    queues.queue("default").enqueue("support.jobs.send_gif_email", "a@example.com", "x")  # into the AOF
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "me@example.com", "you@example.com", "private"
    message.set_content("only for me")
    with smtplib.SMTP("127.0.0.1", services["catcher"].port, timeout=10) as smtp:
        smtp.send_message(message)
    assert processes.wait_until(lambda: len(inbox.to_address("you@example.com")) == 1, 10)
    modes = _modes(course_home)
    for must in (
        "state.json",
        "state.lock",
        "redis-password",
        "redis.conf",
        "logs/redis.log",
        "logs/catcher.log",
        "redis/appendonlydir/appendonly.aof.manifest",
    ):
        assert modes.get(must) == 0o600, (must, modes.get(must))
    assert any(name.startswith("maildir/new/") for name in modes)
    assert any(name.endswith(".incr.aof") for name in modes)
    assert _open_to_others(course_home) == {}, _open_to_others(course_home)
    assert {oct(m) for m in modes.values()} <= {"0o700", "0o600"}


def test_an_open_state_folder_from_an_older_checkout_is_tightened(course_home: Path) -> None:
    # What an older checkout left: 0755 folders, 0644 files (its umask 022), the data of a running course.
    redis_server.start()
    redis_server.connect().set("kept", "yes")
    redis_server.stop()
    for path in [course_home, *course_home.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert _open_to_others(course_home)

    assert state.home() == course_home  # first use
    assert _open_to_others(course_home) == {}
    assert redis_server.connect().get("kept") == b"yes"  # nothing lost
