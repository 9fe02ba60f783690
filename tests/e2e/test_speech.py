"""Spoken turns end to end: espeak-ng speech → robot-shaped Ogg/Opus pages → /v1/listen.

The real server runs on an ephemeral port with the embedded recogniser, parser and built-in
skills; the test talks to it as a robot does (LISTEN mode "", binary pages, CONTEXT between
them). Timers here are the hub's real ones, set short in the LISTEN (sosTimeout,
maxSpeechTimeout): the recogniser works in threads, which a virtual clock would skip past.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.runtime import Runtime
from jibo_cloud.speech.synth import espeak_available, noise, ogg_opus_pages, silence, spoken_pages
from tests.support import hub_client as hc
from tests.support.env import missing
from tests.support.server import RunningServer, start_server

pytestmark = pytest.mark.speech

VOICE = "en-us+f2"


@functools.cache
def _pools() -> tuple[Any, Any, Any]:
    """Decoders and speaker states shared by every server of the run (a long-running server's
    state: building decoders is the slow part)."""
    from jibo_cloud.speech.speakers import SpeakerStates
    from jibo_cloud.speech.sphinx import DecoderPool, general_decoder, grammar_decoder

    return DecoderPool(grammar_decoder), DecoderPool(general_decoder, keep=2), SpeakerStates()


@functools.cache
def _speech(text: str) -> tuple[bytes, ...]:
    return tuple(spoken_pages(text, voice=VOICE, speed=150))


def say(text: str) -> list[bytes]:
    if not espeak_available():
        missing("espeak-ng is not installed (apt-get install espeak-ng)")
    return list(_speech(text))


def _shared_recogniser(runtime: Runtime) -> None:
    from jibo_cloud.speech.sphinx import PocketsphinxRecognizer

    grammars, general, speakers = _pools()
    runtime.recognizer = PocketsphinxRecognizer(
        grammars=grammars, general=general, speakers=speakers
    )


@pytest.fixture
async def speech_server(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[RunningServer]:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        missing("pocketsphinx is not installed")
    # Our own clock and greetings answer (JIBO_PREFER_CLOUD_SKILLS): by default the robot's
    # skills take those words (tests/e2e/test_launch_sim.py checks that launch).
    running = await start_server(nursery, tmp_path / "data", runtime_hook=_shared_recogniser,
                                 prefer_cloud_skills=("clock", "greetings"))  # fmt: skip
    yield running
    running.stop()


async def spoken_turn(
    server: RunningServer,
    pages: Sequence[bytes],
    *,
    after: Sequence[dict[str, Any]] = (),
    **listen: Any,
) -> list[dict[str, Any]]:
    """LISTEN(""), the first pages, CONTEXT, the other pages, then ``after``; until final."""
    token = hc.hub_token(server.config)
    with trio.fail_after(30):
        async with hc.open_hub(server.port, token=token) as robot:
            await robot.send(hc.listen("", **listen), *pages[:2], hc.context(), *pages[2:], *after)
            return await robot.receive_until_final()


def types(frames: Sequence[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


def final_listen(frames: Sequence[dict[str, Any]]) -> dict[str, Any]:
    listens = [f for f in frames if f["type"] == "LISTEN"]
    assert listens, frames
    return listens[0]["data"]


SPOKEN = [
    ("what time is it", "askForTime", "cloud-clock", "It&apos;s "),
    ("what is the date today", "askForDate", "cloud-clock", "Today is "),
    ("tell me a joke", "tellJoke", "cloud-jokes", "<es cat='happy'>"),
    ("hello jibo", "hello", "cloud-smalltalk", "Alex"),
    ("how are you", "howAreYou", "cloud-smalltalk", "<speak>"),
    ("who are you", "whoAreYou", "cloud-smalltalk", "Jibo"),
    ("what can you do", "whatCanYouDo", "cloud-smalltalk", "what time it is"),
    ("what's the weather like", "requestWeatherPR", "report-skill", "<speak>"),
    ("thank you", "thanks", "cloud-smalltalk", "<speak>"),
    ("goodbye jibo", "goodbye", "cloud-smalltalk", "<speak>"),
]


@pytest.mark.parametrize(("text", "intent", "skill", "said"), SPOKEN, ids=[s[0] for s in SPOKEN])
async def test_spoken_built_in_intents_are_answered_by_cloud_skills(
    speech_server: RunningServer, text: str, intent: str, skill: str, said: str
) -> None:
    frames = await spoken_turn(speech_server, say(text))
    assert types(frames) == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    data = final_listen(frames)
    assert data["asr"]["confidence"] > 0
    assert data["nlu"]["intent"] == intent, data["asr"]["text"]
    assert data["match"] == {"skillID": skill, "launch": True, "onRobot": False}
    action = frames[-1]
    assert action["final"] is True
    assert action["data"]["skill"]["id"] == skill
    esml = action["data"]["action"]["config"]["jcp"]["config"]["play"]["esml"]
    assert esml.startswith("<speak>")
    assert said in esml


@pytest.mark.parametrize(("text", "intent"), [("turn it down", "volumeDown"), ("stop it", "stop")])
async def test_spoken_global_commands_are_understood(
    speech_server: RunningServer, text: str, intent: str
) -> None:
    frames = await spoken_turn(speech_server, say(text))
    data = final_listen(frames)
    assert data["nlu"]["intent"] == intent, data["asr"]["text"]
    assert data["nlu"]["rules"] == ["globals/global_commands_launch"]


@pytest.fixture(scope="session")
def whisper_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped Whisper model, joined and verified once for the session (the servers of
    these tests load it in their workers through ``JIBO_WHISPER_MODEL``)."""
    from jibo_cloud.speech.whisper_model import ModelError, join_model, shipped_parts

    try:
        parts, side = shipped_parts()
    except ModelError as exc:
        missing(str(exc))
    return join_model(parts, side, tmp_path_factory.mktemp("whisper") / "whisper-base")


