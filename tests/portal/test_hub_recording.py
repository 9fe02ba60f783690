"""The hub writes each listen turn to the owner's Voice history (docs/portal.md).

A typed turn through the real server's hub ends in a voice-history line for the robot that
spoke, with what was heard, the intent and the skill; a household that turned history off
gets none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from tests.portal.support import portal_server
from tests.rest.support import SPEC
from tests.support import hub_client as hc


async def _turn(port: int, token: str, text: str) -> None:
    frames = await hc.text_turn(port, token, text)
    assert "LISTEN" in [f["type"] for f in frames]


async def _turns_after(storage: Any, seconds: float) -> list[Any]:
    """The robot's recorded turns once some arrive (the write is a background task that
    signals nothing, so the test polls the storage)."""
    with trio.move_on_after(seconds):
        while not (found := await storage.list_voice_turns([SPEC.name])):  # noqa: ASYNC110
            await trio.sleep(0.02)
        return list(found)
    return []


async def test_a_listen_turn_reaches_the_voice_history(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal:
        server = portal.server
        token = hc.hub_token(server.config, account=SPEC.account_id, robot=SPEC.name)
        await _turn(server.port, token, "tell me a joke")
        turns = await _turns_after(portal.storage, 10)
        assert len(turns) == 1
        turn = turns[0]
        assert turn.robot_name == SPEC.name
        assert turn.heard == "tell me a joke"
        assert turn.intent
        assert turn.skill
        assert turn.error == ""
