"""support.lessons.redis_acl against the course's real Redis: a JSON job resolves any dotted path (rq 3.0.0
rq/utils.py import_attribute), and an ACL user without @dangerous is refused CONFIG and FLUSHALL, yet can enqueue and
work a job; the user is removed afterwards, even when the block fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.lessons import redis_acl
from support.rq_helpers import queues


def test_a_json_job_naming_os_system_resolves_to_it_without_running(redis_up: Path) -> None:
    named = redis_acl.resolve_without_running("os.system", "echo never run", serializer="json")
    assert named.func is os.system
    assert named.stored == '["os.system", null, ["echo never run"], {}]'
    assert not list(queues.connection().scan_iter("rq:job:*"))  # saved, read back and deleted again


@pytest.mark.slow
def test_a_user_without_dangerous_commands_is_refused_admin_but_can_enqueue_and_work(redis_up: Path) -> None:
    with redis_acl.limited_user() as user:
        assert redis_acl.user_exists(user.name)
        assert redis_acl.try_command(user, "PING") == "OK"
        assert redis_acl.try_command(user, "FLUSHALL").startswith("NOPERM")
        assert redis_acl.try_command(user, "CONFIG", "GET", "dir").startswith("NOPERM")
        assert redis_acl.try_command(user, "ACL", "SETUSER", user.name, "+@all").startswith("NOPERM")
        assert redis_acl.enqueue_and_work(user) == "finished, result 0.1"
    assert not redis_acl.user_exists(user.name)


def test_the_user_is_removed_when_the_block_fails(redis_up: Path) -> None:
    with pytest.raises(RuntimeError), redis_acl.limited_user("workit-test") as user:
        assert redis_acl.user_exists(user.name)
        raise RuntimeError("the cell failed")
    assert not redis_acl.user_exists("workit-test")
