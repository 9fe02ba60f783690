"""Robot failures and last successes (migration 6), on SQLite and PostgreSQL: bounded per robot,
cleaned of secrets and e-mail addresses, written in the background without the caller waiting,
and only for robots that are registered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio
import trio.testing

from jibo_cloud.storage import Storage
from jibo_cloud.storage.diagnostics import (
    ACTIVITY_EVERY_MS,
    BOOT,
    MAX_FAILURES_PER_ROBOT,
    MAX_TEXT,
    REST,
    FailureNote,
    RobotFailure,
)
from jibo_cloud.storage.provisioning import RobotSpec, add_robot

ROBOT = RobotSpec(
    name="Test-Robot-Name", serial="BOJW-1000-0000-0000-0001", robot_id="a" * 24,
    owner_email="owner@example.com", access_key_id="AKROBOT0001", secret_access_key="s3cret",
)  # fmt: skip


async def wait_for(check: Callable[[], Awaitable[bool]], *, seconds: float = 10.0) -> None:
    """Poll (real I/O: the writer is a thread-backed storage write) until the check passes."""
    with trio.fail_after(seconds):
        while not await check():  # noqa: ASYNC110 - the writer offers no event, by design
            await trio.sleep(0.01)


async def test_failures_are_kept_newest_first_and_bounded(storage: Storage) -> None:
    failures = [
        RobotFailure("Robot-A", at=i, channel=REST, step="Loop_20160324.ListLoops", status=500,
                     code="InternalFailure", detail=f"n{i}")
        for i in range(MAX_FAILURES_PER_ROBOT + 5)
    ]  # fmt: skip
    await storage.record_diagnostics(failures[:10])
    await storage.record_diagnostics(failures[10:])
    await storage.record_diagnostics([RobotFailure("Robot-B", 1, REST, "x", 403, "c")])
    kept = await storage.robot_failures("Robot-A")
    assert len(kept) == MAX_FAILURES_PER_ROBOT
    assert [f.at for f in kept] == list(range(MAX_FAILURES_PER_ROBOT + 4, 4, -1))
    assert [f.robot_name for f in await storage.robot_failures("Robot-B")] == ["Robot-B"]
    assert await storage.robot_failures("Robot-C") == []


async def test_text_is_cleaned_before_it_is_stored(storage: Storage) -> None:
    detail = (
        "account owner@example.com exists; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6"
        "IngifQ.c2lnbmF0dXJlc2lnbmF0dXJl\x1b[31m" + "x" * 400
    )
    await storage.record_diagnostics([RobotFailure("Robot-A", 1, REST, "s", 400, "c", detail)])
    (kept,) = await storage.robot_failures("Robot-A")
    assert "owner@example.com" not in kept.detail
    assert "[email]" in kept.detail
    assert "eyJpZCI6" not in kept.detail
    assert kept.detail.isprintable()
    assert len(kept.detail) == MAX_TEXT


async def test_activity_keeps_the_newest_per_kind(storage: Storage) -> None:
    await storage.record_diagnostics([], [("Robot-A", BOOT, 200, "NewRobotToken")])
    await storage.record_diagnostics([], [("Robot-A", BOOT, 100, "older, from a slow process")])
    await storage.record_diagnostics([], [("Robot-A", REST, 50, "Loop_20160324.ListLoops")])
    assert await storage.robot_activity("Robot-A") == {
        BOOT: (200, "NewRobotToken"), REST: (50, "Loop_20160324.ListLoops"),
    }  # fmt: skip
    assert await storage.robot_activity("Robot-B") == {}


async def test_notes_are_written_in_the_background_for_registered_robots(
    storage: Storage,
) -> None:
    await add_robot(storage, ROBOT, now_ms=1)

    def note(**kw: object) -> FailureNote:
        base: dict[str, object] = {
            "channel": REST, "step": "Loop_20160324.ListLoops", "status": 403,
            "code": "InvalidSignatureException", "detail": "Signature expired", "at": 10,
        }  # fmt: skip
        return FailureNote(**{**base, **kw})  # type: ignore[arg-type]

    # Synchronous: nothing is awaited by the caller.
    storage.note_robot_failure(note(robot_name=ROBOT.name))
    storage.note_robot_failure(note(access_key_id=ROBOT.access_key_id, verified=False, at=11))
    storage.note_robot_failure(note(access_key_id="AKNOBODY", at=12))  # no such key: dropped
    storage.note_robot_failure(note(claimed_robot="No-Such-Robot", at=13))  # dropped
    storage.note_robot_failure(note(claimed_robot=ROBOT.name, channel="hub", at=14))
    storage.note_robot_activity(ROBOT.name, BOOT, 20, "NewRobotToken")
    storage.note_robot_activity(ROBOT.name, BOOT, 20 + ACTIVITY_EVERY_MS - 1)  # throttled

    async def written() -> bool:
        return len(await storage.robot_failures(ROBOT.name)) == 3 and bool(
            await storage.robot_activity(ROBOT.name)
        )

    await wait_for(written)
    await trio.testing.wait_all_tasks_blocked()
    kept = await storage.robot_failures(ROBOT.name)
    assert [(f.at, f.channel, f.verified) for f in kept] == [
        (14, "hub", True), (11, REST, False), (10, REST, True),
    ]  # fmt: skip
    assert await storage.robot_activity(ROBOT.name) == {BOOT: (20, "NewRobotToken")}
    storage.note_robot_activity(ROBOT.name, BOOT, 20 + ACTIVITY_EVERY_MS)  # past the throttle

    async def updated() -> bool:
        return (await storage.robot_activity(ROBOT.name))[BOOT][0] == 20 + ACTIVITY_EVERY_MS

    await wait_for(updated)
