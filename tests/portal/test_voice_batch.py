"""Voice turns noted by the hub are written in batches (jibo_cloud/storage/batch.py): one
transaction for many turns, on SQLite and PostgreSQL; a full batch drops and says so; a
storage that fails loses that batch only, never the writer."""

from __future__ import annotations

import logging

import pytest
import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage import Storage
from jibo_cloud.storage.batch import Batch
from jibo_cloud.storage.portal import HouseholdSettings, VoiceTurn
from jibo_cloud.storage.provisioning import add_robot
from tests.portal.test_storage import OTHER as QUIET
from tests.portal.test_storage import ROBOT

NOW = 1_800_000_000_000


async def test_many_turns_are_one_transaction_and_ids_are_resolved(storage: Storage) -> None:
    await add_robot(storage, ROBOT, now_ms=NOW)
    _, quiet_loop = await add_robot(storage, QUIET, now_ms=NOW)
    await storage.put_household_settings(
        HouseholdSettings(quiet_loop.id, voice_history=False, updated=NOW)
    )
    batches: list[int] = []
    write = storage.record_voice_turns

    async def counted(turns: list[VoiceTurn]) -> int:
        batches.append(len(turns))
        return await write(turns)

    storage.record_voice_turns = counted  # type: ignore[method-assign]
    # The hub knows a robot by whichever id it sent: name, 24-hex id or serial.
    ids = (ROBOT.name, ROBOT.robot_id, ROBOT.serial)
    for n in range(30):
        assert storage.note_voice_turn(VoiceTurn(ids[n % 3], NOW + n, heard=f"turn {n}"))
    storage.note_voice_turn(VoiceTurn("no-such-robot", NOW, heard="stranger"))
    storage.note_voice_turn(VoiceTurn(QUIET.name, NOW, heard="history is off"))
    with trio.fail_after(10):
        while len(turns := await storage.list_voice_turns([ROBOT.name])) < 30:  # noqa: ASYNC110
            await trio.sleep(0.05)
    assert batches == [32]  # every turn noted before the writer woke: one transaction
    assert {t.robot_name for t in turns} == {ROBOT.name}
    assert sorted(t.heard for t in turns) == sorted(f"turn {n}" for n in range(30))
    assert await storage.list_voice_turns([QUIET.name]) == []
    # The writer ended with nothing pending; a later turn starts a new one.
    storage.note_voice_turn(VoiceTurn(ROBOT.name, NOW + 99, heard="later"))
    assert await storage.flush_voice_turns() == 1
    assert len(await storage.list_voice_turns([ROBOT.name])) == 31


async def test_a_full_batch_drops_new_rows_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    written: list[list[int]] = []

    async def write(rows: list[int]) -> None:
        written.append(rows)

    batch: Batch[int] = Batch("test rows", write, limit=3)
    with caplog.at_level(logging.WARNING, logger="jibo_cloud.storage.batch"):
        assert [batch.add(n) for n in range(5)] == [True, True, True, False, False]
        with trio.fail_after(5):
            while batch.writing or batch.pending:  # noqa: ASYNC110
                await trio.sleep(0.01)
    assert written == [[0, 1, 2]]
    assert "2 test rows not recorded (too many at once)" in caplog.text


async def test_a_failing_storage_loses_one_batch_not_the_writer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    written: list[list[str]] = []

    async def write(rows: list[str]) -> None:
        if rows == ["first"]:
            raise StorageUnavailable("database is down")
        written.append(rows)

    batch: Batch[str] = Batch("test rows", write, limit=10)
    with caplog.at_level(logging.WARNING, logger="jibo_cloud.storage.batch"):
        batch.add("first")
        with trio.fail_after(5):
            while batch.writing:  # noqa: ASYNC110
                await trio.sleep(0.01)
        batch.add("second")
        with trio.fail_after(5):
            while batch.writing:  # noqa: ASYNC110
                await trio.sleep(0.01)
    assert written == [["second"]]
    assert "test rows not recorded: storage unavailable: database is down" in caplog.text