async def test_spoken_open_questions_and_flite_commands_are_heard_by_whisper(
    nursery: trio.Nursery,
    tmp_path: Path,
    whisper_model: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default server (worker processes, Whisper beside the grammar): an open question
    reaches the answers skill with its words, and a command in another synthesizer's voice
    (flite) is understood. The knowledge provider is a closed local port: the answer is the
    spoken apology."""
    from jibo_cloud.speech.engine import WHISPER_CONFIDENCE
    from jibo_cloud.speech.synth import flite_available, flite_pcm

    if not flite_available():
        missing("flite is not installed (apt-get install flite)")
    monkeypatch.setenv("JIBO_WHISPER_MODEL", str(whisper_model))
    # ("what is the speed of light" was heard as "the steam on light" on 2026-12-06's Xeon box,
    # with every encoder window and prompt tried, though it passed where it was written.)
    question = say("what is the tallest mountain in the world")
    joke = ogg_opus_pages(silence(0.4) + flite_pcm("tell me a joke", voice="kal16") + silence(1))
    server = await start_server(
        nursery, tmp_path / "data", knowledge_url="http://127.0.0.1:9", asr_processes=1
    )
    with trio.fail_after(60):  # start-up: the worker builds its decoders, loads Whisper
        await server.runtime.recognizer.warm_up()  # type: ignore[attr-defined]
    frames = await spoken_turn(server, question)
    data = final_listen(frames)
    assert data["asr"]["confidence"] == WHISPER_CONFIDENCE, data
    assert data["nlu"]["intent"] == "generalWhatQuestions", data
    assert data["nlu"]["entities"]["query"] == "the tallest mountain in the world", data
    assert data["match"]["skillID"] == "answer-skill"
    assert types(frames)[-1] == "SKILL_ACTION"
    assert "ERROR" not in types(frames)

    frames = await spoken_turn(server, joke)
    assert final_listen(frames)["nlu"]["intent"] == "tellJoke", final_listen(frames)
    assert server.runtime.recognizer.whisper_ready  # type: ignore[attr-defined]
    server.stop()


async def test_spoken_yes_in_a_skill_prompt(speech_server: RunningServer) -> None:
    rules = ("shared/yes_no", "globals/gui_nav", "globals/global_commands_launch")
    frames = await spoken_turn(speech_server, say("yes please"), rules=rules, hotphrase=False)
    data = final_listen(frames)
    assert data["nlu"] == {"intent": "yes", "entities": {}, "rules": ["shared/yes_no"]}


async def test_silence_is_sos_timeout(speech_server: RunningServer) -> None:
    frames = await spoken_turn(speech_server, ogg_opus_pages(silence(2.0)), sos_timeout=1000)
    assert "SOS" not in types(frames)
    assert final_listen(frames)["asr"] == {"text": "", "confidence": 0, "annotation": "SOS_TIMEOUT"}


async def test_a_long_utterance_is_max_speech_timeout(speech_server: RunningServer) -> None:
    long_speech = ogg_opus_pages(silence(0.3) + noise(4.0, amplitude=4000, seed=3))
    frames = await spoken_turn(speech_server, long_speech, max_speech_timeout=1500)
    assert types(frames)[0] == "SOS"
    assert final_listen(frames)["asr"]["annotation"] == "MAX_SPEECH_TIMEOUT"


async def test_noise_is_garbage(speech_server: RunningServer) -> None:
    pages = ogg_opus_pages(silence(0.5) + noise(1.5) + silence(1.2))
    frames = await spoken_turn(speech_server, pages)
    data = final_listen(frames)
    assert data["asr"]["annotation"] == "GARBAGE"
    assert data["nlu"] == {"intent": None, "rules": [], "entities": {}}
    assert data["match"] is None


async def _asr_error_with_a_healthy_neighbour(
    server: RunningServer, broken: Callable[[list[bytes]], list[bytes]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}

    async def run(name: str, pages: list[bytes]) -> None:
        results[name] = await spoken_turn(server, pages)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run, "bad", broken(say("tell me a joke")))
        nursery.start_soon(run, "good", say("tell me a joke"))
    return results["bad"], results["good"]


async def test_truncated_page_is_an_asr_error_and_other_sockets_are_unaffected(
    speech_server: RunningServer,
) -> None:
    def truncate(pages: list[bytes]) -> list[bytes]:
        return [*pages[:3], pages[3][: len(pages[3]) // 2], *pages[4:]]

    bad, good = await _asr_error_with_a_healthy_neighbour(speech_server, truncate)
    assert bad[-1]["type"] == "ERROR"
    assert bad[-1]["data"]["code"] == "ASR"
    assert "truncated Ogg page" in bad[-1]["data"]["message"]
    assert types(good)[-1] == "SKILL_ACTION"


async def test_corrupt_page_is_an_asr_error_and_other_sockets_are_unaffected(
    speech_server: RunningServer,
) -> None:
    def corrupt(pages: list[bytes]) -> list[bytes]:
        bad = bytearray(pages[3])
        bad[-3] ^= 0x5A
        return [*pages[:3], bytes(bad), *pages[4:]]

    bad, good = await _asr_error_with_a_healthy_neighbour(speech_server, corrupt)
    assert bad[-1]["type"] == "ERROR"
    assert bad[-1]["data"]["code"] == "ASR"
    assert "CRC" in bad[-1]["data"]["message"]
    assert types(good)[-1] == "SKILL_ACTION"


async def test_a_screen_tap_interrupts_audio(speech_server: RunningServer) -> None:
    pages = say("tell me a joke")
    tap = hc.client_nlu("askForTime", {"domain": "clock"}, rules=("launch",))
    token = hc.hub_token(speech_server.config)
    with trio.fail_after(30):
        async with hc.open_hub(speech_server.port, token=token) as robot:
            await robot.send(hc.listen(""), pages[0], pages[1], hc.context(), tap, *pages[2:])
            frames = await robot.receive_until_final()
    data = final_listen(frames)
    assert data["asr"]["text"] == ""
    assert data["nlu"]["intent"] == "askForTime"
    assert data["match"]["skillID"] == "cloud-clock"
    assert frames[-1]["type"] == "SKILL_ACTION"


async def test_spoken_turns_are_decoded_in_worker_processes(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default server decodes in worker processes (JIBO_ASR_PROCESSES, one per CPU):
    concurrent turns are answered, and the hub keys the robot's cepstral mean by its id (the
    grammar's state: Whisper off here, so the grammar decides).

    The workers are warmed up first, as ``jibo-cloud serve`` does: a server started in-process
    starts them with its first spoken turn, and the hub's 10 s limit on ``finish()`` then also
    covers two fresh interpreters building their decoders, which took over 10 s with other
    test runs on this 2-core box (the flaky ``ERROR`` 10 s into the turn). A turn that arrives
    during the warm-up is tested in tests/speech/test_processes.py, without the hub's limit."""
    from jibo_cloud.speech.processes import ProcessRecognizer

    monkeypatch.setenv("JIBO_WHISPER_MODEL", "off")
    pages = {text: say(text) for text in ("tell me a joke", "what time is it")}
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        missing("pocketsphinx is not installed")
    server = await start_server(nursery, tmp_path / "data", asr_processes=2)
    recognizer = server.runtime.recognizer
    assert isinstance(recognizer, ProcessRecognizer)
    with trio.fail_after(60):  # start-up on a busy box; not the turns' budget
        await recognizer.warm_up()
    assert recognizer.workers_ready() == 2
    intents: dict[str, str] = {}

    async def run(text: str) -> None:
        intents[text] = final_listen(await spoken_turn(server, pages[text]))["nlu"]["intent"]

    async with trio.open_nursery() as robots:
        for text in pages:
            robots.start_soon(run, text)
    assert intents == {"tell me a joke": "tellJoke", "what time is it": "askForTime"}
    assert len(recognizer.worker_pids()) == 2
    assert hc.ROBOT in recognizer.speakers
    server.stop()


def _worker_children(pid: int) -> list[int]:
    """The multiprocessing (spawn) children of ``pid``, the decoder workers (Linux /proc; not
    multiprocessing's resource tracker)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                children.append(int(child))
    return children


@pytest.mark.parametrize("warm_up", [True, False], ids=["warm-up", "no-warm-up"])
def test_serve_warms_the_recogniser_up_at_start_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm_up: bool
) -> None:
    """``jibo-cloud serve`` starts the decoder workers in the background after it listens
    (``--warm-up``, the default; Whisper off here to keep it light); ``--no-warm-up`` (or
    ``JIBO_ASR_WARM_UP=false``) leaves them to the first spoken turn."""
    import time

    import httpx

    from tests.support.server import serve_subprocess

    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        missing("pocketsphinx is not installed")
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc to see the worker processes")
    monkeypatch.setenv("JIBO_WHISPER_MODEL", "off")
    monkeypatch.setenv("JIBO_ASR_PROCESSES", "2")
    flag = "--warm-up" if warm_up else "--no-warm-up"
    args = [flag, "--data-dir", str(tmp_path / "data"), "--tls-port", "off"]
    with serve_subprocess(args) as (proc, port):
        # Accepting connections at once, warm-up or not.
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code < 500
        assert proc.stdout is not None
        if warm_up:
            lines = []
            for line in proc.stdout:  # killed by serve_subprocess's exit if this hangs
                lines.append(line)
                if "recogniser warmed up" in line:
                    break
            assert sum("ready in" in line for line in lines) == 2, lines
            assert len(_worker_children(proc.pid)) == 2
        else:
            for line in proc.stdout:
                if "no warm-up" in line:
                    break
            time.sleep(2)  # a warm-up would have spawned the workers by now
            assert _worker_children(proc.pid) == []


def test_each_worker_process_warms_its_own_recogniser_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --workers 2``: each server process has its own recogniser, and each warms it up
    at start (otherwise the first spoken turn of every worker pays for it)."""
    import queue
    import threading
    import time

    from tests.support.server import serve_subprocess

    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        missing("pocketsphinx is not installed")
    monkeypatch.setenv("JIBO_WHISPER_MODEL", "off")
    monkeypatch.setenv("JIBO_ASR_PROCESSES", "1")
    args = ["--warm-up", "--workers", "2", "--data-dir", str(tmp_path / "data"),
            "--tls-port", "off"]  # fmt: skip
    with serve_subprocess(args) as (proc, _port):
        assert proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
        warmed = 0
        deadline = time.monotonic() + 120
        while warmed < 2:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{warmed} of 2 worker processes warmed up within 120 s")
            warmed += "recogniser warmed up" in line
