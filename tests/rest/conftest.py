from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.rest.support import RestClient, register_robot
from tests.support.server import RunningServer


@pytest.fixture
async def robot_server(server: RunningServer) -> RunningServer:
    """The real server (SQLite) with the test robot registered, key pair and all."""
    await register_robot(server)
    return server


@pytest.fixture
async def client(robot_server: RunningServer) -> AsyncIterator[RestClient]:
    async with httpx.AsyncClient(base_url=robot_server.http_url) as http:
        yield RestClient(http)
