"""Replay the original hub's recorded transactions against our hub (PROTOCOL.md §4.4, §5).

``../shared/fixtures/pegasus-reference/transactions.hub-excerpt.json`` holds what the original
Pegasus hub sent on its sockets and to its services for scripted robot frames. Here the
fixture peer (parser, skill, history) is a real local HTTP server answering exactly as
recorded, our server is configured to use it, and the robot frames are replayed over a real
websocket. Compared: frame types and order, ``final`` flags, the payload fields the robot
reads (``asr``, ``nlu``, ``match``, ERROR ``code``/``message``, the forwarded skill data),
and the service requests (paths, bodies that matter, trace headers). Deliberate differences
are listed in docs/hub.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.hub.peer import Peer, serve_peer
from tests.support import hub_client as hc
from tests.support.env import shared_fixtures
from tests.support.robot import open_robot_socket
from tests.support.server import start_server

HUB_CASES = [
    "hub-listen-launch",
    "hub-listen-relaunch",
    "hub-listen-update",
    "hub-listen-no-match",
    "hub-listen-provider-failure",
]


def _reference() -> dict[str, Any]:
    path = shared_fixtures("pegasus-reference", "transactions.hub-excerpt.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _peer_for(ref: dict[str, Any], case: str) -> Peer:
    effects = [e for e in ref["sideEffects"] if e["for"] == case]
    peer = Peer()
    for effect in effects:
        response = effect["response"]
        path = "/skill" if effect["path"] == "/skill" else effect["path"]
        peer.routes[path] = (response["status"], response.get("json", {}))
    return peer


def _skills_dir(tmp_path: Path, peer: Peer, ref: dict[str, Any]) -> Path:
    served = ref["skillsConfigServed_abridged"]["GET /skills/fixture-robot"]["skills"][0]
    folder = tmp_path / "skills"
    folder.mkdir()
    manifest = {"id": served["id"], "intents": served["intents"]}
    (folder / "skill1_manifest.json").write_text(json.dumps(manifest))
    listing = {"skills": [{"baseURL": f"{peer.url}/skill", "configPath": "skill1_manifest.json"}]}
    (folder / "skills.json").write_text(json.dumps(listing))
    return folder


def _essential(frame: dict[str, Any]) -> dict[str, Any]:
    """What the robot reads from a frame (ids, ts and timing values vary by run)."""
    out: dict[str, Any] = {"type": frame["type"], "final": frame.get("final")}
    data = frame.get("data")
    if frame["type"] in ("SOS", "EOS"):
        out["data"] = data
        out["timings"] = frame.get("timings")
    elif frame["type"] == "LISTEN":
        out["data"] = {k: data[k] for k in ("asr", "nlu", "match")}
        out["timing_keys"] = sorted(frame["timings"])
    elif frame["type"] == "ERROR":
        out["data"] = {"code": data.get("code"), "message": data["message"]}
    else:  # a forwarded skill reply
        out["data"] = data
        out["timing_keys"] = sorted(frame["timings"])
    return out


@pytest.mark.shared
@pytest.mark.parametrize("case", HUB_CASES)
async def test_recorded_transaction(case: str, nursery: trio.Nursery, tmp_path: Path) -> None:
    ref = _reference()
    (txn,) = [t for t in ref["transactions"] if t["name"] == case]
    peer = _peer_for(ref, case)
    await nursery.start(serve_peer, peer)
    server = await start_server(
        nursery,
        tmp_path / "data",
        parser_url=peer.url,
        history_url=peer.url,
        skills_dir=_skills_dir(tmp_path, peer, ref),
    )
    await hc.register_hub_robot(  # the token's robot must exist
        server.runtime.storage, server.runtime.now_ms(), account="fixture-account",
        robot="fixture-robot", robot_id="fixture-robot-id",
    )  # fmt: skip
    token = hc.hub_token(server.config, account="fixture-account", robot="fixture-robot")
    headers = [
        ("Authorization", f"Bearer {token}"),
        ("x-jibo-robotid", "fixture-robot"),
        ("x-jibo-transid", "fixture-transaction"),
    ]
    with trio.fail_after(20):
        async with open_robot_socket(server.port, txn["request"]["path"], headers=headers) as ws:
            for frame in txn["request"]["frames"]:
                await ws.send_message(json.dumps(frame))
            robot = hc.HubRobot(ws)
            frames = await robot.receive_until_final()
    assert [_essential(f) for f in frames] == [_essential(f) for f in txn["frames"]]

    effects = [e for e in ref["sideEffects"] if e["for"] == case]
    for effect in effects:
        (sent, *_) = await peer.wait_for(effect["path"])
        want = effect["json"]
        if effect["path"] == "/v1/parse":
            assert sent["json"]["type"] == "NLU"
            assert sent["json"]["data"] == want["data"]
        elif effect["path"] == "/skill":
            assert sent["json"]["type"] == want["type"]
            for key in ("runtime", "skill", "result"):
                assert sent["json"]["data"][key] == want["data"][key], key
            general = sent["json"]["data"]["general"]
            assert (general["accountID"], general["robotID"]) == (
                "fixture-account",
                "fixture-robot",
            )
        else:
            assert sent["json"] == want
        # §5: trace headers forwarded to every service.
        headers_sent = {k.lower(): v for k, v in sent["headers"].items()}
        assert headers_sent["x-jibo-transid"] == "fixture-transaction"
        assert headers_sent["x-jibo-robotid"] == "fixture-robot"
    server.stop()


@pytest.mark.shared
@pytest.mark.parametrize("case", ["hub-listen-auth-required", "base-ws-not-found"])
async def test_recorded_upgrade_refusals(case: str, nursery: trio.Nursery, tmp_path: Path) -> None:
    from trio_websocket import ConnectionRejected

    ref = _reference()
    (txn,) = [t for t in ref["transactions"] if t["name"] == case]
    server = await start_server(nursery, tmp_path / "data")
    headers = (
        [("Authorization", f"Bearer {hc.hub_token(server.config)}")] if "not-found" in case else []
    )
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(server.port, txn["request"]["path"], headers=headers):
            pass
    assert info.value.status_code == txn["upgrade"]["status"]
    assert info.value.body.decode() == txn["upgrade"]["body"]
    server.stop()


@pytest.mark.shared
async def test_pegasus_manifests_load_and_route(tmp_path: Path, nursery: trio.Nursery) -> None:
    skills = shared_fixtures("pegasus-reference", "skills")
    server = await start_server(nursery, tmp_path / "data", skills_dir=skills)
    table = server.runtime.skills
    ids = {s.skill_id for s in table.skills}
    assert {"@be/clock", "report-skill", "chitchat-skill"} <= ids
    frames = await hc.one_turn(
        server.port,
        hc.hub_token(server.config),
        hc.listen("CLIENT_NLU"),
        hc.client_nlu("whenIsBirthday", {"skill": "@be/clock", "loopMemberReferent": "mom"}),
        hc.context(),
    )
    assert frames[-1]["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    server.stop()
