"""The runtime's per-service HTTP clients: built at start-up for the configured
services, handed to the providers, closed at shutdown; the registry builds each one once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.http_clients import ASR, CHAT, WEATHER, ServiceClients
from jibo_cloud.runtime import open_runtime
from tests.skills.local_http import SeenRequest, json_reply, start_local_http
from tests.skills.test_builtin_skills import esml_of, request
from tests.support import server as support_server


async def test_the_registry_builds_each_service_once() -> None:
    made: list[str] = []

    def factory(service: str) -> httpx.AsyncClient:
        made.append(service)
        return httpx.AsyncClient()

    clients = ServiceClients(factory=factory)
    first = clients.get(WEATHER)
    assert all(clients.get(WEATHER) is first for _ in range(50))
    assert clients.get(CHAT) is not first
    assert made == [WEATHER, CHAT]
    assert clients.services == (WEATHER, CHAT)
    await clients.aclose()
    assert first.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        clients.get(WEATHER)


async def test_the_runtime_opens_hands_out_and_closes_the_clients(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def answer(req: SeenRequest) -> tuple[int, bytes]:
        return json_reply(200, {"choices": [{"message": {"content": "Hello!"}}]})

    server = await start_local_http(nursery, answer)
    config = support_server.test_config(tmp_path / "data", asr_url=server.url, chat_url=server.url)
    async with open_runtime(config) as runtime:
        assert runtime.http.services == (ASR, CHAT)
        assert runtime.recognizer.http is runtime.http.get(ASR)  # type: ignore[attr-defined]
        built: list[Any] = []
        original = httpx.AsyncClient.__init__

        def counting(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
            built.append(self)
            original(self, *args, **kwargs)

        monkeypatch.setattr(httpx.AsyncClient, "__init__", counting)
        skill = runtime.skill_handlers["cloud-chat"]
        for _ in range(10):
            reply = await skill(request("chat", entities={"utterance": "hello"}))
            assert "Hello!" in esml_of(reply)
        assert built == []  # the turns used the client built at start-up
        assert server.connections == 1
        shared = [runtime.http.get(ASR), runtime.http.get(CHAT)]
    assert all(client.is_closed for client in shared)


async def test_no_client_for_services_not_configured(tmp_path: Path) -> None:
    async with open_runtime(support_server.test_config(tmp_path / "data")) as runtime:
        assert runtime.http.services == ()
