"""Storage for several server processes: session presence by process, stale-session cleanup,
the durable notification queue, bounded launch history (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jibo_cloud.storage import Storage
from jibo_cloud.storage import migrations as migrations_module
from jibo_cloud.storage.schema import migrate
from tests.storage.backends import BACKENDS, open_test_storage
from tests.storage.test_storage import OWNER, ROBOT, provision

OTHER = "Other-Robot-Name-2"


async def open_on(storage: Storage, session_id: str, robot: str, instance: str, now: int) -> None:
    await storage.record_sessions(
        [("open", session_id, robot, "notification", now)], instance_id=instance
    )


async def test_presence_is_read_from_open_sessions_of_any_process(storage: Storage) -> None:
    await provision(storage)
    assert not await storage.account_connected(OWNER.id)
    await open_on(storage, "s1", ROBOT.name, "worker-a", 10)
    assert await storage.account_connected(OWNER.id)
    assert not await storage.account_connected("someone-else")
    await storage.record_sessions([("close", "s1", "", "", 20)])
    assert not await storage.account_connected(OWNER.id)


async def test_close_stale_sessions_closes_only_dead_processes_sessions(storage: Storage) -> None:
    await open_on(storage, "a1", ROBOT.name, "worker-a", 10)
    await open_on(storage, "b1", OTHER, "worker-b", 11)
    await open_on(storage, "c1", OTHER, "worker-c", 12)
    await storage.record_sessions([("close", "c1", "", "", 13)])

    assert await storage.close_stale_sessions(["worker-a"], now_ms=50) == 1
    assert await storage.sessions_of(ROBOT.name) == [("a1", "notification", 10, None)]
    # Already closed rows keep their own close time; only b1 was stale.
    assert await storage.sessions_of(OTHER) == [
        ("b1", "notification", 11, 50),
        ("c1", "notification", 12, 13),
    ]
    assert await storage.close_stale_sessions(["worker-a"], now_ms=60) == 0
    assert await storage.close_stale_sessions([], now_ms=70) == 1  # the supervisor's start
    assert await storage.sessions_of(ROBOT.name) == [("a1", "notification", 10, 70)]


async def test_the_queue_keeps_the_newest_per_robot(storage: Storage) -> None:
    for i in range(5):
        await storage.queue_notification(ROBOT.name, f'{{"n":{i}}}', 100 + i, keep=3)
    await storage.queue_notification(OTHER, '{"other":1}', 200, keep=3)
    kept = await storage.queued_notifications(ROBOT.name)
    assert [q.frame for q in kept] == ['{"n":2}', '{"n":3}', '{"n":4}']
    assert [q.created for q in kept] == [102, 103, 104]
    assert [q.frame for q in await storage.queued_notifications(OTHER)] == ['{"other":1}']


async def test_opening_a_session_reads_the_queue_and_acks_drop_rows(storage: Storage) -> None:
    await storage.queue_notification(ROBOT.name, "first", 1, keep=10)
    await storage.queue_notification(ROBOT.name, "second", 2, keep=10)
    await storage.queue_notification(OTHER, "not opened", 3, keep=10)
    waiting = await storage.record_sessions(
        [("open", "s1", ROBOT.name, "notification", 5)], instance_id="worker-a"
    )
    assert list(waiting) == [ROBOT.name]
    assert [q.frame for q in waiting[ROBOT.name]] == ["first", "second"]
    first = waiting[ROBOT.name][0]
    assert await storage.record_sessions([("ack", str(first.seq), "", "", 6)]) == {}
    assert [q.frame for q in await storage.queued_notifications(ROBOT.name)] == ["second"]
    assert [q.frame for q in await storage.queued_notifications(OTHER)] == ["not opened"]


async def test_the_poll_reads_rows_addressed_to_its_process_not_the_offline_backlog(
    storage: Storage,
) -> None:
    await storage.queue_notification(ROBOT.name, "while offline", 1, keep=10)
    await open_on(storage, "a1", ROBOT.name, "worker-a", 5)
    await open_on(storage, "b1", OTHER, "worker-b", 5)
    await storage.queue_notification(ROBOT.name, "for a", 10, keep=10)
    await storage.queue_notification(OTHER, "for b", 11, keep=10)
    # Queued while the robot was offline: not addressed, and older than the look-back.
    assert [q.frame for q in await storage.notifications_for_instance("worker-a", 5, 10)] == [
        "for a"
    ]
    assert [q.frame for q in await storage.notifications_for_instance("worker-b", 5, 10)] == [
        "for b"
    ]
    # Within the look-back, an unaddressed row of a robot whose session A holds is A's too
    # (PostgreSQL: the row and the session were written at the same moment).
    both = await storage.notifications_for_instance("worker-a", 1, 10)
    assert [q.frame for q in both] == ["while offline", "for a"]
    # The robot's socket left A: A's poll drops the address, and stops reading the row.
    await storage.record_sessions([("close", "a1", "", "", 12)])
    assert [q.frame for q in await storage.notifications_for_instance("worker-a", 1, 10)] == [
        "for a"
    ]
    await storage.unaddress_notifications([both[1].seq])
    assert await storage.notifications_for_instance("worker-a", 1, 10) == []
    assert len(await storage.queued_notifications(ROBOT.name)) == 2  # still queued by name
    for i in range(3):
        await storage.queue_notification(OTHER, f"more {i}", 20 + i, keep=10)
    polled = await storage.notifications_for_instance("worker-b", 5, 2)
    assert [q.frame for q in polled] == ["for b", "more 0"]  # oldest first, at most the limit
    await storage.delete_notifications([q.seq for q in polled])
    assert [q.frame for q in await storage.queued_notifications(OTHER)] == ["more 1", "more 2"]
    await storage.record_sessions([("close", "b1", "", "", 30)])
    await storage.queue_notification(OTHER, "offline again", 31, keep=10)
    assert [q.frame for q in await storage.notifications_for_instance("worker-b", 5, 10)] == [
        "more 1", "more 2",
    ]  # fmt: skip


async def test_launch_history_is_bounded_per_robot(storage: Storage) -> None:
    for i in range(6):
        await storage.record_skill_launch("R1", {"skillID": f"s{i}"}, 10 + i, keep=4)
    await storage.record_skill_launch("R2", {"skillID": "x"}, 99, keep=4)
    assert [r["skillID"] for r in await storage.list_skill_launches("R1")] == [
        "s2", "s3", "s4", "s5",
    ]  # fmt: skip
    newest = await storage.list_skill_launches("R1", limit=2)
    assert [(r["skillID"], r["timestamp"]) for r in newest] == [("s4", 14), ("s5", 15)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sessions_open_before_the_migration_are_closed_as_stale(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before ``instance_id`` existed: its open rows belong to no live process."""
    monkeypatch.setattr(migrations_module, "MIGRATIONS", migrations_module.MIGRATIONS[:1])
    async with open_test_storage(backend, tmp_path) as storage:
        await storage.open_session("old", ROBOT.name, "notification", 1)
        monkeypatch.undo()
        applied = await migrate(storage.db)
        assert applied[:2] == [2, 3]  # and any later ones
        assert await storage.close_stale_sessions(["worker-a"], now_ms=5) == 1
        assert await storage.sessions_of(ROBOT.name) == [("old", "notification", 1, 5)]
