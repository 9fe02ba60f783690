"""Speech benchmark: recognition quality per synthesizer family and condition, and speed.

Two parts (``BENCH_SPEECH="parts=quality,latency"``, see :mod:`bench.speech_quality` for the
other keys: families, conditions, splits, kinds, limit, compare):

- **quality** (:mod:`bench.speech_quality`): every phrase of ``fixtures/speech/phrases.tsv``
  (commands over every launch intent, cloud skills and constrained turns; open sentences; a
  held-out third marked) in espeak-ng, flite (kal16, awb, rms, slt) and festival
  (cmu_us_slt_arctic_hts) voices, clean and in a sox living room (:mod:`bench.speech_audio`),
  through the server's front end, the grammar and Whisper: intent accuracy, open sentences
  forced onto a command, word error rate of open sentences, per family x condition x split;
- **latency**: the real server (``/v1/listen``) with its decoder worker processes and
  Whisper: EOS → LISTEN for a command and for an open sentence, one turn at a time; then N
  robots streaming pages in real time (one page per 0.52 s), alternating a command and an
  open sentence. N is **real time** when every turn ends and no LISTEN comes later than 2 s
  after its EOS. The Whisper queue's overflows (turns decided quickly: Whisper without the
  grammar's second opinion for open turns, the grammar alone for constrained ones) are
  reported.

The default run is the held-out split only (``splits=held``), ~20 minutes on a quiet 2-core
box; tuning runs use ``splits=tune`` and never print a held-out miss.

Needs espeak-ng, flite, festival (+ festvox-us-slt-hts) and sox; a family whose program is
missing is skipped with a line saying so.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import trio
from trio_websocket import open_websocket

from bench import server
from bench.server import stat_cpu_seconds
from jibo_cloud.tools.robot import listen_data

DEFAULT_RULES = ("launch", "globals/global_commands_launch")
PAGE_SECONDS = 0.52
CONCURRENCY = (1, 4, 8, 12, 16)
#: Utterances of the latency part (espeak-ng, the voice the tests use).
COMMAND = "what time is it"
OPEN_SENTENCE = "what is the capital of france"
#: Latest LISTEN after EOS for a turn to count as real time.
REAL_TIME_SECONDS = 2.0


def _frames(n: int) -> tuple[str, str]:
    import json

    env = {"ts": 1776303996941, "transID": f"tid-speech-{n}"}
    listen = {
        "type": "LISTEN",
        "msgID": f"mid-l{n}",
        **env,
        "data": listen_data("", rules=DEFAULT_RULES),
    }
    context = {
        "type": "CONTEXT",
        "msgID": f"mid-c{n}",
        **env,
        "data": {"general": {"release": "1.9.2"}, "runtime": {"loop": {"users": []}}, "skill": {}},
    }
    return json.dumps(listen), json.dumps(context)


async def spoken_turn(
    port: int, token: str, pages: list[bytes], n: int, paced: bool
) -> tuple[float, float]:
    """One spoken turn: seconds from receiving EOS to receiving the LISTEN frame, and from
    sending the first page to receiving the LISTEN frame (the whole turn as the robot sees it:
    it also counts a server that is late to notice speech and sends EOS late).

    A reader task takes frames as they arrive while the sender paces the pages.

    Raises:
        TurnFailed: the turn ended without EOS and LISTEN (e.g. SOS_TIMEOUT under overload).
    """
    import json

    listen, context = _frames(n)
    headers = [(b"Authorization", f"Bearer {token}".encode())]
    seen: dict[str, float] = {}
    async with open_websocket(
        "127.0.0.1", port, "/v1/listen", use_ssl=False, extra_headers=headers
    ) as ws:

        async def read(cancel: trio.CancelScope) -> None:
            while True:
                frame = json.loads(await ws.get_message())
                seen.setdefault(frame["type"], trio.current_time())
                if frame["type"] == "LISTEN" or frame.get("final"):
                    cancel.cancel()
                    return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, nursery.cancel_scope)
            await ws.send_message(listen)
            started = trio.current_time()
            for index, page in enumerate(pages):
                await ws.send_message(page)
                if index == 1:
                    await ws.send_message(context)
                if paced:
                    await trio.sleep(PAGE_SECONDS)
            await trio.sleep_forever()
    if "LISTEN" not in seen or "EOS" not in seen:
        raise TurnFailed(f"turn ended without EOS and LISTEN: {sorted(seen)}")
    return seen["LISTEN"] - seen["EOS"], seen["LISTEN"] - started


class TurnFailed(RuntimeError):
    """A spoken turn that did not end with EOS and LISTEN."""


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            total += stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
        except OSError:
            continue
    return total


async def latency(report: Any) -> None:
    """EOS → LISTEN through the real server, decoding in one worker process per CPU."""
    from jibo_cloud.runtime import Runtime
    from jibo_cloud.server import bound_port, serve
    from jibo_cloud.speech.synth import spoken_pages
    from jibo_cloud.speech.whisper_model import prepare_model

    info = prepare_model(Path("bench-results") / "data", os.environ)
    if info is not None:  # the model the quality part joined: not joined again per server
        os.environ["JIBO_WHISPER_MODEL"] = str(info.path)
    command = spoken_pages(COMMAND, voice="en-us+f2", speed=150, lead=0.4, tail=0.8)
    sentence = spoken_pages(OPEN_SENTENCE, voice="en-us+f2", speed=150, lead=0.4, tail=0.8)
    processes = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as data_dir:
        config = server.bench_config(data_dir, host="127.0.0.1", port=0, asr_processes=processes)
        token = server.hub_token(config)
        runtimes: list[Runtime] = []
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                lambda task_status: serve(
                    config,
                    shutdown_trigger=stop.wait,
                    runtime_hook=runtimes.append,
                    task_status=task_status,
                )
            )
            port = bound_port(binds)
            await server.register_robot(runtimes[0].storage)
            recognizer = runtimes[0].recognizer
            pids = getattr(recognizer, "worker_pids", list)
            started = time.monotonic()
            await recognizer.warm_up()  # type: ignore[attr-defined]  # as `serve` does
            report.add(
                "speech: recogniser warm-up (workers, Whisper)", time.monotonic() - started, "s"
            )
            await spoken_turn(port, token, command, 0, paced=False)
            await spoken_turn(port, token, sentence, 0, paced=False)
            whisper = bool(getattr(recognizer, "whisper_ready", False))
            report.add("speech: Whisper loaded in the decoder workers", float(whisper), "bool")
            for label, pages in (("command", command), ("open sentence", sentence)):
                serial = [
                    (await spoken_turn(port, token, pages, i, paced=False))[0] for i in range(10)
                ]
                goal = "goal <= 350 ms" if label == "command" else "goal <= 900 ms"
                report.add(
                    f"EOS -> LISTEN p50, {label}, one at a time",
                    1000 * statistics.median(serial),
                    "ms",
                    goal,
                )
                report.add(f"EOS -> LISTEN p95, {label}, one at a time", 1000 * _p95(serial), "ms")
            best = 0
            for n in CONCURRENCY:
                results: list[float] = []

                async def robot(i: int, results: list[float] = results, n: int = n) -> None:
                    await trio.sleep(i * PAGE_SECONDS / max(n, 1))  # not in lockstep
                    pages = command if i % 2 == 0 else sentence
                    try:
                        eos_to_listen, _ = await spoken_turn(
                            port, token, pages, 1000 + i, paced=True
                        )
                    except TurnFailed:
                        eos_to_listen = math.inf
                    results.append(eos_to_listen)

                overflows = getattr(recognizer, "whisper_overflows", 0)
                workers = list(pids())
                server_cpu, workers_cpu = time.process_time(), _cpu_seconds(workers)
                async with trio.open_nursery() as robots:
                    for i in range(n):
                        robots.start_soon(robot, i)
                server_cpu = time.process_time() - server_cpu
                workers_cpu = _cpu_seconds(workers) - workers_cpu
                overflowed = getattr(recognizer, "whisper_overflows", 0) - overflows
                worst = max(results)
                ok = worst <= REAL_TIME_SECONDS
                best = n if ok else best
                failed = sum(math.isinf(t) for t in results)
                report.add(
                    f"{n} concurrent spoken turns: EOS -> LISTEN p50 / max",
                    1000 * statistics.median(results),
                    "ms",
                    f"max {1000 * worst:.0f} ms, "
                    + ("real time" if ok else "too slow")
                    + (f", {failed} failed" if failed else "")
                    + f", {overflowed} decided quickly (Whisper queue full)",
                )
                report.add(
                    f"  CPU per turn at {n}: server process incl. robots / decoder workers",
                    1000 * server_cpu / n,
                    "ms",
                    f"workers {1000 * workers_cpu / n:.0f} ms",
                )
            report.add(
                "concurrent spoken turns in real time (no LISTEN > 2 s after EOS)",
                best,
                "turns",
                "goal >= 8 (of those tried)",
            )
            stop.set()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run(report: Any) -> None:
    from bench.speech_quality import Options, run_quality
    from jibo_cloud.speech.synth import espeak_available

    if not espeak_available():
        print("  skipped: espeak-ng is not installed")
        return
    options = Options.from_env()
    if "BENCH_SPEECH" not in os.environ or "splits=" not in os.environ["BENCH_SPEECH"]:
        options.splits = ("held",)
    print(f"  uptime load: {os.getloadavg()}", flush=True)
    if "quality" in options.parts:
        run_quality(report, options)
    if "latency" in options.parts:
        trio.run(latency, report)
    print(f"  uptime load: {os.getloadavg()}", flush=True)
