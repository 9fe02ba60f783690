"""The remote recogniser reuses one HTTP client across turns, against a real local
transcription server. ``httpx.AsyncClient.__init__`` is counted for the whole test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.http_clients import ASR, ServiceClients
from jibo_cloud.services import AsrResult
from jibo_cloud.speech.remote import RemoteRecognizer
from tests.skills.local_http import start_local_http
from tests.speech.test_remote import run, transcriber

pytestmark = pytest.mark.speech

TURNS = 6


@pytest.fixture
def clients_built(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    built: list[httpx.AsyncClient] = []
    original = httpx.AsyncClient.__init__

    def counting(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counting)
    return built


async def test_many_turns_share_the_runtime_s_client(
    nursery: trio.Nursery,
    speak: Callable[..., list[bytes]],
    clients_built: list[httpx.AsyncClient],
) -> None:
    server = await start_local_http(nursery, transcriber("what time is it"))
    clients = ServiceClients()
    recognizer = RemoteRecognizer(server.url, http=clients.get(ASR))
    pages = speak("what time is it")
    for _ in range(TURNS):
        _, result = await run(recognizer, pages)
        assert result == AsrResult(text="what time is it", confidence=0.9)
    assert len(server.requests) == TURNS
    assert server.connections == 1
    assert len(clients_built) == 1
    await recognizer.aclose()
    assert not clients_built[0].is_closed  # the runtime's client: the runtime closes it
    await clients.aclose()
    assert clients_built[0].is_closed


async def test_a_recogniser_on_its_own_builds_one_and_closes_it(
    nursery: trio.Nursery,
    speak: Callable[..., list[bytes]],
    clients_built: list[httpx.AsyncClient],
) -> None:
    server = await start_local_http(nursery, transcriber("hello"))
    recognizer = RemoteRecognizer(server.url)
    pages = speak("hello")
    for _ in range(TURNS):
        _, result = await run(recognizer, pages)
        assert result.text == "hello"
    assert len(clients_built) == 1
    await recognizer.aclose()
    assert clients_built[0].is_closed
