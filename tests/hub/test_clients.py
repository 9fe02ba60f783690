"""Remote parser, skill and history clients against a real local HTTP server (§5)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.clients import RemoteHistory, RemoteParser, call_remote_skill, open_history
from jibo_cloud.hub.history import MemoryHistory
from jibo_cloud.logs import TraceContext, trace_scope
from tests.hub.peer import Peer, serve_peer

TRACE = TraceContext(trans_id="tid-1", robot_id="Robot-1", levels={"hub": "debug"})


async def test_parser_sends_the_nlu_envelope_with_trace_headers(nursery: trio.Nursery) -> None:
    peer = Peer(routes={"/v1/parse": (200, {"type": "NLU", "data": {"intent": "x", "rules": []}})})
    await nursery.start(serve_peer, peer)
    parser = RemoteParser(base_url=peer.url + "/", now_ms=lambda: 42)
    with trace_scope(TRACE):
        nlu = await parser.parse({"text": "hi", "rules": ["launch"], "loop": {"users": []}})
    await parser.aclose()
    assert nlu == {"intent": "x", "rules": []}
    (sent,) = peer.seen("/v1/parse")
    assert sent["json"]["type"] == "NLU"
    assert sent["json"]["ts"] == 42
    assert sent["json"]["data"] == {"text": "hi", "rules": ["launch"], "loop": {"users": []}}
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["x-jibo-transid"] == "tid-1"
    assert headers["x-jibo-robotid"] == "Robot-1"
    assert headers["x-jibo-logging-config"] == '{"hub":"debug"}'


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ((503, {"message": "down"}), "Request failed with status code 503"),
        ((200, ["not", "an", "object"]), "answer has no NLU object"),
    ],
)
async def test_parser_failures_become_upstream_errors(
    nursery: trio.Nursery, answer: tuple[int, Any], detail: str
) -> None:
    peer = Peer(routes={"/v1/parse": answer})
    await nursery.start(serve_peer, peer)
    parser = RemoteParser(base_url=peer.url, now_ms=lambda: 0)
    with pytest.raises(UpstreamError) as info:
        await parser.parse({"text": ""})
    await parser.aclose()
    assert info.value.service == "parser"
    assert info.value.detail == detail


async def test_unreachable_service_is_an_upstream_error() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(UpstreamError) as info:
            await call_remote_skill(client, "http://127.0.0.1:9/skill", {"type": "LISTEN_LAUNCH"})
    assert info.value.service == "skill"


async def test_skill_reply_must_be_a_typed_message(nursery: trio.Nursery) -> None:
    peer = Peer(routes={"/skill": (200, {"data": {}})})
    await nursery.start(serve_peer, peer)
    async with httpx.AsyncClient() as client:
        with pytest.raises(UpstreamError, match="reply is not a message with a type"):
            await call_remote_skill(client, peer.url + "/skill", {"type": "LISTEN_LAUNCH"})


async def test_remote_history_posts_both_records_and_mirrors_launches(
    nursery: trio.Nursery,
) -> None:
    peer = Peer()
    await nursery.start(serve_peer, peer)
    history = open_history(peer.url, now_ms=lambda: 1000)
    assert isinstance(history, RemoteHistory)
    launch = {"robotID": "r", "sessionID": "s", "skillID": "k", "intent": "i", "personIDs": []}
    await history.skill_launched(launch)
    await history.speech({"robotID": "r", "transID": "t"})
    await history.aclose()
    assert peer.seen("/v1/skill/launch")[0]["json"] == launch
    assert peer.seen("/v1/speech")[0]["json"] == {"robotID": "r", "transID": "t"}
    assert await history.launches("r") == [{**launch, "timestamp": 1000}]


async def test_memory_history_is_bounded_per_robot_and_in_robots() -> None:
    history = MemoryHistory(now_ms=lambda: 5, max_records=3, max_robots=2)
    for i in range(5):
        await history.skill_launched({"robotID": "a", "skillID": str(i)})
    await history.skill_launched({"robotID": "b", "skillID": "x"})
    await history.skill_launched({"robotID": "c", "skillID": "y"})
    assert await history.launches("a") == []  # least recently used robot dropped
    assert [x["skillID"] for x in await history.launches("c")] == ["y"]
    assert isinstance(open_history(None, now_ms=lambda: 0), MemoryHistory)
