"""The recogniser with decoder worker processes: same answers, both workers used, a dead worker
fails only its own turns and is replaced, and nothing outlives shutdown.

Real processes (multiprocessing spawn) and real pipes: no virtual clock here, the waits are for
real processes, each polled with a deadline.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.services import AsrRequest, AsrResult
from jibo_cloud.speech.engine import GRAMMAR_CONFIDENCE
from jibo_cloud.speech.processes import ProcessRecognizer, ProcessSession
from jibo_cloud.speech.synth import ogg_opus_pages, silence

pytestmark = pytest.mark.speech

LAUNCH = ("launch", "globals/global_commands_launch")
#: Worker start-up (a fresh interpreter, pocketsphinx, two decoders) on a busy 2-core box.
START_SECONDS = 60


def exists(pid: int) -> bool:
    """Whether a process with this id exists (a reaped child does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_for(condition: Callable[[], bool], seconds: float = START_SECONDS) -> None:
    """Poll a condition about real processes until it holds (or fail after ``seconds``)."""
    with trio.fail_after(seconds):
        while not condition():  # noqa: ASYNC110 - a real process's state: nothing to wait on
            await trio.sleep(0.05)


async def open_turn(recognizer: ProcessRecognizer, speaker: str = "") -> ProcessSession:
    with trio.fail_after(START_SECONDS):
        session = await recognizer.open_session(AsrRequest(rules=LAUNCH, robot_id=speaker))
    assert isinstance(session, ProcessSession)
    return session


async def recognise(session: ProcessSession, pages: Sequence[bytes]) -> tuple[list[str], AsrResult]:
    kinds: list[str] = []
    try:
        for page in pages:
            kinds += [event.kind for event in await session.feed(page)]
        with trio.fail_after(START_SECONDS):
            return kinds, await session.finish()
    finally:
        await session.aclose()


@pytest.fixture
async def recognizer() -> AsyncIterator[ProcessRecognizer]:
    recognizer = ProcessRecognizer(processes=2)
    try:
        yield recognizer
    finally:
        with trio.fail_after(10):
            await recognizer.aclose()


async def test_a_turn_is_recognised_in_a_worker_and_its_mean_comes_back(
    recognizer: ProcessRecognizer, speak: Callable[..., list[bytes]]
) -> None:
    session = await open_turn(recognizer, speaker="robot-a")
    assert session.worker_pid in recognizer.worker_pids()
    assert session.worker_pid != os.getpid()
    kinds, result = await recognise(session, speak("tell me a joke"))
    assert kinds == ["speech_start", "speech_end"]
    assert result.confidence == GRAMMAR_CONFIDENCE
    assert parse_text(result.text, LAUNCH)["intent"] == "tellJoke"
    assert "robot-a" in recognizer.speakers  # the accepted turn's mean, kept in the server


async def test_silence_never_reaches_a_worker_and_bad_audio_is_an_asr_error(
    recognizer: ProcessRecognizer, speak: Callable[..., list[bytes]]
) -> None:
    kinds, result = await recognise(await open_turn(recognizer), ogg_opus_pages(silence(2.0)))
    assert (kinds, result) == ([], AsrResult(text="", confidence=0.0))
    pages = speak("tell me a joke")
    session = await open_turn(recognizer)
    try:
        await session.feed(pages[0])
        bad = bytearray(pages[1])
        bad[-5] ^= 0x55
        with pytest.raises(UpstreamError, match="CRC"):
            await session.feed(bytes(bad))
        assert await session.feed(pages[2]) == []  # dropped after ASR stopped
    finally:
        await session.aclose()


async def test_concurrent_turns_are_spread_over_the_workers(
    recognizer: ProcessRecognizer, speak: Callable[..., list[bytes]]
) -> None:
    first, second = await open_turn(recognizer), await open_turn(recognizer)
    assert first.worker_pid != second.worker_pid
    results: dict[str, AsrResult] = {}

    async def run(name: str, session: ProcessSession, text: str) -> None:
        results[name] = (await recognise(session, speak(text)))[1]

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, "joke", first, "tell me a joke")
        nursery.start_soon(run, "time", second, "what time is it")
    assert parse_text(results["joke"].text, LAUNCH)["intent"] == "tellJoke"
    assert parse_text(results["time"].text, LAUNCH)["intent"] == "askForTime"


def gated_start(conn: object, **kwargs: object) -> None:
    """A worker main that waits for the file ``$JIBO_TEST_GATE`` before starting (a worker
    that is slow to get ready, deterministically)."""
    import time

    from jibo_cloud.speech.worker import serve_worker

    gate = Path(os.environ["JIBO_TEST_GATE"])
    while not gate.exists():
        time.sleep(0.02)
    serve_worker(conn, **kwargs)  # type: ignore[arg-type]


