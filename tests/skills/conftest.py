"""Fixtures the report and answers skill tests share: the local provider stand-ins and the
per-service HTTP clients a server would hold (jibo_cloud/http_clients.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from jibo_cloud.http_clients import ServiceClients
from tests.skills.servers import FakeServices, start_fake_services


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeServices:
    return await start_fake_services(nursery)


@pytest.fixture
async def clients() -> AsyncIterator[ServiceClients]:
    registry = ServiceClients()
    yield registry
    await registry.aclose()
