"""support.lessons.durability: a second Redis with the stock settings, killed with kill -9, and filled up."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.lessons import durability
from support.services import state


def test_stock_settings_are_rdb_only_and_noeviction(course_home: Path) -> None:
    # Stock redis.conf and valkey.conf: appendonly no, appendfsync everysec (used once AOF is on), the save rules,
    # no memory cap, noeviction. Asked from a real server started with none of them given.
    assert durability.stock_settings() == {
        "appendonly": "no",
        "appendfsync": "everysec",
        "save": "3600 1 300 100 60 10000",
        "maxmemory": "0",
        "maxmemory-policy": "noeviction",
    }
    assert list((state.home() / "demo-redis").iterdir()) == []  # its folder is gone again


@pytest.mark.slow
def test_kill_9_loses_every_job_by_default_and_none_with_the_append_only_file(course_home: Path) -> None:
    stock = durability.kill9_and_count(10)
    assert stock.settings["appendonly"] == "no" and stock.no_expiry
    assert (stock.queued_after, stock.records_after) == (0, 0)
    aof = durability.kill9_and_count(10, "--appendonly", "yes")
    assert aof.settings == {"appendonly": "yes", "appendfsync": "everysec", "save": "3600 1 300 100 60 10000"}
    assert (aof.queued_after, aof.records_after) == (10, 10)
    assert "0 in the queue and 0 job records" in stock.report()


@pytest.mark.slow
def test_an_evicting_policy_loses_jobs_silently_and_noeviction_refuses(course_home: Path) -> None:
    lru = durability.fill_memory("allkeys-lru")
    assert lru.enqueued == 400 and not lru.refused and lru.lost
    strict = durability.fill_memory("noeviction")
    assert strict.refused == ("redis.exceptions.OutOfMemoryError: command not allowed when used memory > 'maxmemory'.")
    assert 0 < strict.enqueued < 400 and not strict.lost
    assert "an enqueue was refused" in strict.report()


def test_the_server_is_stopped_and_its_folder_removed_when_the_block_fails(course_home: Path) -> None:
    with pytest.raises(RuntimeError, match="on purpose"), durability.demo_server() as server:
        server.start()
        process = server.process
        raise RuntimeError("on purpose")
    assert process is not None and process.poll() is not None
    assert not server.folder.exists()
