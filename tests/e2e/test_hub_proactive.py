"""The proactive socket end to end (PROTOCOL.md §4.6)."""

from __future__ import annotations

import trio

from tests.support import hub_client as hc
from tests.support.server import RunningServer


async def test_new_arrival_offers_the_greeting_once(server: RunningServer) -> None:
    token = hc.hub_token(server.config)
    first = await hc.one_turn(
        server.port,
        token,
        hc.trigger("NEW_ARRIVAL", looper="u1"),
        hc.context(),
        path="/v1/proactive",
    )
    assert len(first) == 1
    assert first[0]["type"] == "PROACTIVE"
    assert first[0]["final"] is True
    assert first[0]["data"] == {
        "match": {
            "skillID": "@be/greetings",
            "launch": True,
            "onRobot": True,
            "isProactive": True,
            "skipSurprises": False,
        }
    }
    launches = await server.runtime.history.launches(hc.ROBOT)
    assert launches[-1]["intent"] == "proactive"
    assert launches[-1]["personIDs"] == ["u1"]
    # The greeting's history rule: at most one launch in two hours.
    second = await hc.one_turn(
        server.port, token, hc.context(), hc.trigger("NEW_ARRIVAL"), path="/proactive"
    )
    assert second[0]["data"] == {}
    assert second[0]["final"] is True


async def test_surprise_with_nothing_eligible_is_an_empty_proactive(server: RunningServer) -> None:
    token = hc.hub_token(server.config)
    frames = await hc.one_turn(
        server.port, token, hc.trigger("SURPRISE"), hc.context(), path="/v1/proactive"
    )
    assert [(f["type"], f["data"], f["final"]) for f in frames] == [("PROACTIVE", {}, True)]


async def test_listen_messages_are_refused_on_the_proactive_socket(server: RunningServer) -> None:
    token = hc.hub_token(server.config)
    with trio.fail_after(10):
        async with hc.open_hub(server.port, "/v1/proactive", token=token) as robot:
            await robot.send(hc.listen("CLIENT_ASR"))
            (error,) = await robot.receive_until_final()
    assert error["type"] == "ERROR"
    assert error["data"]["message"] == "can't handle LISTEN in state WAIT_INPUT"
