"""Pump one ``/v1/proactive`` socket (placeholder until the proactive machine lands)."""

from __future__ import annotations

import httpx
import trio

from jibo_cloud.hub.session import HubSocket
from jibo_cloud.runtime import Runtime
from protocol.listen import Identity


async def run_proactive(
    runtime: Runtime, hub: HubSocket, identity: Identity, *, http: httpx.AsyncClient | None
) -> None:
    await trio.sleep_forever()
