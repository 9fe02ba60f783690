"""Updates, "who has taken it": a robot downloads a published package through its signed URL
on the real server, and the operator's Updates page names it (SQLite and PostgreSQL), also
when its household has two robots (each package URL is signed for the robot that asked)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.rest.signed_urls import account_principal, sign_url
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Storage
from jibo_cloud.storage.provisioning import RobotSpec, add_robot, publish_update
from jibo_cloud.storage.records import UpdateRecord
from tests.portal.support import portal_server
from tests.rest.support import ROBOT_NAME, SPEC, RestClient
from tests.storage.backends import BACKENDS

ASK = {"fromVersion": "1.0", "subsystem": "os"}
#: A second robot of SPEC's owner (made-up name, ids and keys).
SECOND = RobotSpec(
    name="Second-Robot-Name-3", serial="BOJW-1000-0000-0000-0003", robot_id="e" * 24,
    owner_email=SPEC.owner_email, access_key_id="AKSECONDROBOT003",
    secret_access_key="second-secret-key-0123456789abcdefghij",
)  # fmt: skip
LOGGER = "jibo_cloud.portal.downloads"


async def _count(storage: Any) -> int:
    return sum(row.count for row in await storage.list_update_downloads())


async def settled(read: Callable[[], Awaitable[int]], want: int) -> None:
    """Wait until ``read()`` gives ``want``: downloads are noted after the body was sent."""
    with trio.fail_after(10):
        while await read() != want:  # noqa: ASYNC110 (nothing signals the record)
            await trio.sleep(0.01)


async def _publish(rt: Runtime, from_version: str, to_version: str, data: bytes) -> UpdateRecord:
    """An OS package from ``from_version`` to ``to_version``, published now."""
    return await publish_update(rt.storage, rt.blobs, subsystem="os", from_version=from_version,
                                to_version=to_version, data=data, now_ms=rt.now_ms())  # fmt: skip


async def _make_operator(storage: Storage) -> str:
    """The test household's owner sees the Updates page; returns the owner's account id."""
    account = await storage.find_account_by_email(SPEC.owner_email)
    assert account is not None
    await storage.set_owner_role(account.id, "operator", now=0)
    return account.id


async def test_the_updates_page_lists_who_took_each_package(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with portal_server(nursery, tmp_path, backend) as portal:
        rt = portal.server.runtime
        taken = await _publish(rt, "1.0", "2.0", b"pkg" * 100)
        untaken = await _publish(rt, "2.0", "3.0", b"new")
        await _make_operator(portal.storage)
        async with portal.owner() as http:
            robot = RestClient(http)
            offered = await robot.ok("Update_20160301.GetUpdateFrom", ASK)
            assert offered["_id"] == taken.id
            for _ in range(2):
                assert (await robot.get(offered["url"])).content == b"pkg" * 100
            await settled(lambda: _count(portal.storage), 2)  # noted after the body went out
            page = (await http.get("/portal/updates")).text
        (row,) = await portal.storage.list_update_downloads()
        assert (row.update_id, row.robot_name, row.count) == (taken.id, ROBOT_NAME, 2)
        rows = page.split('<tr class="update">')[1:]
        by_version = {r.split("</td>")[2].removeprefix("<td>"): r for r in rows}
        assert f'<span class="robot">{ROBOT_NAME}</span>' in by_version[taken.to_version]
        assert "(2 downloads" in by_version[taken.to_version]
        assert "No robot yet" in by_version[untaken.to_version]


async def test_a_failed_record_never_fails_the_download(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    async with portal_server(nursery, tmp_path) as portal:
        caplog.set_level(logging.WARNING, logger=LOGGER)
        rt = portal.server.runtime
        await _publish(rt, "1.0", "2.0", b"pkg")

        async def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("database gone")

        monkeypatch.setattr(type(rt.storage), "record_update_download", broken)
        async with portal.client() as http:
            robot = RestClient(http)
            offered = await robot.ok("Update_20160301.GetUpdateFrom", ASK)
            answer = await robot.get(offered["url"])
        assert (answer.status_code, answer.content) == (200, b"pkg")

        def notes() -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == LOGGER]

        with trio.fail_after(10):
            while not notes():  # noqa: ASYNC110
                await trio.sleep(0.01)
        assert notes() == ["update download not recorded: RuntimeError"]


async def test_each_robot_of_a_two_robot_household_is_named(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with portal_server(nursery, tmp_path, backend) as portal:
        rt = portal.server.runtime
        await add_robot(rt.storage, SECOND, now_ms=rt.now_ms())
        assert len(await rt.storage.list_robots(SPEC.account_id)) == 2
        package = await _publish(rt, "1.0", "2.0", b"pkg")
        account_id = await _make_operator(portal.storage)
        async with portal.owner() as http:
            robot = RestClient(http)
            urls = {}
            for spec, times in ((SPEC, 1), (SECOND, 2)):
                keys = {"key": spec.access_key_id, "secret": spec.secret_access_key}
                offered = await robot.ok("Update_20160301.GetUpdateFrom", ASK, **keys)
                urls[spec.name] = offered["url"]
                for _ in range(times):
                    assert (await robot.get(offered["url"])).content == b"pkg"
            await settled(lambda: _count(portal.storage), 3)
            page = (await http.get("/portal/updates")).text
            # A URL signed for the household (as before robots had their own) still counts,
            # for the household: with two robots it cannot say which.
            household_url = sign_url(rt.config, "GET", "https://api.jibo.com", package.url,
                                     principal=account_principal(account_id),
                                     now_s=rt.now_ms() / 1000)  # fmt: skip
            assert (await robot.get(household_url)).content == b"pkg"
            await settled(lambda: _count(portal.storage), 4)
            household_page = (await http.get("/portal/updates")).text
        assert urls[SPEC.name] != urls[SECOND.name]  # each robot's own URL
        assert "X-Jibo-Principal=robot%3ASecond-Robot-Name-3" in urls[SECOND.name]
        rows = {r.robot_name: r.count for r in await portal.storage.list_update_downloads()}
        assert rows == {SPEC.name: 1, SECOND.name: 2, "": 1}
        taken = page.split('<tr class="update">')[1]
        assert f'<span class="robot">{SPEC.name}</span>' in taken
        assert f'<span class="robot">{SECOND.name}</span>' in taken
        assert "a robot of" not in taken
        assert f"a robot of {SPEC.owner_email}" in household_page


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
