"""The transaction driver: a machine that fails is failed for good and the robot gets the
protocol's ERROR with the transaction's ``transID``; the socket then closes as after any
final frame."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.hub.session import CLOSE_AFTER_FINAL_SECONDS
from protocol.routing import SkillMatch, SkillTable
from protocol.transaction import INTERNAL_ERROR_TEXT
from tests.hub.support import MemorySocket, default_skills, make_runtime, serve_listen
from tests.support import hub_client as hc


class _BrokenSkills(SkillTable):
    def route(self, intent: str | None, entities: Mapping[str, Any] | None) -> SkillMatch | None:
        raise RuntimeError("a bug in routing")


async def test_a_machine_that_raises_answers_error_general_with_the_trans_id(
    autojump_clock: trio.testing.MockClock,
    nursery: trio.Nursery,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.skills = _BrokenSkills.of(default_skills())
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    listen = hc.listen("CLIENT_NLU")
    await sock.robot_send(listen, hc.client_nlu("askForTime", {"skill": "@be/clock"}))
    await sock.robot_send(hc.context())
    frames = await sock.robot_receive_until_final()
    t_final = trio.current_time()
    error = frames[-1]
    assert [f["type"] for f in frames] == ["SOS", "EOS", "ERROR"]
    assert error["data"] == {"message": INTERNAL_ERROR_TEXT, "code": "GENERAL"}
    assert error["transID"] == listen["transID"]
    assert "transaction machine failed" in caplog.text
    await sock.robot_send(hc.context())  # a failed machine is fed nothing more
    await sock.closed.wait()
    assert trio.current_time() - t_final == pytest.approx(CLOSE_AFTER_FINAL_SECONDS)
