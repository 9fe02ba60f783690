"""The remote recogniser against a real local OpenAI-compatible transcription server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.services import AsrRequest, AsrResult
from jibo_cloud.speech import open_recognizer
from jibo_cloud.speech.remote import ASR_TIMEOUT_SECONDS, RemoteRecognizer
from jibo_cloud.speech.synth import ogg_opus_pages, silence
from tests.skills.local_http import SeenRequest, json_reply, start_local_http
from tests.support import hub_client as hc
from tests.support import server as support_server

pytestmark = pytest.mark.speech


def transcriber(text: str, status: int = 200) -> Callable[[SeenRequest], Any]:
    async def answer(request: SeenRequest) -> tuple[int, bytes]:
        return json_reply(status, {"text": text} if status == 200 else {"error": "busy"})

    return answer


async def run(recognizer: RemoteRecognizer, pages: list[bytes]) -> tuple[list[str], AsrResult]:
    session = await recognizer.open_session(AsrRequest(rules=("launch",)))
    kinds: list[str] = []
    try:
        for page in pages:
            kinds += [e.kind for e in await session.feed(page)]
        return kinds, await session.finish()
    finally:
        await session.aclose()


async def test_speech_is_sent_as_wav_and_the_text_comes_back(
    nursery: trio.Nursery, speak: Callable[..., list[bytes]]
) -> None:
    server = await start_local_http(nursery, transcriber("  Tell me a joke. "))
    kinds, result = await run(
        RemoteRecognizer(server.url + "#model=base.en"), speak("tell me a joke")
    )
    assert kinds == ["speech_start", "speech_end"]
    assert result == AsrResult(text="Tell me a joke.", confidence=0.9)
    (seen,) = server.requests
    assert (seen.method, seen.path) == ("POST", "/v1/audio/transcriptions")
    assert seen.headers["content-type"].startswith("multipart/form-data")
    assert b"RIFF" in seen.body
    assert b"WAVE" in seen.body
    assert b'name="model"\r\n\r\nbase.en' in seen.body
    assert b'name="language"\r\n\r\nen' in seen.body


async def test_empty_transcript_of_speech_is_garbage(
    nursery: trio.Nursery, speak: Callable[..., list[bytes]]
) -> None:
    server = await start_local_http(nursery, transcriber(""))
    _, result = await run(RemoteRecognizer(server.url + "/v1"), speak("tell me a joke"))
    assert result.annotation == "GARBAGE"


async def test_silence_is_not_sent(nursery: trio.Nursery) -> None:
    server = await start_local_http(nursery, transcriber("never"))
    kinds, result = await run(RemoteRecognizer(server.url), ogg_opus_pages(silence(2.0)))
    assert (kinds, result) == ([], AsrResult(text="", confidence=0.0))
    assert server.requests == []


async def test_service_error_is_an_asr_error(
    nursery: trio.Nursery, speak: Callable[..., list[bytes]]
) -> None:
    server = await start_local_http(nursery, transcriber("", status=503))
    with pytest.raises(UpstreamError, match="status code 503") as caught:
        await run(RemoteRecognizer(server.url), speak("tell me a joke"))
    assert caught.value.service == "asr"


async def test_service_timeout_is_an_asr_error(
    nursery: trio.Nursery, speak: Callable[..., list[bytes]], autojump_clock: Any
) -> None:
    pages = speak("tell me a joke")  # made before the virtual clock matters

    async def hang(request: SeenRequest) -> tuple[int, bytes]:
        await trio.sleep_forever()
        raise AssertionError

    server = await start_local_http(nursery, hang)
    recognizer = RemoteRecognizer(server.url)
    session = await recognizer.open_session(AsrRequest())
    for page in pages:
        await session.feed(page)
    start = trio.current_time()
    with pytest.raises(UpstreamError, match="timed out") as caught:
        await session.finish()
    assert trio.current_time() - start == pytest.approx(ASR_TIMEOUT_SECONDS)
    assert caught.value.timed_out
    nursery.cancel_scope.cancel()


async def test_configured_asr_url_picks_the_remote_recogniser(tmp_path: Path) -> None:
    assert isinstance(
        open_recognizer(support_server.test_config(tmp_path, asr_url="http://h:1")),
        RemoteRecognizer,
    )


async def test_spoken_turn_through_a_remote_recogniser(
    nursery: trio.Nursery, tmp_path: Path, speak: Callable[..., list[bytes]]
) -> None:
    asr = await start_local_http(nursery, transcriber("What time is it?"))
    server = await support_server.start_server(nursery, tmp_path / "data", asr_url=asr.url)
    pages = speak("what time is it")
    with trio.fail_after(30):
        async with hc.open_hub(server.port, token=hc.hub_token(server.config)) as robot:
            await robot.send(hc.listen(""), *pages[:2], hc.context(), *pages[2:])
            frames = await robot.receive_until_final()
    listen = next(f for f in frames if f["type"] == "LISTEN")["data"]
    assert listen["asr"] == {"text": "What time is it?", "confidence": 0.9}
    assert listen["nlu"]["intent"] == "askForTime"
    # The robot's own clock answers: a final LISTEN that launches it on the robot.
    assert listen["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert frames[-1]["type"] == "LISTEN"
    server.stop()
