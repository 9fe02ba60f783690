"""Notification sockets: capped per token and per robot (3,000 sockets were once opened on
one token), and closed at once with 1001 when the server shuts down (they used to hold the
shutdown for the whole grace period)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected

from jibo_cloud.notify import hub_for
from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer, start_server

HOST = "api-socket.jibo.com"


async def new_token(server: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    return str(answer["token"])


async def refused(server: RunningServer, token: str, host: str = HOST) -> tuple[int, bytes]:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(server.port, f"/{token}", host=host):
            pass
    return info.value.status_code, info.value.body or b""


async def test_sockets_are_capped_per_token_and_per_robot(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(
        nursery, tmp_path / "data", max_sockets_per_token=2, max_sockets_per_robot=3
    )
    await register_robot(server)
    first = await new_token(server)
    async with (
        open_robot_socket(server.port, f"/{first}", host=HOST),
        open_robot_socket(server.port, f"/{first}", host=HOST),
    ):
        assert await refused(server, first) == (429, b"Too many sockets for this token")
        # The same cap on the Quart path (a host that is not api-socket.*).
        assert await refused(server, first, host="127.0.0.1") == (
            429,
            b"Too many sockets for this token",
        )
        second = await new_token(server)
        async with open_robot_socket(server.port, f"/{second}", host=HOST):
            assert await refused(server, second) == (429, b"Too many sockets for this robot")
    # Closed sockets stop counting.
    third = await new_token(server)
    with trio.fail_after(10):
        async with open_robot_socket(server.port, f"/{third}", host=HOST):
            pass


async def _closed_code(ws: object) -> int | None:
    with pytest.raises(ConnectionClosed) as info:
        await ws.get_message()  # type: ignore[attr-defined]
    return info.value.reason.code


@pytest.mark.parametrize("host", [HOST, "127.0.0.1"])
async def test_shutdown_closes_notification_sockets_at_once(
    nursery: trio.Nursery, tmp_path: Path, host: str
) -> None:
    server = await start_server(nursery, tmp_path / "data", grace_seconds=30.0)
    await register_robot(server)
    token = await new_token(server)
    async with open_robot_socket(server.port, f"/{token}", host=host) as ws:
        hub = hub_for(server.runtime)
        assert hub is not None
        with trio.fail_after(10):
            await hub.wait_connected(ROBOT_NAME)
        server.stop()
        # Well inside the 30 s grace, which they used to wait out.
        with trio.fail_after(2):
            assert await _closed_code(ws) == 1001
