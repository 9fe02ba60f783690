"""Every storage query, against SQLite and PostgreSQL (the ``storage`` fixture is parametrized)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jibo_cloud.storage import Conflict, Storage
from jibo_cloud.storage.records import (
    Account,
    Backup,
    KeyPair,
    KeyRequest,
    Loop,
    LoopMember,
    Media,
    Robot,
    RobotToken,
    UpdateRecord,
    Upload,
)
from jibo_cloud.storage.schema import LATEST_VERSION

OWNER = Account(id="a" * 24, email="owner@example.com", created=1, updated=1, first_name="Alex")
ROBOT = Robot(
    name="Test-Robot-Name-1", robot_id="b" * 24, account_id=OWNER.id, created=2, updated=2,
    serial="BOJW-1000-0000-0000-0001", payload={"SSID": "ExampleWifi"},
)  # fmt: skip
LOOP = Loop(
    id="c" * 24, name="Home", owner_id=OWNER.id, created=3, updated=3,
    robot_id=ROBOT.robot_id, robot_name=ROBOT.name,
)  # fmt: skip
MEMBER = LoopMember(
    id="d" * 24, loop_id=LOOP.id, account_id=OWNER.id, status="ACTIVE", type="OWNER", created=4
)
KEY = KeyPair(access_key_id="AKID1", secret_access_key="s3cret", account_id=OWNER.id, created=5,
              robot_name=ROBOT.name)  # fmt: skip


async def provision(storage: Storage) -> None:
    await storage.provision(
        account=OWNER, robot=ROBOT, loop=LOOP, member=MEMBER, key=KEY, record={"by": "test"}
    )


async def test_migrations_reach_the_latest_version_and_are_idempotent(storage: Storage) -> None:
    from jibo_cloud.storage.schema import migrate

    assert await storage.schema_version() == LATEST_VERSION
    assert await migrate(storage.db) == []


async def test_provisioning_creates_everything_a_robot_needs(storage: Storage) -> None:
    await provision(storage)
    assert await storage.get_account(OWNER.id) == OWNER
    assert await storage.get_robot(ROBOT.name) == ROBOT
    assert await storage.find_robot(ROBOT.robot_id) == ROBOT
    assert await storage.find_robot(ROBOT.serial) == ROBOT
    assert await storage.get_key_pair("AKID1") == KEY
    assert await storage.loops_of(OWNER.id) == [LOOP]
    assert await storage.members_of(LOOP.id) == [MEMBER]
    assert await storage.get_document("provisioning", "robot", ROBOT.name) == {"by": "test"}


async def test_provisioning_is_atomic(storage: Storage) -> None:
    await provision(storage)
    other_robot = Robot(name="Other-Robot", robot_id="e" * 24, account_id=OWNER.id, created=9,
                        updated=9)  # fmt: skip
    with pytest.raises(Conflict):  # the key id is taken: nothing of this robot may remain
        await storage.provision(
            account=OWNER, robot=other_robot, loop=LOOP, member=MEMBER, key=KEY, record={}
        )
    assert await storage.get_robot("Other-Robot") is None


async def test_duplicate_email_is_a_conflict(storage: Storage) -> None:
    await storage.create_account(OWNER)
    with pytest.raises(Conflict):
        await storage.create_account(Account(id="f" * 24, email="OWNER@example.com".lower(),
                                             created=1, updated=1))  # fmt: skip
    assert (await storage.find_account_by_email("Owner@Example.com")) == OWNER


async def test_robot_payload_update_keeps_history(storage: Storage) -> None:
    await provision(storage)
    assert await storage.update_robot_payload(ROBOT.name, {"platform": "12.10.0"}, now=50)
    robot = await storage.get_robot(ROBOT.name)
    assert robot is not None
    assert (robot.payload, robot.updated) == ({"platform": "12.10.0"}, 50)
    assert await storage.robot_history(ROBOT.name) == [({"platform": "12.10.0"}, 50)]
    assert not await storage.update_robot_payload("nobody", {}, now=51)


async def test_robot_tokens_expire_and_revoke(storage: Storage) -> None:
    await provision(storage)
    token = RobotToken(token_hash="h1", robot_name=ROBOT.name, issued=10, expires=100)
    await storage.add_robot_token(token)
    assert await storage.find_robot_token("h1", now=99) == token
    assert await storage.find_robot_token("h1", now=100) is None
    assert await storage.revoke_robot_tokens(ROBOT.name) == 1
    assert await storage.find_robot_token("h1", now=50) is None


async def test_updates_round_trip(storage: Storage) -> None:
    record = UpdateRecord(
        id="u1", created=1, subsystem="@be/be", from_version="10.0.18", to_version="10.0.19",
        url="https://api.jibo.com/update/u1", sha_hash="ab" * 32, length=3, filter="fcs",
        dependencies={"x": "1"},
    )  # fmt: skip
    await storage.add_update(record)
    assert await storage.list_updates("@be/be") == [record]
    assert await storage.list_updates("other") == []
    assert await storage.get_update("u1") == record
    assert await storage.remove_update("u1")
    assert await storage.list_updates() == []


async def test_media_list_filters_by_loop_time_and_deletion(storage: Storage) -> None:
    def media(path: str, created: int, loop: str = "L1") -> Media:
        return Media(path=path, loop_id=loop, blob_key=f"media/{path}", length=1, sha256="x",
                     created=created, meta={"k": "v"}, is_encrypted=True)  # fmt: skip

    for m in (media("p1", 10), media("p2", 20), media("p3", 30, loop="L2")):
        await storage.put_media(m)
    assert [m.path for m in await storage.list_media(["L1"])] == ["p1", "p2"]
    assert [m.path for m in await storage.list_media(["L1", "L2"], after=10)] == ["p2", "p3"]
    assert [m.path for m in await storage.list_media(["L1"], before=20)] == ["p1"]
    await storage.mark_media_deleted(["p1"])
    assert [m.path for m in await storage.list_media(["L1"])] == ["p2"]
    (deleted,) = await storage.get_media(["p1"])
    assert deleted.is_deleted
    assert deleted.meta == {"k": "v"}
    assert deleted.is_encrypted


async def test_uploads_and_backups_complete(storage: Storage) -> None:
    await storage.add_upload(Upload(id="up1", kind="log-events", created=1))
    await storage.complete_upload("up1", blob_key="upload/x", length=5, sha256="s",
                                  content_type="application/gzip", now=2)  # fmt: skip
    upload = await storage.get_upload("up1")
    assert upload is not None
    assert (upload.blob_key, upload.length, upload.completed) == (
        "upload/x",
        5,
        2,
    )
    await storage.add_backup(Backup(id="b1", loop_id="L1", created=1))
    assert await storage.list_backups("L1") == []  # not uploaded yet
    await storage.complete_backup("b1", blob_key="backup/x", length=7, sha256="s", now=3)
    (backup,) = await storage.list_backups("L1")
    assert (backup.length, backup.modified) == (7, 3)


async def test_key_requests_and_documents(storage: Storage) -> None:
    req = KeyRequest(id="k1", kind="key", account_id="A", loop_id="L1", created=1,
                     public_key="pk")  # fmt: skip
    await storage.put_key_request(req)
    assert await storage.list_key_requests("L1", "key") == [req]
    assert await storage.list_key_requests("L1", "binary") == []
    await storage.put_document("settings", "L1", "skill-a", {"v": [1, 2]}, now=1)
    await storage.put_document("settings", "L1", "skill-a", {"v": [3]}, now=2)
    assert await storage.list_documents("settings", "L1") == [("skill-a", {"v": [3]})]
    assert await storage.delete_document("settings", "L1", "skill-a")
    assert await storage.get_document("settings", "L1", "skill-a") is None


async def test_skill_launch_history(storage: Storage) -> None:
    await storage.record_skill_launch("R1", {"skillID": "@be/clock", "intent": "askTime"}, 5)
    await storage.record_skill_launch("R1", {"skillID": "@be/joke", "intent": "proactive"}, 6)
    await storage.record_skill_launch("R2", {"skillID": "x"}, 7)
    launches = await storage.list_skill_launches("R1")
    assert [(r["skillID"], r["timestamp"]) for r in launches] == [("@be/clock", 5), ("@be/joke", 6)]


async def test_sessions_open_and_close(storage: Storage) -> None:
    await storage.open_session("s1", "R", "notification", 10)
    assert await storage.sessions_of("R") == [("s1", "notification", 10, None)]
    await storage.close_session("s1", 20)
    assert await storage.sessions_of("R") == [("s1", "notification", 10, 20)]


async def test_a_failed_transaction_leaves_nothing_behind(storage: Storage) -> None:
    from jibo_cloud.storage.db import Tx

    def half_then_fail(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO documents (kind, scope, key, value, updated) VALUES (?, ?, ?, ?, ?)",
            ("k", "s", "x", "1", 1),
        )
        raise ValueError("the caller changed its mind")

    with pytest.raises(ValueError, match="changed its mind"):
        await storage.db.run(half_then_fail)
    assert await storage.get_document("k", "s", "x") is None
    await storage.put_document("k", "s", "y", 2, now=2)  # the connection is still usable
    assert await storage.get_document("k", "s", "y") == 2


async def test_session_events_are_group_committed(storage: Storage, tmp_path: Path) -> None:
    """Many sockets opening at once: every event is written, each caller returns after its own."""
    import trio

    from jibo_cloud.notify import _SessionLog
    from jibo_cloud.runtime import Runtime
    from tests.support.server import test_config as make_config

    log = _SessionLog(Runtime(config=make_config(tmp_path / "cfg"), storage=storage))
    seen: list[bool] = []

    async def open_then_close(i: int) -> None:
        await log.add(("open", f"s{i}", "R", "notification", i))
        seen.append(f"s{i}" in {row[0] for row in await storage.sessions_of("R")})
        await log.add(("close", f"s{i}", "", "", 1000 + i))

    async with trio.open_nursery() as nursery:
        for i in range(60):
            nursery.start_soon(open_then_close, i)
    sessions = await storage.sessions_of("R")
    assert len(sessions) == 60
    assert all(closed == 1000 + opened for _, _, opened, closed in sessions)
    assert all(seen)  # nobody got past add() before its event was written
