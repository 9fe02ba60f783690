"""The hub writes each listen turn to the owner's Voice history (docs/portal.md).

A typed turn through the real server's hub ends in a voice-history line for the robot that
spoke, with what was heard, the intent, the skill and the latency; a spoken turn's latency
runs from the hub's end of speech (EOS) to the final frame.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from jibo_cloud.hub.calls import turn_latency_ms
from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from protocol.services import SpeechRecord
from protocol.transaction import RecordSpeech
from tests.portal.support import portal_server
from tests.rest.support import ACCOUNT_ID, SPEC
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
        token = hc.hub_token(server.config, account=ACCOUNT_ID, robot=SPEC.name)
        await _turn(server.port, token, "tell me a joke")
        turns = await _turns_after(portal.storage, 10)
        assert len(turns) == 1
        turn = turns[0]
        assert turn.robot_name == SPEC.name
        assert turn.heard == "tell me a joke"
        assert turn.intent
        assert turn.skill
        assert turn.error == ""


async def test_a_typed_turn_records_its_latency_and_the_page_shows_it(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal:
        server = portal.server
        token = hc.hub_token(server.config, account=ACCOUNT_ID, robot=SPEC.name)
        began = time.monotonic()
        await _turn(server.port, token, "what time is it")
        waited_ms = (time.monotonic() - began) * 1000
        (turn,) = await _turns_after(portal.storage, 10)
        # From LISTEN to the final frame: within what the robot waited for the whole socket.
        assert turn.latency_ms is not None
        assert 0 <= turn.latency_ms <= waited_ms + 5
        async with portal.owner() as http:
            page = (await http.get("/portal/voice")).text
        row = re.search(r'<tr class="turn">.*?</tr>', page, re.S)
        assert row is not None, page
        assert f"<td>{turn.latency_ms} ms</td>" in row[0]


class _SlowSession:
    """Hears speech start and end in the first two chunks, then takes ``delay`` seconds to
    give its result (what a recogniser does after the end of speech)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        return [AsrEvent("speech_start" if chunk[:1] == b"S" else "speech_end")]

    async def finish(self) -> AsrResult:
        await trio.sleep(self.delay)
        return AsrResult(text="what time is it", confidence=0.9)

    async def aclose(self) -> None:
        return None


class _SlowRecognizer:
    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def open_session(self, request: AsrRequest) -> _SlowSession:
        return _SlowSession(self.delay)

    async def aclose(self) -> None:
        return None


async def test_a_spoken_turn_s_latency_runs_from_the_end_of_speech(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal:
        server = portal.server
        # The one scripted piece: a recogniser that answers 0.4 s after the end of speech.
        server.runtime.recognizer = _SlowRecognizer(0.4)
        token = hc.hub_token(server.config, account=ACCOUNT_ID, robot=SPEC.name)
        with trio.fail_after(30):
            async with hc.open_hub(server.port, token=token) as robot:
                began = time.monotonic()
                await robot.send(hc.listen(""), hc.context(), b"S", b"E")
                frames = await robot.receive_until_final()
                waited_ms = (time.monotonic() - began) * 1000
        assert "EOS" in [f["type"] for f in frames]
        (turn,) = await _turns_after(portal.storage, 10)
        assert turn.heard == "what time is it"
        assert turn.latency_ms is not None
        assert 400 <= turn.latency_ms <= waited_ms + 5


def _speech_at(ms: int) -> RecordSpeech:
    return RecordSpeech(
        SpeechRecord(robot_id="r", account_id="a", trans_id="t", timestamp=ms,
                     audio_file_url=None, asr=None, nlu=None, match=None, skill=None)
    )  # fmt: skip


def test_which_moment_a_turn_s_latency_runs_from() -> None:
    final = _speech_at(5_000)
    # Spoken: from the end of speech; typed: from LISTEN; spoken without an end: none.
    assert turn_latency_ms(final, 1_000, 4_200, spoken=True) == 800
    assert turn_latency_ms(final, 1_000, None, spoken=False) == 4_000
    assert turn_latency_ms(final, 1_000, None, spoken=True) is None
    assert turn_latency_ms(final, None, None, spoken=False) is None  # failed before LISTEN
    assert turn_latency_ms(final, 1_000, 6_000, spoken=True) == 0  # never negative
