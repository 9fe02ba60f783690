"""Two real servers on one storage (what ``serve --workers 2`` runs, minus the shared listening
socket): the robot's notification socket on A, its REST calls on B. SQLite and PostgreSQL.

Each server is started with ``workers=2``, so each runs the notification queue poll
(``NotificationHub.serve_polling``, started by ``jibo_cloud.server.serve``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.notify import NotificationHub, hub_for
from tests.rest.support import (
    ACCOUNT_ID,
    ROBOT_NAME,
    RestClient,
    postgres_server_url,
    register_robot,
)
from tests.storage.backends import BACKENDS, fresh_schema
from tests.support import env
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer, start_server

HOST = "api-socket.jibo.com"


@asynccontextmanager
async def two_servers(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    async with AsyncExitStack() as stack:
        overrides: dict[str, Any] = {"workers": 2}
        if backend == "postgres":
            schema = await stack.enter_async_context(fresh_schema(env.postgres_url()))
            overrides["database_url"] = postgres_server_url(schema)
        # One data directory: the same SQLite file (or the same schema) for both.
        a = await start_server(nursery, tmp_path / "data", **overrides)
        b = await start_server(nursery, tmp_path / "data", **overrides)
        assert a.runtime.instance_id != b.runtime.instance_id
        await register_robot(a)
        try:
            yield a, b
        finally:
            a.stop()
            b.stop()


def hub_of(server: RunningServer) -> NotificationHub:
    hub = hub_for(server.runtime)
    assert hub is not None
    return hub


async def new_token(client: RestClient) -> str:
    answer = await client.ok("Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME})
    return str(answer["token"])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_socket_on_a_status_and_notifications_through_b(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with (
        two_servers(nursery, tmp_path, backend) as (a, b),
        httpx.AsyncClient(base_url=b.http_url) as http,
    ):
        rest_b = RestClient(http)
        token = await new_token(rest_b)  # issued by B, accepted by A: the token is in storage
        status = {"accountId": ACCOUNT_ID}
        assert await rest_b.ok("Notification_20150505.GetStatus", status) == {"connected": False}
        async with open_robot_socket(a.port, f"/{token}", host=HOST) as ws:
            with trio.fail_after(10):
                await hub_of(a).wait_connected(ROBOT_NAME)
            assert await rest_b.ok("Notification_20150505.GetStatus", status) == {"connected": True}
            assert not await hub_of(b).notify(ROBOT_NAME, {"type": "remote", "via": "b"})
            with trio.fail_after(10):
                assert json.loads(await ws.get_message()) == {"type": "remote", "via": "b"}
        with trio.fail_after(10):
            await hub_of(a).wait_connected(ROBOT_NAME, connected=False)
        assert await rest_b.ok("Notification_20150505.GetStatus", status) == {"connected": False}
        # Offline: kept in the storage, delivered when the robot's next socket opens on B.
        assert not await hub_of(a).notify(ROBOT_NAME, {"while": "offline"})
        async with open_robot_socket(b.port, f"/{token}", host=HOST) as ws:
            with trio.fail_after(10):
                assert json.loads(await ws.get_message()) == {"while": "offline"}