async def test_a_turn_opened_during_the_warm_up_waits_for_its_worker_and_is_answered(
    speak: Callable[..., list[bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("JIBO_TEST_GATE", str(gate))  # spawned workers inherit it
    recognizer = ProcessRecognizer(processes=2, target=gated_start)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(recognizer.warm_up)
            session = await open_turn(recognizer)
            kinds = [e.kind for page in speak("tell me a joke") for e in await session.feed(page)]
            assert kinds == ["speech_start", "speech_end"]
            assert recognizer.workers_ready() == 0  # the turn's speech waits in the pipe
            gate.touch()
            _, result = await recognise(session, [])
        assert parse_text(result.text, LAUNCH)["intent"] == "tellJoke"
        assert recognizer.workers_ready() == 2  # warm_up returned once both were ready
    finally:
        await recognizer.aclose()


async def test_a_killed_worker_is_replaced_and_its_turn_still_answered(
    recognizer: ProcessRecognizer, speak: Callable[..., list[bytes]]
) -> None:
    pages = speak("tell me a joke")
    doomed, healthy = await open_turn(recognizer), await open_turn(recognizer)
    killed = doomed.worker_pid
    assert killed is not None
    assert healthy.worker_pid != killed
    for page in pages[:3]:  # both turns are mid-speech in their workers
        await doomed.feed(page)
        await healthy.feed(page)
    os.kill(killed, signal.SIGKILL)
    await wait_for(lambda: killed not in recognizer.worker_pids())

    # The turn moved to a live worker with the speech it had: it is answered, not failed.
    _, moved = await recognise(doomed, pages[3:])
    assert parse_text(moved.text, LAUNCH)["intent"] == "tellJoke"
    assert doomed.worker_pid != killed

    _, result = await recognise(healthy, pages[3:])
    assert parse_text(result.text, LAUNCH)["intent"] == "tellJoke"

    await wait_for(lambda: len(recognizer.worker_pids()) == 2)
    assert not exists(killed)  # reaped, not a zombie
    for _ in range(2):  # whichever worker a new turn lands on, it works
        _, result = await recognise(await open_turn(recognizer), pages)
        assert parse_text(result.text, LAUNCH)["intent"] == "tellJoke"


async def test_aclose_stops_every_worker_and_later_turns_get_asr(
    speak: Callable[..., list[bytes]],
) -> None:
    recognizer = ProcessRecognizer(processes=2)
    session = await open_turn(recognizer)
    await session.feed(speak("tell me a joke")[0])
    pids = recognizer.worker_pids()
    assert len(pids) == 2
    with trio.fail_after(10):
        await recognizer.aclose()
        await recognizer.aclose()  # idempotent
    assert [pid for pid in pids if exists(pid)] == []
    with pytest.raises(UpstreamError, match="shut down"):
        await session.finish()  # the open turn got the ASR error
    with pytest.raises(UpstreamError, match="shut down"):
        await recognizer.open_session(AsrRequest(rules=LAUNCH))


def test_the_end_of_the_trio_run_stops_the_workers(speak: Callable[..., list[bytes]]) -> None:
    """The server never calls aclose (the runtime owns no hook for it): the workers belong to
    a trio system task, which the end of the run cancels."""
    pids: list[int] = []

    async def main() -> None:
        recognizer = ProcessRecognizer(processes=2)
        _, result = await recognise(await open_turn(recognizer), speak("thank you"))
        assert parse_text(result.text, LAUNCH)["intent"] == "thanks"
        pids.extend(recognizer.worker_pids())

    trio.run(main)
    assert len(pids) == 2
    assert [pid for pid in pids if exists(pid)] == []


def die_at_start(conn: object, **_: object) -> None:
    """A worker main that exits before it is ready (a broken install, say)."""
    os._exit(3)


async def test_workers_that_keep_dying_at_start_give_way_to_threads(
    speak: Callable[..., list[bytes]],
) -> None:
    recognizer = ProcessRecognizer(processes=1, target=die_at_start)
    try:
        doomed = await open_turn(recognizer)  # the first worker is starting: pinned to it
        await wait_for(lambda: recognizer.decoding_in_threads)
        with pytest.raises(UpstreamError, match="worker process stopped"):
            await doomed.finish()
        session = await recognizer.open_session(AsrRequest(rules=LAUNCH))
        assert not isinstance(session, ProcessSession)  # decoded in threads
        try:
            for page in speak("tell me a joke"):
                await session.feed(page)
            result = await session.finish()
        finally:
            await session.aclose()
        assert parse_text(result.text, LAUNCH)["intent"] == "tellJoke"
        assert recognizer.worker_pids() == []
    finally:
        await recognizer.aclose()


async def test_the_runtime_stops_the_decoder_processes_at_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_runtime's exit closes the recogniser: no decoder process outlives the server."""
    from jibo_cloud.config import load_config
    from jibo_cloud.runtime import open_runtime

    monkeypatch.setenv("JIBO_WHISPER_MODEL", "off")  # the Whisper path: tests/speech/test_whisper

    config = load_config(data_dir=tmp_path, env={}, token_secret="x" * 32, asr_processes=1)
    async with open_runtime(config) as runtime:
        recognizer = runtime.recognizer
        assert isinstance(recognizer, ProcessRecognizer)
        session = await recognizer.open_session(AsrRequest())  # starts the worker
        await session.aclose()
        pids = recognizer.worker_pids()
        assert pids
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]  # noqa: ASYNC240
