"""The proactive socket end to end (PROTOCOL.md §4.6)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio

from jibo_cloud.storage.records import Loop
from tests.hub.peer import Peer, serve_peer
from tests.rest.support import ACCOUNT_ID, RestClient, register_robot
from tests.support import hub_client as hc
from tests.support.server import RunningServer, start_server


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


async def test_cloud_proactive_skill_is_launched_and_its_reply_forwarded(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    action = {"type": "SKILL_ACTION", "msgID": "m", "ts": 1, "data": {"action": {"type": "JCP"}}}
    peer = Peer(routes={"/skill": (200, action)})
    await nursery.start(serve_peer, peer)
    skills = tmp_path / "skills"
    skills.mkdir()
    manifest = {
        "id": "cloud-proactive",
        "intents": [],
        "proactives": [
            {
                "memo": "test offer",
                "contextRules": [
                    {"field": "TRIGGER_SOURCE", "matchRule": "EXACT", "value": "TEST_SOURCE"}
                ],
            }
        ],
    }
    (skills / "cloud.json").write_text(json.dumps(manifest))
    listing = {"skills": [{"baseURL": f"{peer.url}/skill", "configPath": "cloud.json"}]}
    (skills / "skills.json").write_text(json.dumps(listing))
    server = await start_server(nursery, tmp_path / "data", skills_dir=skills)
    # A greeting was just given, so the on-robot greeting is not a candidate this time.
    await server.runtime.history.skill_launched({"robotID": hc.ROBOT, "skillID": "@be/greetings"})
    frames = await hc.one_turn(
        server.port,
        hc.hub_token(server.config),
        hc.trigger("TEST_SOURCE", looper="u9"),
        hc.context(),
        path="/v1/proactive",
    )
    assert [(f["type"], f["final"]) for f in frames] == [
        ("PROACTIVE", False),
        ("SKILL_ACTION", True),
    ]
    assert frames[0]["data"]["match"]["skillID"] == "cloud-proactive"
    assert frames[0]["data"]["match"]["onRobot"] is False
    assert frames[1]["data"] == action["data"]
    assert set(frames[1]["timings"]) == {"total", "skill"}
    (sent,) = peer.seen("/skill")
    assert sent["json"]["type"] == "PROACTIVE_LAUNCH"
    assert sent["json"]["data"]["skill"] == {"id": "cloud-proactive"}
    assert sent["json"]["data"]["runtime"]["perception"]["speaker"] == "u9"
    assert sent["json"]["data"]["result"] == {"memo": "test offer"}
    server.stop()


async def test_settings_rules_read_what_update_settings_stored(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    # PROTOCOL.md §4.6: settings rules; the owner's settings arrive through the REST
    # Settings_20171219 service, stored per loop (CONTEXT names the loop: "loop-1").
    skills = tmp_path / "skills"
    skills.mkdir()
    manifest = {
        "id": "@be/opt-in",
        "intents": [],
        "proactives": [
            {
                "contextRules": [
                    {"field": "TRIGGER_SOURCE", "matchRule": "EXACT", "value": "TEST_SOURCE"}
                ],
                "settingsRules": [
                    {"skill": "@be/opt-in", "key": "offer", "matchRule": "EXACT", "value": "yes"}
                ],
            }
        ],
    }
    (skills / "opt-in.json").write_text(json.dumps(manifest))
    (skills / "skills.json").write_text(json.dumps({"skills": [{"configPath": "opt-in.json"}]}))
    server = await start_server(nursery, tmp_path / "data", skills_dir=skills)
    await register_robot(server)
    token = hc.hub_token(server.config)
    # A greeting was just given, so the on-robot greeting is not a candidate.
    await server.runtime.history.skill_launched({"robotID": hc.ROBOT, "skillID": "@be/greetings"})

    async def offered() -> dict[str, object]:
        frames = await hc.one_turn(
            server.port, token, hc.trigger("TEST_SOURCE"), hc.context(), path="/v1/proactive"
        )
        return frames[0]["data"]  # type: ignore[no-any-return]

    assert await offered() == {}  # the owner has not opted in
    setting = {"offer": {"skillId": "@be/opt-in", "dataService": "local", "value": "yes"}}
    # CONTEXT's loop must be one of the robot's loops for it to write the loop's settings.
    now = server.runtime.now_ms()
    await server.runtime.storage.put_loop(Loop("loop-1", "home", ACCOUNT_ID, now, now))
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        await RestClient(http).ok(
            "Settings_20171219.UpdateSettings",
            {"loopId": "loop-1", "transId": "t", "data": setting},
        )
    match = (await offered())["match"]
    assert match["skillID"] == "@be/opt-in"  # type: ignore[index]
    server.stop()
