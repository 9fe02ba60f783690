"""Replay real robot turns (../shared/fixtures/ws/turns) over real sockets (PROTOCOL.md §4.3).

Robot messages are sent as their exact captured text, in captured order; audio frames, whose
bytes were not kept, are sent as frames of the captured length. The recogniser is scripted
(speech starts on the first audio frame and ends on the last one before any CLIENT_NLU), so
the turn's shape, not speech quality, is under test. (When a CLIENT_NLU interrupts the
audio, speech never ends on its own.) Every turn must end with exactly one
final frame of the right kind, with SOS/EOS where §4.4 says, and nothing after it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from tests.support import hub_client as hc
from tests.support.env import shared_fixtures
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.shared


class MarkedSession:
    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        events = []
        if chunk[:1] == b"S":
            events.append(AsrEvent("speech_start"))
        if chunk[1:2] == b"E":
            events.append(AsrEvent("speech_end"))
        return events

    async def finish(self) -> AsrResult:
        return AsrResult(text="what time is it", confidence=0.9)

    async def aclose(self) -> None:
        return None


class MarkedRecognizer:
    async def open_session(self, request: AsrRequest) -> MarkedSession:
        return MarkedSession()

    async def aclose(self) -> None:
        return None


def _turns(name: str) -> list[dict[str, Any]]:
    data = json.loads(shared_fixtures("ws", "turns", f"{name}.json").read_text())
    turns: list[dict[str, Any]] = data["turns"]
    return turns


def _wire(turn: dict[str, Any]) -> list[str | bytes]:
    """The turn's frames: captured text, and marked audio of the captured lengths."""
    messages = turn["messages"]
    audio = [i for i, m in enumerate(messages) if "binary" in m]
    interrupt = next(
        (i for i, m in enumerate(messages) if m.get("type") in ("CLIENT_NLU", "CLIENT_ASR")),
        len(messages),
    )
    speech = [i for i in audio if i < interrupt]
    first, last = (speech[0], speech[-1]) if speech else (-1, -1)
    if interrupt < len(messages):
        last = -1  # the tap interrupts speech that has not ended
    frames: list[str | bytes] = []
    for i, m in enumerate(messages):
        if "binary" in m:
            length = max(int(m["binary"]["length"]), 2)
            tag = (b"S" if i == first else b"-") + (b"E" if i == last else b"-")
            frames.append(tag + bytes(length - 2))
        else:
            frames.append(m["text"])
    return frames


async def _replay(server: RunningServer, turn: dict[str, Any]) -> list[dict[str, Any]]:
    headers = [("Authorization", f"Bearer {hc.hub_token(server.config)}")]
    with trio.fail_after(20):
        async with open_robot_socket(server.port, turn["socket"]["path"], headers=headers) as ws:
            for frame in _wire(turn):
                await ws.send_message(frame)
            robot = hc.HubRobot(ws)
            # The robot closes first, as real robots do (the 2 s close is tested elsewhere).
            return await robot.receive_until_final()


@pytest.fixture
async def ws_server(nursery: trio.Nursery, tmp_path: Path) -> RunningServer:
    def hook(runtime: Any) -> None:
        runtime.recognizer = MarkedRecognizer()

    # 86 captured turns replay from one address faster than the default handshake limit
    # (20 a second, a burst of 80) refills: limits are tested in tests/rest/test_rate_limits.py.
    return await start_server(
        nursery, tmp_path / "data", runtime_hook=hook, handshakes_per_address=1000.0
    )


@pytest.mark.parametrize(
    "category",
    [
        "listen-client-nlu",
        "listen-client-asr",
        "listen-server-asr",
        "listen-audio-interrupted-by-client-nlu",
        "irregular",
    ],
)
async def test_real_listen_turns(ws_server: RunningServer, category: str) -> None:
    for turn in _turns(category):
        frames = await _replay(ws_server, turn)
        kinds = [f["type"] for f in frames]
        assert sum(1 for f in frames if f.get("final") is True) == 1, turn["id"]
        assert kinds[-1] in ("LISTEN", "SKILL_ACTION", "SKILL_REDIRECT", "ERROR"), turn["id"]
        if kinds[-1] == "ERROR":
            # Only truncated captures may fail, and only for the reasons §4.4 names.
            assert category == "irregular", (turn["id"], frames[-1]["data"])
            continue
        assert kinds[:2] == ["SOS", "EOS"], (turn["id"], kinds)
        listen = next(f for f in frames if f["type"] == "LISTEN")
        assert set(listen["data"]) == {"asr", "nlu", "match"}, turn["id"]
        if category in ("listen-client-nlu", "listen-audio-interrupted-by-client-nlu"):
            assert listen["data"]["asr"] == {"text": "", "confidence": 1}, turn["id"]
            sent = next(m for m in turn["messages"] if m.get("type") == "CLIENT_NLU")
            assert listen["data"]["nlu"]["intent"] == sent["json"]["data"]["intent"], turn["id"]
        if category == "listen-client-asr":
            sent = next(m for m in turn["messages"] if m.get("type") == "CLIENT_ASR")
            assert listen["data"]["asr"]["text"] == sent["json"]["data"]["text"], turn["id"]


async def test_real_proactive_turns(ws_server: RunningServer) -> None:
    for turn in _turns("proactive-trigger"):
        frames = await _replay(ws_server, turn)
        assert [f["type"] for f in frames][-1] == "PROACTIVE", turn["id"]
        assert frames[-1]["final"] is True, turn["id"]
