"""The portal on its own host name, on the real server: a host mapped to ``portal`` serves
only the portal (``/`` redirects there; REST, downloads and robot sockets are 404), other
hosts keep ``/portal`` unless ``JIBO_PORTAL_HOSTS_ONLY`` is on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected

from jibo_cloud.cli import main
from jibo_cloud.storage import open_storage
from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support import server as support_server
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer

PORTAL_HOST = "portal.example.org"
#: The mapped name as browsers and proxies may spell it: any case, a port, a trailing dot.
SPELLINGS = (PORTAL_HOST, "Portal.Example.ORG", f"{PORTAL_HOST}:8443", f"{PORTAL_HOST}.")
TOKEN = "Notification_20150505.NewRobotToken"
OTHER_HOSTS = ("api.jibo.com", "127.0.0.1", "localhost:8080")


async def start(nursery: trio.Nursery, tmp_path: Path, **overrides: Any) -> RunningServer:
    data_dir = tmp_path / "data"
    config = support_server.test_config(data_dir)
    async with open_storage(config) as storage:  # mappings are loaded at start-up
        await storage.put_host_mapping(PORTAL_HOST, "portal", now_ms=1)
    server = await support_server.start_server(nursery, data_dir, **overrides)
    await register_robot(server)
    return server


@pytest.fixture
async def server(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start(nursery, tmp_path)
    yield running
    running.stop()


def get(http: httpx.AsyncClient, path: str, host: str) -> Any:
    return http.get(path, headers={"Host": host})


async def test_a_portal_host_serves_the_portal_and_nothing_of_the_robot_s(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=20) as http:
        for host in SPELLINGS:
            root = await get(http, "/", host)
            assert (root.status_code, root.headers["location"]) == (302, "/portal/"), host
            assert (await get(http, "/portal/signin", host)).status_code == 200, host
            assert (await get(http, "/healthcheck", host)).status_code == 200, host
            for path in ("/updates/x/package", "/media/x", "/upload/binary", "/v1/listen"):
                assert (await get(http, path, host)).status_code == 404, (host, path)
            rest = await RestClient(http, host=host).call(TOKEN, {"deviceId": ROBOT_NAME})
            assert rest.status_code == 404, host
    for path in ("/v1/listen", "/some-robot-token"):
        with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
            async with open_robot_socket(server.port, path, host=PORTAL_HOST):
                pass
        assert info.value.status_code == 404


async def test_other_hosts_keep_the_portal_and_the_robot_s_paths(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=20) as http:
        for host in OTHER_HOSTS:
            assert (await get(http, "/portal/signin", host)).status_code == 200, host
            assert (await get(http, "/", host)).status_code == 204, host  # the robot's probe
            assert await RestClient(http, host=host).ok(TOKEN, {"deviceId": ROBOT_NAME})


async def test_portal_hosts_only_keeps_the_portal_off_other_hosts(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start(nursery, tmp_path, portal_hosts_only=True)
    try:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=20) as http:
            for host in OTHER_HOSTS:
                for path in ("/portal", "/portal/", "/portal/signin", "/portal/static/portal.css"):
                    assert (await get(http, path, host)).status_code == 404, (host, path)
                assert (await get(http, "/", host)).status_code == 204, host
                assert (await get(http, "/portalx", host)).status_code == 404, host
            for host in SPELLINGS:
                assert (await get(http, "/portal/signin", host)).status_code == 200, host
    finally:
        server.stop()


def test_the_host_command_maps_a_name_to_the_portal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--data-dir", str(tmp_path / "data")]
    assert main(["host", "add", PORTAL_HOST, "--service", "portal", *store]) == 0
    assert f"mapped {PORTAL_HOST} -> portal" in capsys.readouterr().out
    assert main(["host", "list", *store]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{PORTAL_HOST}\tportal"]
