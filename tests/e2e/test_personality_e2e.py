"""Semantic understanding end to end: a real server and hub, a robot's typed turn.

"how old are you" is answered by the personality skill; an open paraphrase of a command
("could you count down ten minutes for me") launches the robot's clock with the duration.
"""

from __future__ import annotations

from pathlib import Path

import trio

from jibo_cloud.skills import personality
from tests.support import hub_client as hc
from tests.support.hub_client import spoken, text_turn
from tests.support.server import start_server


async def test_how_old_are_you_is_answered_by_the_personality(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    frames = await text_turn(server.port, hc.hub_token(server.config), "how old are you")
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    assert frames[2]["data"]["match"] == {
        "skillID": "chitchat-skill",
        "launch": True,
        "onRobot": False,
    }
    assert frames[2]["data"]["nlu"]["intent"] == "howDescriptorIsJibo"
    ages = {answer.replace("&apos;", "'") for answer in personality.TOPICS[0][2]}
    assert any(answer in spoken(frames[3]) for answer in ages)
    server.stop()


async def test_an_open_paraphrase_launches_the_robots_timer(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    text = "could you count down ten minutes for me"
    frames = await text_turn(server.port, hc.hub_token(server.config), text)
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[2]["final"] is True
    assert frames[2]["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert frames[2]["data"]["nlu"] == {
        "intent": "start",
        "entities": {
            "skill": "@be/clock",
            "domain": "timer",
            "hours": None,
            "minutes": 10,
            "seconds": None,
        },
        "rules": ["launch"],
    }
    server.stop()
