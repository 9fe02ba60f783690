"""Several server processes on one database: leases, and wake-ups through LISTEN/NOTIFY.

Storage-level tests run on SQLite and PostgreSQL; the wake-up tests need PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.lowlevel

from jibo_cloud.storage import Storage
from jibo_cloud.storage.instances import (
    close_lapsed,
    live_instances,
    register_instance,
    release_instance,
    renew_instance,
    serve_lease,
)
from jibo_cloud.storage.pubsub import channel, serve_wakeups, wake_holders
from tests.rest.support import SPEC
from tests.storage.backends import BACKENDS, open_test_storage
from tests.support import env
from tests.support.server import test_config as make_config

LEASE = 10_000
ROBOT = str(SPEC.name)


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_test_storage(request.param, tmp_path) as opened:
        yield opened


async def open_session(storage: Storage, session: str, instance: str, now: int) -> None:
    await storage.record_sessions([("open", session, ROBOT, "notification", now)],
                                  instance_id=instance)  # fmt: skip


async def open_ids(storage: Storage) -> set[str]:
    rows = await storage.db.read(
        lambda tx: tx.execute("SELECT instance_id FROM sessions WHERE closed IS NULL")
    )
    return {str(r[0]) for r in rows}


async def test_only_sessions_of_lapsed_instances_are_closed(storage: Storage) -> None:
    await register_instance(storage, "a", 1_000, LEASE)
    await register_instance(storage, "b", 1_000, LEASE)
    await open_session(storage, "s-a", "a", 1_000)
    await open_session(storage, "s-b", "b", 1_000)
    await open_session(storage, "s-old", "", 1_000)  # a row from before leases
    # A third server starting now closes nothing of a or b: their leases are live.
    await register_instance(storage, "c", 2_000, LEASE)
    assert await close_lapsed(storage, 2_000) == ([], 1)  # only the unregistered row
    assert await open_ids(storage) == {"a", "b"}
    # b keeps renewing; a stopped (kill -9) and its lease lapses at 11_000.
    assert await renew_instance(storage, "b", 9_000, LEASE)
    assert await renew_instance(storage, "c", 9_000, LEASE)
    assert await close_lapsed(storage, 10_999) == ([], 0)
    assert await close_lapsed(storage, 11_001) == (["a"], 1)
    assert await open_ids(storage) == {"b"}
    assert await live_instances(storage, 11_001) == ["b", "c"]
    # a comes back (it was only paused): its renewal says so, and it registers again.
    assert not await renew_instance(storage, "a", 12_000, LEASE)


async def test_a_lapsed_instance_loses_its_queued_addresses(storage: Storage) -> None:
    await register_instance(storage, "a", 1_000, LEASE)
    await open_session(storage, "s-a", "a", 1_000)
    await storage.queue_notification(ROBOT, '{"n":1}', 1_500, keep=100)
    (queued,) = await storage.notifications_for_instance("a", 0, 10)
    assert queued.frame == '{"n":1}'
    await close_lapsed(storage, 1_000 + LEASE + 1)
    assert await storage.notifications_for_instance("a", 0, 10) == []
    assert [q.frame for q in await storage.queued_notifications(ROBOT)] == ['{"n":1}']


async def test_release_closes_its_own_sessions_only(storage: Storage) -> None:
    for name in ("a", "b"):
        await register_instance(storage, name, 1_000, LEASE)
        await open_session(storage, f"s-{name}", name, 1_000)
    await release_instance(storage, "a", 2_000)
    assert await open_ids(storage) == {"b"}
    assert await live_instances(storage, 2_000) == ["b"]


async def test_serve_lease_registers_renews_and_releases(storage: Storage) -> None:
    await register_instance(storage, "dead", 0, 1)  # lapsed long ago
    await open_session(storage, "s-dead", "dead", 0)
    now = lambda: time.time_ns() // 1_000_000  # noqa: E731
    async with trio.open_nursery() as nursery:
        closed = await nursery.start(lambda task_status: serve_lease(
            storage, "me", now, lease_seconds=0.3, task_status=task_status))  # fmt: skip
        assert closed == 1
        await open_session(storage, "s-me", "me", now())
        await trio.sleep(0.5)  # past the first lease: renewed, so still live
        assert await live_instances(storage, now()) == ["me"]
        assert await open_ids(storage) == {"me"}
        nursery.cancel_scope.cancel()
    assert await live_instances(storage, now()) == []
    assert await open_ids(storage) == set()


# --------------------------------------------------------------------------- LISTEN/NOTIFY


@pytest.fixture
async def pg_storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_test_storage("postgres", tmp_path) as opened:
        yield opened


async def test_a_wakeup_reaches_the_holder_only(pg_storage: Storage, tmp_path: Path) -> None:
    # Channels are per database, not per schema: the listener needs only the database.
    config = make_config(tmp_path / "cfg", database_url=env.postgres_url())
    woken: dict[str, int] = {"holder": 0, "other": 0}
    holder_woken = trio.Event()

    def waker(name: str):  # type: ignore[no-untyped-def]
        async def on_wake() -> None:
            woken[name] += 1
            if name == "holder":
                holder_woken.set()

        return on_wake

    holder, other = f"h{time.time_ns():x}", f"o{time.time_ns():x}"
    await register_instance(pg_storage, holder, 1_000, LEASE)
    await open_session(pg_storage, "s-h", holder, 1_000)
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_wakeups, config, holder, waker("holder"))
        await nursery.start(serve_wakeups, config, other, waker("other"))
        assert await wake_holders(pg_storage, ROBOT, sender=other) == 1
        with trio.fail_after(10):
            await holder_woken.wait()
        assert await wake_holders(pg_storage, ROBOT, sender=holder) == 0  # its own: no NOTIFY
        await trio.sleep(0.3)
        nursery.cancel_scope.cancel()
    assert woken == {"holder": 1, "other": 0}


async def test_sqlite_has_nothing_to_wake(tmp_path: Path) -> None:
    async with open_test_storage("sqlite", tmp_path) as storage:
        assert await wake_holders(storage, ROBOT, sender="x") == 0
    config = make_config(tmp_path / "data")
    with trio.fail_after(1):
        await serve_wakeups(config, "x", _never_called)  # returns at once


async def _never_called() -> None:
    raise AssertionError("woken on SQLite")


def test_channel_names_are_safe_identifiers() -> None:
    assert channel("5F0C2A9E1B7D4C3A") == "jibo_n_5f0c2a9e1b7d4c3a"
    assert channel('a"; DROP TABLE x; --') == "jibo_n_adroptablex"
    assert len(channel("f" * 200)) <= 63
