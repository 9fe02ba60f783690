"""The simulator against the real server: a full boot, then turns with the boot's hub token."""

from __future__ import annotations

import trio

from jibo_cloud.tools import sim_hub
from jibo_cloud.tools.sim_boot import run_boot
from jibo_cloud.tools.target import Target
from tests.tools.conftest import Provisioned


async def test_boot_then_turn_with_the_boot_token(provisioned: Provisioned) -> None:
    target = Target.parse(provisioned.server.http_url, robot_hosts=True)
    with trio.fail_after(20):
        boot = await run_boot(target, provisioned.robot)
    assert [s.name.split()[0] for s in boot.steps] == [
        "1", "2", "3", "3b", "4", "5", "5b", "6", "7", "8", "9", "10", "11", "12", "13", "14",
        "15", "16",
    ]  # fmt: skip
    assert boot.ok, [s.describe() for s in boot.steps if not s.ok]
    assert boot.hub_token is not None
    with trio.fail_after(20):
        turn = await sim_hub.run_transaction(
            target,
            "/v1/listen",
            sim_hub.client_asr_script("tell me a joke", provisioned.robot),
            token=boot.hub_token,
        )
    assert turn.ok, turn.error
    hub_types = [f.type for f in turn.frames if f.sender == "hub" and f.kind == "text"]
    assert hub_types[:2] == ["SOS", "EOS"]
    assert turn.final is not None
    assert turn.final.type in ("LISTEN", "SKILL_ACTION")


async def test_unknown_robot_boot_reports_the_robots_consequence(provisioned: Provisioned) -> None:
    import attrs

    stranger = attrs.evolve(provisioned.robot, robot_id="f" * 24)
    target = Target.parse(provisioned.server.http_url)
    with trio.fail_after(20):
        boot = await run_boot(target, stranger)
    loops = [s for s in boot.steps if "ListLoops" in s.name]
    assert not boot.ok
    assert all(not s.ok for s in loops)
    assert "the robot would show a lost connection" in loops[0].consequence


async def test_client_nlu_and_proactive(provisioned: Provisioned) -> None:
    target = Target.parse(provisioned.server.http_url, robot_hosts=True)
    boot = await run_boot(target, provisioned.robot)
    with trio.fail_after(20):
        nlu = await sim_hub.run_transaction(
            target,
            "/v1/listen",
            sim_hub.client_nlu_script(
                "loadMenu",
                {"destination": "clock"},
                ["main-menu/execute_main_menu"],
                provisioned.robot,
            ),
            token=boot.hub_token,
        )
        pro = await sim_hub.run_transaction(
            target,
            "/v1/proactive",
            sim_hub.proactive_script("SURPRISE", provisioned.robot),
            token=boot.hub_token,
        )
    assert nlu.ok, nlu.error
    assert pro.ok, pro.error
    assert pro.final is not None
    assert pro.final.type == "PROACTIVE"


async def test_turn_without_token_is_refused_with_the_hubs_reason(
    provisioned: Provisioned,
) -> None:
    target = Target.parse(provisioned.server.http_url, robot_hosts=True)
    with trio.fail_after(20):
        turn = await sim_hub.run_transaction(
            target, "/v1/listen", sim_hub.client_asr_script("hi", provisioned.robot), token=None
        )
    assert not turn.ok
    assert turn.frames[0].kind == "rejected"
    assert turn.frames[0].code == 401
    assert turn.frames[0].raw == "Authorization is required"
