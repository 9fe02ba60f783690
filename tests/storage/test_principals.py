"""Operator keys and pending (adoptable) robot keys, on SQLite and PostgreSQL (migration 5)."""

from __future__ import annotations

import pytest

from jibo_cloud.storage import Conflict, Storage
from jibo_cloud.storage.principals import MAX_TEXT, OperatorKey


async def test_operator_keys_round_trip(storage: Storage) -> None:
    key = OperatorKey("JIBOOPKEY00000000001", "s3cret", 5, "laptop")
    await storage.add_operator_key(key)
    assert await storage.get_operator_key(key.access_key_id) == key
    assert await storage.get_operator_key("JIBOOPNOSUCHKEY00000") is None
    with pytest.raises(Conflict):
        await storage.add_operator_key(key)
    assert [k.access_key_id for k in await storage.list_operator_keys()] == [key.access_key_id]
    assert "s3cret" not in repr(key)
    assert await storage.remove_operator_key(key.access_key_id)
    assert not await storage.remove_operator_key(key.access_key_id)
    assert await storage.get_operator_key(key.access_key_id) is None


async def test_unknown_keys_are_counted_then_approved_or_denied(storage: Storage) -> None:
    first = await storage.note_unknown_key("AKIA1", claimed_robot="Robot-A", address="10.0.0.2",
                                           now=100)  # fmt: skip
    assert (first.status, first.count, first.first_seen, first.last_seen) == ("pending", 1, 100,
                                                                               100)  # fmt: skip
    # A later request without the robot header keeps the name first claimed.
    again = await storage.note_unknown_key("AKIA1", claimed_robot="", address="10.0.0.3", now=200)
    assert (again.count, again.first_seen, again.last_seen) == (2, 100, 200)
    assert (again.claimed_robot, again.address) == ("Robot-A", "10.0.0.3")
    assert not await storage.any_adopted_key()
    await storage.approve_key("AKIA1", "Robot-A", now=300)
    approved = await storage.get_pending_key("AKIA1")
    assert (approved.status, approved.robot_name, approved.decided) == ("approved", "Robot-A", 300)
    assert await storage.any_adopted_key()
    counted = await storage.note_unknown_key("AKIA1", claimed_robot="", address="x", now=400)
    assert (counted.status, counted.count) == ("approved", 3)  # a decision survives counting
    assert await storage.deny_key("AKIA1", now=500)
    denied = await storage.get_pending_key("AKIA1")
    assert (denied.status, denied.robot_name) == ("denied", None)
    assert not await storage.any_adopted_key()
    assert not await storage.deny_key("AKIA-NEVER-SEEN", now=1)


async def test_a_key_can_be_approved_before_it_is_seen(storage: Storage) -> None:
    await storage.approve_key("AKIA2", "Robot-B", now=10)
    seen = await storage.note_unknown_key("AKIA2", claimed_robot="Robot-B", address="a", now=20)
    assert (seen.status, seen.robot_name, seen.count) == ("approved", "Robot-B", 1)
    assert [k.access_key_id for k in await storage.list_pending_keys()] == ["AKIA2"]


async def test_header_text_is_clipped_and_printable(storage: Storage) -> None:
    seen = await storage.note_unknown_key("AKIA3", claimed_robot="R\x1b[31m" + "x" * 500,
                                          address="\n1.2.3.4", now=1)  # fmt: skip
    assert len(seen.claimed_robot) == MAX_TEXT
    assert seen.claimed_robot.isprintable()
    assert seen.address == "?1.2.3.4"
