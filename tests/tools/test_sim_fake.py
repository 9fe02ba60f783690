"""The simulator against the small fake cloud: frames both ways, final detection, failures."""

from __future__ import annotations

import trio

from jibo_cloud.tools import sim_hub
from jibo_cloud.tools.robot import RobotIdentity
from jibo_cloud.tools.target import Target
from tests.tools.fakes import Faults, start_fake_cloud


async def test_turn_records_both_directions(nursery: trio.Nursery) -> None:
    port = await start_fake_cloud(nursery)
    target = Target.parse(f"http://127.0.0.1:{port}")
    with trio.fail_after(10):
        result = await sim_hub.run_transaction(
            target,
            "/v1/listen",
            sim_hub.client_asr_script("tell me a joke", RobotIdentity()),
            token=None,
        )
    assert result.ok, result.error
    kinds = [(f.sender, f.type) for f in result.frames if f.kind == "text"]
    assert [t for s, t in kinds if s == "robot"] == ["LISTEN", "CLIENT_ASR", "CONTEXT"]
    assert [t for s, t in kinds if s == "hub"] == ["SOS", "EOS", "LISTEN"]
    assert result.final is not None
    assert result.final.type == "LISTEN"
    times = [f.t_ms for f in result.frames]
    assert times == sorted(times)


async def test_crash_without_error_is_reported(nursery: trio.Nursery) -> None:
    port = await start_fake_cloud(nursery, Faults(crash_on_bad_intent=True))
    target = Target.parse(f"http://127.0.0.1:{port}")
    script = sim_hub.client_nlu_script("x", {}, ["launch"], RobotIdentity())
    script[1]["data"]["intent"] = 7  # type: ignore[index]
    with trio.fail_after(10):
        result = await sim_hub.run_transaction(target, "/v1/listen", script, token=None)
    assert not result.ok
    assert result.error == "the server closed the socket without a final frame"
    assert result.frames[-1].kind == "close"
    assert result.frames[-1].code == 1011


async def test_refused_upgrade_is_recorded(nursery: trio.Nursery) -> None:
    port = await start_fake_cloud(nursery)
    target = Target.parse(f"http://127.0.0.1:{port}")
    with trio.fail_after(10):
        result = await sim_hub.run_transaction(target, "/nowhere", [], token="t")
    assert not result.ok
    assert result.frames[0].kind == "rejected"
    assert result.frames[0].code == 404
