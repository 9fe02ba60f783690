"""Server-side ASR through the recogniser interface (PROTOCOL.md §4.4), on the virtual clock.

The recogniser here is a scripted one: each audio chunk's first byte says what it "hears"
(``S`` speech start, ``P`` a partial, ``E`` speech end, anything else silence).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from tests.hub.support import MemorySocket, StaticParser, make_runtime, serve_listen
from tests.support import hub_client as hc


class ScriptedSession:
    def __init__(self, result: AsrResult, log: list[str]) -> None:
        self.result = result
        self.log = log
        self.fed = 0

    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        self.fed += 1
        tag = chunk[:1]
        if tag == b"S":
            return [AsrEvent("speech_start")]
        if tag == b"P":
            return [AsrEvent("partial", text="partial words", confidence=0.5)]
        if tag == b"E":
            return [AsrEvent("speech_end")]
        return []

    async def finish(self) -> AsrResult:
        self.log.append("finish")
        return self.result

    async def aclose(self) -> None:
        self.log.append("aclose")


class ScriptedRecognizer:
    def __init__(self, result: AsrResult) -> None:
        self.result = result
        self.log: list[str] = []
        self.requests: list[AsrRequest] = []

    async def open_session(self, request: AsrRequest) -> ScriptedSession:
        self.requests.append(request)
        return ScriptedSession(self.result, self.log)

    async def aclose(self) -> None:
        return None


async def _turn(
    tmp_path: Path,
    recogniser: ScriptedRecognizer,
    *frames: Any,
    parser: StaticParser | None = None,
    **listen: Any,
) -> list[dict[str, Any]]:
    runtime = make_runtime(tmp_path)
    runtime.recognizer = recogniser
    runtime.parser = parser or StaticParser(
        {"intent": "askForTime", "entities": {"skill": "@be/clock"}, "rules": ["launch"]}
    )
    sock = MemorySocket.pair()
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_listen, runtime, sock)
        await sock.robot_send(hc.listen("", **listen), *frames)
        result = await sock.robot_receive_until_final()
        nursery.cancel_scope.cancel()
    return result


async def test_speech_gives_sos_eos_then_the_routed_listen(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    rec = ScriptedRecognizer(AsrResult(text="what time is it", confidence=0.9))
    parser = StaticParser(
        {"intent": "askForTime", "entities": {"skill": "@be/clock"}, "rules": ["launch"]}
    )
    frames = await _turn(tmp_path, rec, b"S", b"-", hc.context(), b"E", parser=parser)
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[0]["timings"]["total"] >= 0  # real timings, not the client modes' -1
    assert frames[2]["data"]["asr"] == {"text": "what time is it", "confidence": 0.9}
    assert frames[2]["data"]["match"]["skillID"] == "@be/clock"
    assert frames[2]["timings"]["asr"] >= 0
    assert parser.requests[0]["text"] == "what time is it"
    assert parser.requests[0]["loop"] == {"users": [{"firstName": "Alex", "id": "u1"}]}
    assert rec.requests[0].encoding == "OGG_OPUS"
    assert rec.log == ["finish", "aclose"]


async def test_no_speech_before_sos_timeout_routes_an_empty_result(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    rec = ScriptedRecognizer(AsrResult(text="never", confidence=1.0))
    parser = StaticParser()
    frames = await _turn(tmp_path, rec, hc.context(), b"-", parser=parser, sos_timeout=3000)
    assert trio.current_time() == pytest.approx(3.0)
    assert [f["type"] for f in frames] == ["LISTEN"]  # no SOS/EOS
    assert frames[0]["data"]["asr"] == {"text": "", "confidence": 0, "annotation": "SOS_TIMEOUT"}
    assert parser.requests[0]["text"] == ""


async def test_max_speech_timeout_keeps_the_last_partial(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    rec = ScriptedRecognizer(AsrResult(text="", confidence=0.0))
    frames = await _turn(tmp_path, rec, hc.context(), b"S", b"P", max_speech_timeout=4000)
    assert trio.current_time() == pytest.approx(4.0)
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[-1]["data"]["asr"] == {
        "text": "partial words",
        "confidence": 0.5,
        "annotation": "MAX_SPEECH_TIMEOUT",
    }


async def test_garbage_skips_the_parser(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    rec = ScriptedRecognizer(AsrResult(text="mumble", confidence=0.2, annotation="GARBAGE"))
    parser = StaticParser()
    frames = await _turn(tmp_path, rec, hc.context(), b"S", b"E", parser=parser)
    reply = frames[-1]
    assert reply["final"] is True
    assert reply["data"]["match"] is None
    assert reply["data"]["nlu"] == {"intent": None, "rules": [], "entities": {}}
    assert parser.requests == []


async def test_client_nlu_interrupts_audio(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    rec = ScriptedRecognizer(AsrResult(text="never used", confidence=1.0))
    frames = await _turn(
        tmp_path,
        rec,
        b"S",
        hc.client_nlu("askForTime", {"skill": "@be/clock"}),
        b"E",
        hc.context(),
    )
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[-1]["data"]["asr"] == {"text": "", "confidence": 1}
    assert "finish" not in rec.log
    assert "aclose" in rec.log
