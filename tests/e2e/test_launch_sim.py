"""A simulated robot typing what owners say (``jibo-cloud sim turn --text …``) gets the
original's on-robot launch for every launch intent of the robot's own skills, against a real
server; bad input gets an answer, never an ERROR frame."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.cli import main as cli_main
from jibo_cloud.tools import sim_hub
from jibo_cloud.tools.robot import RobotIdentity
from jibo_cloud.tools.target import Target
from tests.nlu.launch_cases import ROBOT_LAUNCHES
from tests.support import hub_client as hc
from tests.support.server import RunningServer, start_server

ROBOT = RobotIdentity()


async def typed_turn(server: RunningServer, text: str) -> sim_hub.HubResult:
    with trio.fail_after(20):
        return await sim_hub.run_transaction(
            Target.parse(server.http_url),
            "/v1/listen",
            sim_hub.client_asr_script(text, ROBOT),
            token=hc.hub_token(server.config),
        )


def hub_frames(result: sim_hub.HubResult) -> list[dict[str, Any]]:
    return [f.obj for f in result.frames if f.sender == "hub" and f.kind == "text"]


async def test_every_point_one_launch_reaches_the_robot(server: RunningServer) -> None:
    wrong = []
    for text, intent, skill, entities in ROBOT_LAUNCHES:
        result = await typed_turn(server, text)
        frames = hub_frames(result)
        got = [f["type"] for f in frames]
        final = frames[-1] if frames else {}
        nlu = {"intent": intent, "entities": {"skill": skill, **entities}, "rules": ["launch"]}
        expected = {
            "asr": {"text": text, "confidence": 1},
            "nlu": nlu,
            "match": {"skillID": skill, "launch": True, "onRobot": True},
        }
        if got != ["SOS", "EOS", "LISTEN"] or not final.get("final") or final["data"] != expected:
            wrong.append((text, got, final.get("data")))
    assert wrong == []


async def test_the_cli_prints_the_on_robot_launch(server: RunningServer) -> None:
    out = io.StringIO()
    argv = ["sim", "turn", "--url", server.http_url, "--token", hc.hub_token(server.config)]
    argv += ["--text", "set a timer for ten minutes", "--json"]

    def run() -> int:
        with redirect_stdout(out):
            return cli_main(argv)

    status = await trio.to_thread.run_sync(run)
    doc = json.loads(out.getvalue())
    assert status == 0
    assert doc["final_type"] == "LISTEN"
    final = [f["json"] for f in doc["frames"] if f["from"] == "hub" and "json" in f][-1]
    assert final["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert final["data"]["nlu"]["entities"] == {
        "skill": "@be/clock", "domain": "timer", "hours": None, "minutes": 10, "seconds": None,
    }  # fmt: skip


async def test_a_server_preferring_its_clock_answers_the_time_itself(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", prefer_cloud_skills=("clock",))
    try:
        time_turn = await typed_turn(server, "what time is it")
        timer_turn = await typed_turn(server, "set a timer")
    finally:
        server.stop()
    frames = hub_frames(time_turn)
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    assert frames[2]["data"]["match"] == {
        "skillID": "cloud-clock", "launch": True, "onRobot": False,
    }  # fmt: skip
    assert frames[3]["final"] is True
    assert hub_frames(timer_turn)[-1]["data"]["match"]["skillID"] == "@be/clock"


BAD_TEXT = {
    "empty": "",
    "emoji": "🤖🎉🔥",
    "ten kilobytes": "please remember the password swordfish " * 270,
    "non-English": "¿Qué hora es? 今日は何曜日ですか",
}


@pytest.mark.parametrize("kind", list(BAD_TEXT))
async def test_bad_text_gets_an_answer_and_a_log_line_without_it(
    server: RunningServer, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    text = BAD_TEXT[kind]
    with caplog.at_level(logging.INFO):
        result = await typed_turn(server, text)
    frames = hub_frames(result)
    assert result.ok, (result.error, frames)
    assert "ERROR" not in [f["type"] for f in frames]
    assert frames[-1]["final"] is True
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "nlu: " in logged
    for word in ("swordfish", "Qué", "曜日", "🤖"):
        assert word not in logged


async def test_an_unknown_rule_set_gets_the_empty_nlu_result(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        frames = await hc.one_turn(
            server.port,
            hc.hub_token(server.config),
            hc.listen("CLIENT_ASR", rules=["no/such_rule"], hotphrase=False),
            hc.client_asr("yes please"),
            hc.context(),
        )
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[-1]["final"] is True
    assert frames[-1]["data"]["nlu"] == {"intent": None, "entities": None, "rules": []}
    assert frames[-1]["data"]["match"] is None
    assert "unknown rule name(s) ignored: ['no/such_rule']" in caplog.text
