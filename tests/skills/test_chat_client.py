"""The chat skill reuses one HTTP client across turns, against a real local server.

A client built per request cost ~75 ms of CPU on the trio thread and reused no connection.
``httpx.AsyncClient.__init__`` is counted for the whole test, so a client built anywhere on
the turn path shows up, not only one built through the registry.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.http_clients import CHAT, ServiceClients
from jibo_cloud.skills import chat
from tests.skills.local_http import SeenRequest, json_reply, start_local_http
from tests.skills.test_builtin_skills import esml_of as esml
from tests.skills.test_builtin_skills import handlers, request

TURNS = 25


@pytest.fixture
def clients_built(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every httpx.AsyncClient constructed while the test runs."""
    built: list[httpx.AsyncClient] = []
    original = httpx.AsyncClient.__init__

    def counting(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counting)
    return built


async def answer(req: SeenRequest) -> tuple[int, bytes]:
    said = req.json()["messages"][1]["content"]
    return json_reply(200, {"choices": [{"message": {"content": f"You said {said}."}}]})


async def test_many_turns_through_the_runtime_s_client_build_none(
    nursery: trio.Nursery, clients_built: list[httpx.AsyncClient]
) -> None:
    server = await start_local_http(nursery, answer)
    clients = ServiceClients()
    shared = clients.get(CHAT)
    assert len(clients_built) == 1
    skill = handlers(chat_url=server.url, chat_http=shared)["cloud-chat"]
    for i in range(TURNS):
        reply = await skill(request("chat", entities={"utterance": f"number {i}"}))
        assert f"You said number {i}." in esml(reply)
    assert len(server.requests) == TURNS
    assert server.connections == 1  # one kept-alive connection served every turn
    assert clients_built == [shared]  # no client built on the turn path
    await clients.aclose()
    assert shared.is_closed


async def test_a_skill_without_the_runtime_s_client_builds_one_once(
    nursery: trio.Nursery, clients_built: list[httpx.AsyncClient]
) -> None:
    server = await start_local_http(nursery, answer)
    skill = handlers(chat_url=server.url)["cloud-chat"]  # tests and tools: no runtime
    for i in range(TURNS):
        reply = await skill(request("chat", entities={"utterance": f"hi {i}"}))
        assert f"You said hi {i}." in esml(reply)
    assert len(server.requests) == TURNS
    assert len(clients_built) == 1
    await clients_built[0].aclose()


async def test_the_deadline_is_still_the_caller_s_cancel_scope(
    nursery: trio.Nursery, autojump_clock: Any
) -> None:
    async def hang(req: SeenRequest) -> tuple[int, bytes]:
        await trio.sleep_forever()
        raise AssertionError

    server = await start_local_http(nursery, hang)
    clients = ServiceClients()
    skill = handlers(chat_url=server.url, chat_http=clients.get(CHAT))["cloud-chat"]
    start = trio.current_time()
    reply = await skill(request("chat", entities={"utterance": "hi"}))
    assert trio.current_time() - start == pytest.approx(chat.CHAT_TIMEOUT_SECONDS)
    assert "slow" in esml(reply)
    await clients.aclose()
