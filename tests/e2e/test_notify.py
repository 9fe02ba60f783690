"""The notification socket (PROTOCOL.md §3) on the real server."""

from __future__ import annotations

import json

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected

from jibo_cloud.notify import NotificationHub, hash_token, hub_for
from jibo_cloud.storage.records import RobotToken
from tests.rest.support import ACCOUNT_ID, ROBOT_NAME, RestClient, register_robot
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer

HOST = "api-socket.jibo.com"


@pytest.fixture
async def registered(server: RunningServer) -> RunningServer:
    await register_robot(server)
    return server


async def new_token(server: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    return str(answer["token"])


@pytest.mark.parametrize("path", ["/not-a-token-we-issued", "/x"])
async def test_tokens_we_did_not_issue_are_refused(registered: RunningServer, path: str) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(registered.port, path, host=HOST):
            pass
    assert info.value.status_code == 401


async def test_expired_and_revoked_tokens_are_refused(registered: RunningServer) -> None:
    storage = registered.runtime.storage
    now = registered.runtime.now_ms()
    await storage.add_robot_token(
        RobotToken(hash_token("old-token"), ROBOT_NAME, issued=now - 10, expires=now - 1)
    )
    token = await new_token(registered)
    await storage.revoke_robot_tokens(ROBOT_NAME)
    for path in ("/old-token", f"/{token}"):
        with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
            async with open_robot_socket(registered.port, path, host=HOST):
                pass
        assert info.value.status_code == 401


async def test_an_issued_token_opens_and_only_notifications_arrive(
    registered: RunningServer,
) -> None:
    """Nothing unsolicited: the first frame the robot gets is the notification we sent."""
    token = await new_token(registered)
    hub = registered_hub(registered)
    async with open_robot_socket(registered.port, f"/{token}", host=HOST) as ws:
        with trio.fail_after(10):
            await hub.wait_connected(ROBOT_NAME)
            await ws.send_message("anything the robot says is ignored")
            assert await hub.notify(ROBOT_NAME, {"type": "remote", "n": 1})
            assert json.loads(await ws.get_message()) == {"type": "remote", "n": 1}
        assert hub.accounts_connected() == {ACCOUNT_ID}
    with trio.fail_after(10):
        await hub.wait_connected(ROBOT_NAME, connected=False)
    ((_, kind, opened, closed),) = await registered.runtime.storage.sessions_of(ROBOT_NAME)
    assert kind == "notification"
    assert closed >= opened


async def test_queued_notifications_are_delivered_on_connect(registered: RunningServer) -> None:
    hub = registered_hub(registered)
    assert not await hub.notify(ROBOT_NAME, {"queued": 1})
    assert not await hub.notify(ROBOT_NAME, {"queued": 2})
    token = await new_token(registered)
    async with open_robot_socket(registered.port, f"/{token}", host=HOST) as ws:
        with trio.fail_after(10):
            got = {json.loads(await ws.get_message())["queued"] for _ in range(2)}
    assert got == {1, 2}


async def test_get_status_reports_the_connection(registered: RunningServer) -> None:
    token = await new_token(registered)
    hub = registered_hub(registered)
    async with httpx.AsyncClient(base_url=registered.http_url) as http:
        client = RestClient(http)
        before = await client.ok("Notification_20150505.GetStatus", {"accountId": ACCOUNT_ID})
        async with open_robot_socket(registered.port, f"/{token}", host=HOST):
            with trio.fail_after(10):
                await hub.wait_connected(ROBOT_NAME)
            during = await client.ok("Notification_20150505.GetStatus", {"accountId": ACCOUNT_ID})
    assert (before, during) == ({"connected": False}, {"connected": True})


def registered_hub(server: RunningServer) -> NotificationHub:
    hub = hub_for(server.runtime)
    assert hub is not None
    return hub


async def test_the_refusal_carries_the_plain_text_reason(registered: RunningServer) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(registered.port, "/bogus", host=HOST):
            pass
    assert (info.value.status_code, info.value.body) == (401, b"Authorization is required")


async def test_a_bare_host_reaches_the_same_socket(
    registered: RunningServer,
) -> None:
    """Robots pointed at an IP send that IP as Host: a host of no kind, where the router tries
    the exact paths, then the token socket."""
    token = await new_token(registered)
    hub = registered_hub(registered)
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(registered.port, "/bogus", host="127.0.0.1"):
            pass
    assert info.value.status_code == 401
    async with open_robot_socket(registered.port, f"/{token}", host="127.0.0.1") as ws:
        with trio.fail_after(10):
            await hub.wait_connected(ROBOT_NAME)
            assert await hub.notify(ROBOT_NAME, {"via": "bare host"})
            assert json.loads(await ws.get_message()) == {"via": "bare host"}


async def test_other_api_socket_paths_are_404(registered: RunningServer) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(registered.port, "/v1/listen", host=HOST):
            pass
    assert info.value.status_code == 404
