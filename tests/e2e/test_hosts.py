"""Operator host mappings on the real server: the mapped service decides, prefixes do not.

The mappings are written to the storage before the server starts (it loads them at start-up),
except in the last tests, which add one while the server runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected

from jibo_cloud.notify import NotificationHub, hub_for
from jibo_cloud.runtime import Runtime
from jibo_cloud.server import bound_port, serve
from jibo_cloud.storage import open_storage
from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support import hub_client as hc
from tests.support import server as support_server
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer

MAPPINGS = {
    "notify.example.org": "socket",
    "hub.example.org": "hub",
    "api.example.org": "api",
    # The exact mapping wins over the name's own prefix, both ways.
    "neo-hub.example.org": "socket",
    "api-socket.example.org": "hub",
}


async def start_mapped_server(
    nursery: trio.Nursery, data_dir: Path, mappings: dict[str, str], *, refresh: float = 30.0
) -> RunningServer:
    """Write ``mappings``, then start the server (like tests/support/server.start_server, plus
    the refresh interval, which only :func:`serve` takes)."""
    config = support_server.test_config(data_dir)
    async with open_storage(config) as storage:
        for host, service in mappings.items():
            await storage.put_host_mapping(host, service, now_ms=1)
    stop_event = trio.Event()
    captured: list[Runtime] = []

    def start(task_status: trio.TaskStatus[list[str]]) -> Any:
        return serve(
            config, shutdown_trigger=stop_event.wait, runtime_hook=captured.append,
            host_refresh_seconds=refresh, task_status=task_status,
        )  # fmt: skip

    binds = await nursery.start(start)
    server = RunningServer(
        config=config, port=bound_port(binds), runtime=captured[0], stop_event=stop_event
    )
    await register_robot(server)
    # Hub tokens name a robot that exists.
    await hc.register_hub_robot(server.runtime.storage, server.runtime.now_ms())
    return server


@pytest.fixture
async def mapped(nursery: trio.Nursery, tmp_path: Path) -> Any:
    server = await start_mapped_server(nursery, tmp_path / "data", MAPPINGS)
    yield server
    server.stop()


async def robot_token(server: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    return str(answer["token"])


def notification_hub(server: RunningServer) -> NotificationHub:
    hub = hub_for(server.runtime)
    assert hub is not None
    return hub


async def assert_notification_socket_opens(server: RunningServer, host: str) -> None:
    """The token socket accepts, the robot shows as connected, and a notification arrives."""
    token = await robot_token(server)
    hub = notification_hub(server)
    async with open_robot_socket(server.port, f"/{token}", host=host) as ws:
        with trio.fail_after(10):
            await hub.wait_connected(ROBOT_NAME)
            assert await hub.notify(ROBOT_NAME, {"via": host})
            assert json.loads(await ws.get_message()) == {"via": host}
    with trio.fail_after(10):
        await hub.wait_connected(ROBOT_NAME, connected=False)


async def assert_hub_turn(server: RunningServer, host: str) -> None:
    """``/v1/listen`` accepts a hub token and runs a whole turn to its final reply."""
    headers = [("Authorization", f"Bearer {hc.hub_token(server.config)}")]
    with trio.fail_after(30):
        async with open_robot_socket(server.port, "/v1/listen", host=host, headers=headers) as ws:
            robot = hc.HubRobot(ws)
            await robot.send(
                hc.listen("CLIENT_NLU", hotphrase=False),
                hc.client_nlu("menu", {"skill": "@be/clock"}),
                hc.context(),
            )
            frames = await robot.receive_until_final()
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]


async def refusal(
    server: RunningServer, host: str, path: str, **kw: Any
) -> tuple[int, bytes | None]:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(server.port, path, host=host, **kw):
            pass
    return info.value.status_code, info.value.body


def no_handler(path: str) -> tuple[int, bytes | None]:
    """PROTOCOL.md §4.1: what a neo-hub host answers for a path it does not serve."""
    return 404, f"WebSocket url '{path}' has no handler".encode()


@pytest.mark.parametrize("host", ["notify.example.org", "NOTIFY.Example.org:8443"])
async def test_a_socket_host_opens_the_notification_socket(
    mapped: RunningServer, host: str
) -> None:
    await assert_notification_socket_opens(mapped, host)
    assert await refusal(mapped, host, "/not-issued") == (401, b"Authorization is required")


@pytest.mark.parametrize("path", ["/v1/listen", "/v1/proactive"])
async def test_a_socket_host_refuses_hub_paths(mapped: RunningServer, path: str) -> None:
    headers = [("Authorization", f"Bearer {hc.hub_token(mapped.config)}")]
    assert await refusal(mapped, "notify.example.org", path, headers=headers) == no_handler(path)


async def test_a_hub_host_runs_a_turn_and_refuses_a_token_path(mapped: RunningServer) -> None:
    await assert_hub_turn(mapped, "hub.example.org")
    token = await robot_token(mapped)
    assert await refusal(mapped, "hub.example.org", f"/{token}") == no_handler(f"/{token}")


async def test_an_exact_mapping_beats_the_prefix(mapped: RunningServer) -> None:
    await assert_notification_socket_opens(mapped, "neo-hub.example.org")
    await assert_hub_turn(mapped, "api-socket.example.org")
    token = await robot_token(mapped)
    # The bare-ASGI fast path must not take it for an api-socket.* host either.
    assert await refusal(mapped, "api-socket.example.org", f"/{token}") == no_handler(f"/{token}")


async def test_an_api_host_serves_rest_and_the_probe_but_no_socket(mapped: RunningServer) -> None:
    host = "api.example.org"
    async with httpx.AsyncClient(base_url=mapped.http_url) as http:
        probe = await http.get("/", headers={"Host": host})
        assert (probe.status_code, probe.content) == (204, b"")
        answer = await RestClient(http, host=host).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    token = str(answer["token"])
    assert await refusal(mapped, host, f"/{token}") == no_handler(f"/{token}")
    headers = [("Authorization", f"Bearer {hc.hub_token(mapped.config)}")]
    assert await refusal(mapped, host, "/v1/listen", headers=headers) == no_handler("/v1/listen")


async def test_unmapped_hosts_route_as_before(mapped: RunningServer) -> None:
    await assert_notification_socket_opens(mapped, "api-socket.jibo.com")
    await assert_notification_socket_opens(mapped, "127.0.0.1")  # permissive: a token path
    await assert_hub_turn(mapped, "neo-hub.jibo.com")
    await assert_hub_turn(mapped, "other.example.org")  # permissive: exact paths
    token = await robot_token(mapped)
    assert await refusal(mapped, "neo-hub.jibo.com", f"/{token}") == no_handler(f"/{token}")
    assert await refusal(mapped, "api-socket.jibo.com", "/v1/listen") == no_handler("/v1/listen")


async def wait_until(check: Callable[[], Any]) -> None:
    """Poll a real server's behaviour until ``check`` passes (its refresh runs in real time);
    until then ``check`` fails an assertion or has its upgrade refused."""
    with trio.fail_after(10):
        while True:
            try:
                await check()
            except (AssertionError, ConnectionRejected):
                await trio.sleep(0.05)
            else:
                return


async def test_a_mapping_added_while_running_takes_effect_at_the_next_refresh(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_mapped_server(nursery, tmp_path / "data", {}, refresh=0.2)
    host = "late.example.org"
    await assert_hub_turn(server, host)  # unmapped: the permissive rule takes /v1/listen
    await server.runtime.storage.put_host_mapping(host, "socket", now_ms=2)

    async def hub_paths_refused() -> None:
        assert await refusal(server, host, "/v1/listen") == no_handler("/v1/listen")

    await wait_until(hub_paths_refused)
    await assert_notification_socket_opens(server, host)
    await server.runtime.storage.remove_host_mapping(host)
    await wait_until(lambda: assert_hub_turn(server, host))
    server.stop()


async def test_requests_read_the_mappings_in_memory_not_the_storage(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """With the default 30 s refresh, a new row changes nothing until the next reload."""
    server = await start_mapped_server(nursery, tmp_path / "data", {})
    host = "late.example.org"
    await server.runtime.storage.put_host_mapping(host, "api", now_ms=2)
    await assert_hub_turn(server, host)  # still the permissive rule: the row is not read yet
    server.stop()
