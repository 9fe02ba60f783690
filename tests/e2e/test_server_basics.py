"""The real server on an ephemeral port: health, the robot's probe, socket routing."""

from __future__ import annotations

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer


async def test_healthcheck_and_probe(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        health = await client.get("/healthcheck")
        probe = await client.get("/", headers={"Host": "api.jibo.com"})
    assert (health.status_code, health.text) == (200, "ok")
    assert probe.status_code == 204


async def test_unknown_socket_path_is_404_with_the_original_text(server: RunningServer) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_websocket_url(f"{server.ws_url}/v1/nowhere/at/all"):
            pass
    assert info.value.status_code == 404
    assert info.value.body == b"WebSocket url '/v1/nowhere/at/all' has no handler"


async def test_hub_host_never_falls_back_to_token_socket(server: RunningServer) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(server.port, "/sometoken", host="neo-hub.jibo.com"):
            pass
    assert info.value.status_code == 404
