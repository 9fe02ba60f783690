"""Updates, "who has taken it": a robot downloads a published package through its signed URL
on the real server, and the operator's Updates page names it (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.storage.provisioning import publish_update
from tests.portal.support import portal_server
from tests.rest.support import ROBOT_NAME, SPEC, RestClient
from tests.storage.backends import BACKENDS

ASK = {"fromVersion": "1.0", "subsystem": "os"}
LOGGER = "jibo_cloud.portal.downloads"


async def _count(storage: Any) -> int:
    return sum(row.count for row in await storage.list_update_downloads())


async def settled(read: Callable[[], Awaitable[int]], want: int) -> None:
    """Wait until ``read()`` gives ``want``: downloads are noted after the body was sent."""
    with trio.fail_after(10):
        while await read() != want:  # noqa: ASYNC110 (nothing signals the record)
            await trio.sleep(0.01)


async def test_the_updates_page_lists_who_took_each_package(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with portal_server(nursery, tmp_path, backend) as portal:
        rt = portal.server.runtime
        taken = await publish_update(
            rt.storage,
            rt.blobs,
            subsystem="os",
            from_version="1.0",
            to_version="2.0",
            data=b"pkg" * 100,
            now_ms=rt.now_ms(),
        )
        untaken = await publish_update(
            rt.storage,
            rt.blobs,
            subsystem="os",
            from_version="2.0",
            to_version="3.0",
            data=b"new",
            now_ms=rt.now_ms(),
        )
        account = await portal.storage.find_account_by_email(SPEC.owner_email)
        await portal.storage.set_owner_role(account.id, "operator", now=0)
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
        await publish_update(rt.storage, rt.blobs, subsystem="os", from_version="1.0",
                             to_version="2.0", data=b"pkg", now_ms=rt.now_ms())  # fmt: skip

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
