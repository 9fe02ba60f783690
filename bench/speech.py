"""Speech benchmark: recognition quality and speed on generated spoken commands.

Audio is made locally: espeak-ng speaks every line of ``fixtures/speech/commands.tsv`` in
several voices and speeds, and it is encoded to Ogg/Opus pages the way a robot sends them.

Reported:

- word error rate and intent accuracy (recogniser + embedded parser) over all utterances, and
  intent accuracy separately on the voices the recogniser was tuned on (``VOICES``) and on
  held-out voices (``HELD_OUT_VOICES``: keep them out of tuning decisions), plus per voice: a
  guard against tuning the recogniser to espeak-ng's quirks. Four runs (``QUALITY_RUNS``),
  each with a fresh recogniser: the voices as robots taking turns (``interleaved``: what a
  server with many robots hears) or one after another (``by_voice``: earlier sessions'
  order), each with one speaker key per voice (one robot per household, what the hub passes)
  and with one key shared by all, so the per-robot cepstral mean's effect shows;
- open sentences forced onto a command: out-of-grammar questions
  (``fixtures/speech/open.tsv``, each voice, after the first run's commands) the recogniser
  turns into a command instead of leaving to the chat intent; the guard for changes that
  make the grammar accept more;
- a second and a third held-out group (``FRESH_VOICES``, ``THIRD_VOICES``, each picked before
  any result on them was seen): commands and open sentences with their own recogniser,
  reported on their own and never in the headline accuracy;
- recogniser real-time factor (CPU seconds per second of audio, one turn at a time);
- EOS → LISTEN latency through the real server (``/v1/listen``), median and p95, decoding in
  threads (``JIBO_ASR_PROCESSES=0``) and in one worker process per CPU (the default);
- concurrent spoken turns on this machine: N robots stream pages in real time (one page per
  0.52 s, as robots do); N "runs in real time" when the p95 EOS → LISTEN latency stays under
  1 s and the load adds less than 1 s (p95) to a whole turn, first page to LISTEN, compared
  with one robot alone (a server late to notice speech sends EOS late, which EOS → LISTEN
  alone does not see). The largest such N tried is reported, with the CPU time per turn of
  the server process (which also runs the bench's robots) and of the decoder workers.

Needs espeak-ng and pocketsphinx; prints why and skips otherwise.
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
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.services import AsrRequest
from jibo_cloud.tools.robot import listen_data
from protocol.plan import normalize_transcript

COMMANDS = Path(__file__).resolve().parents[1] / "fixtures" / "speech" / "commands.tsv"
#: Out-of-grammar sentences (open questions): the right answer is the chat intent.
OPEN = COMMANDS.with_name("open.tsv")
DEFAULT_RULES = ("launch", "globals/global_commands_launch")
#: (voice, words per minute): espeak-ng variants, female, male and the klatt synthesiser.
VOICES = (
    ("en-us+f2", 140),
    ("en-us+f3", 165),
    ("en-us+klatt", 150),
    ("en-us+f1", 180),
    ("en-us+m3", 150),
)
#: Voices/speeds kept out of tuning, to report accuracy on speakers the settings never saw.
HELD_OUT_VOICES = (
    ("en-us+f4", 155),
    ("en-us+m1", 170),
)
#: A second held-out group, added 2026-11-24 (issue 5's accuracy round) and picked before any
#: result on them was seen: voices no setting of the recogniser was chosen on. Reported on its
#: own (a separate recogniser, robots taking turns among these three), never in the headline.
FRESH_VOICES = (
    ("en-us+m2", 160),
    ("en-us+f5", 150),
    ("en-gb+m4", 160),
)
#: A third held-out group, picked in issue 5's third accuracy round (frequency warps) before
#: any result on them was seen, after the fresh group's figures had been looked at while
#: choosing that round's changes. Reported on its own, like the fresh group.
THIRD_VOICES = (
    ("en-us+m6", 150),
    ("en-us-nyc+f1", 160),
    ("en-us+klatt2", 145),
)
PAGE_SECONDS = 0.52
CONCURRENCY = (1, 4, 8, 12, 16, 24, 32, 40, 48)


def load_commands() -> list[tuple[str, tuple[str, ...], str]]:
    rows = []
    for line in COMMANDS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, rules, text = line.split("\t")
        rows.append((intent, DEFAULT_RULES if rules == "-" else tuple(rules.split(",")), text))
    return rows


def load_open() -> list[str]:
    return [
        line.strip()
        for line in OPEN.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref, hyp = normalize_transcript(reference).split(), normalize_transcript(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)], len(ref)


async def _recognise(
    recognizer: Any, pages: list[bytes], rules: tuple[str, ...], speaker: str
) -> str:
    session = await recognizer.open_session(AsrRequest(rules=rules, speaker=speaker))
    try:
        for page in pages:
            await session.feed(page)
        result = await session.finish()
        return str(result.text)
    finally:
        await session.aclose()


Voice = tuple[str, int]
Turn = tuple[Voice, int]  # (voice, index of the command)


def by_voice(voices: tuple[Voice, ...], n: int) -> list[Turn]:
    """Each voice says every command, then the next voice (earlier sessions' order)."""
    return [(voice, i) for voice in voices for i in range(n)]


def interleaved(voices: tuple[Voice, ...], n: int) -> list[Turn]:
    """Robots take turns: command 1 in every voice, then command 2 … (a busy server's order)."""
    return [(voice, i) for i in range(n) for voice in voices]


#: (label, order, one speaker key per voice?): the first is the shipped behaviour's figure.
QUALITY_RUNS = (
    ("interleaved, per-robot key", interleaved, True),
    ("interleaved, one shared key", interleaved, False),
    ("by voice, per-robot key", by_voice, True),
    ("by voice, one shared key", by_voice, False),
)


async def quality(report: Any) -> list[bytes]:
    """Accuracy, WER and RTF; each run with a fresh recogniser (decoding in threads, so the
    CPU time of a turn is this process's: the worker processes run the same engine)."""
    from jibo_cloud.speech.sphinx import PocketsphinxRecognizer
    from jibo_cloud.speech.synth import spoken_pages

    commands = load_commands()
    voices = VOICES + HELD_OUT_VOICES
    audio = {
        (voice, i): spoken_pages(text, voice=voice[0], speed=voice[1], lead=0.4, tail=0.8)
        for voice in voices
        for i, (_, _, text) in enumerate(commands)
    }
    for label, order, keyed in QUALITY_RUNS:
        recognizer = PocketsphinxRecognizer()
        await recognizer.warm_up()
        errors = words = 0
        audio_seconds = cpu = 0.0
        misses: list[str] = []
        right = dict.fromkeys(voices, 0)
        for voice, i in order(voices, len(commands)):
            intent, rules, text = commands[i]
            pages = audio[voice, i]
            speaker = f"robot-{voice[0]}-{voice[1]}" if keyed else "one-robot"
            cpu_start = time.process_time()
            hyp = await _recognise(recognizer, pages, rules, speaker)
            cpu += time.process_time() - cpu_start
            audio_seconds += len(pages) * PAGE_SECONDS
            e, n = word_errors(text, hyp)
            errors, words = errors + e, words + n
            got = parse_text(hyp, rules)["intent"]
            right[voice] += got == intent
            if got != intent:
                misses.append(f"{voice[0]}/{voice[1]} {text!r} -> {hyp!r} ({got} != {intent})")

        def accuracy(chosen: tuple[Voice, ...], right: dict[Voice, int] = right) -> float:
            return 100 * sum(right[v] for v in chosen) / max(len(commands) * len(chosen), 1)

        first = label == QUALITY_RUNS[0][0]
        if first:
            report.add(
                "speech utterances",
                len(commands) * len(voices),
                "count",
                f"{len(commands)} commands x {len(voices)} voices",
            )
        report.add(
            f"speech intent accuracy, {label} (all voices)",
            accuracy(voices),
            "%",
            "goal >= 95 %" if first else "",
        )
        report.add(f"speech intent accuracy, {label} (tuning voices)", accuracy(VOICES), "%")
        report.add(
            f"speech intent accuracy, {label} (held-out voices)", accuracy(HELD_OUT_VOICES), "%"
        )
        report.add(f"speech word error rate, {label}", 100 * errors / max(words, 1), "%")
        report.add(
            f"recogniser real-time factor, {label}",
            cpu / max(audio_seconds, 1e-9),
            "x",
            "CPU s per audio s",
        )
        if first:
            for voice in voices:
                held = " (held out)" if voice in HELD_OUT_VOICES else ""
                report.add(
                    f"speech intent accuracy {voice[0]}/{voice[1]}{held}", accuracy((voice,)), "%"
                )
            for miss in misses:
                print(f"    miss: {miss}")
            await forced_commands(report, recognizer, voices)
            await fresh_voices(report, commands, FRESH_VOICES, "fresh")
            await fresh_voices(report, commands, THIRD_VOICES, "third")
        else:
            print("    per voice: " + ", ".join(f"{v[0][6:]} {right[v]}" for v in voices))
    return audio[VOICES[0], 0]


async def fresh_voices(
    report: Any,
    commands: list[tuple[str, tuple[str, ...], str]],
    voices: tuple[Voice, ...],
    group: str,
) -> None:
    """A later held-out group (``FRESH_VOICES``, ``THIRD_VOICES``) with its own recogniser:
    commands with robots taking turns and per-robot keys (as the first run), then the open
    sentences."""
    from jibo_cloud.speech.sphinx import PocketsphinxRecognizer
    from jibo_cloud.speech.synth import spoken_pages

    recognizer = PocketsphinxRecognizer()
    await recognizer.warm_up()
    right = dict.fromkeys(voices, 0)
    misses: list[str] = []
    for voice, i in interleaved(voices, len(commands)):
        intent, rules, text = commands[i]
        pages = spoken_pages(text, voice=voice[0], speed=voice[1], lead=0.4, tail=0.8)
        hyp = await _recognise(recognizer, pages, rules, f"robot-{voice[0]}-{voice[1]}")
        got = parse_text(hyp, rules)["intent"]
        right[voice] += got == intent
        if got != intent:
            misses.append(f"{voice[0]}/{voice[1]} {text!r} -> {hyp!r} ({got} != {intent})")
    report.add(
        f"speech intent accuracy, {group} held-out voices (not in the headline)",
        100 * sum(right.values()) / max(len(commands) * len(voices), 1),
        "%",
        f"{len(commands)} commands x {len(voices)} voices, own recogniser",
    )
    for voice in voices:
        report.add(
            f"speech intent accuracy {voice[0]}/{voice[1]} ({group})",
            100 * right[voice] / max(len(commands), 1),
            "%",
        )
    for miss in misses:
        print(f"    miss ({group}): {miss}")
    await forced_commands(report, recognizer, voices, label=f"{group} held-out voices")


async def forced_commands(
    report: Any,
    recognizer: Any,
    voices: tuple[Voice, ...],
    label: str = "all voices",
) -> None:
    """Open sentences (``fixtures/speech/open.tsv``) under the launch rules, robots taking
    turns after the commands: how many the recogniser forces onto a command instead of
    leaving them to the chat intent. The guard for any change that makes the grammar accept
    more (the commands' accuracy alone rewards accepting everything)."""
    from jibo_cloud.speech.synth import spoken_pages

    sentences = load_open()
    forced: list[str] = []
    right = dict.fromkeys(voices, 0)
    for text in sentences:
        for voice in voices:
            pages = spoken_pages(text, voice=voice[0], speed=voice[1], lead=0.4, tail=0.8)
            speaker = f"robot-{voice[0]}-{voice[1]}"
            hyp = await _recognise(recognizer, pages, DEFAULT_RULES, speaker)
            got = parse_text(hyp, DEFAULT_RULES)["intent"]
            right[voice] += got == "chat"
            if got != "chat":
                forced.append(f"{voice[0]}/{voice[1]} {text!r} -> {hyp!r} ({got})")

    def rate(chosen: tuple[Voice, ...]) -> float:
        wrong = sum(len(sentences) - right[v] for v in chosen if v in right)
        return 100 * wrong / max(len(sentences) * len(chosen), 1)

    report.add(
        f"open sentences forced onto a command ({label})",
        rate(voices),
        "%",
        f"{len(sentences)} sentences x {len(voices)} voices; lower is better",
    )
    if set(VOICES) <= set(voices):
        report.add("open sentences forced onto a command (tuning voices)", rate(VOICES), "%")
        report.add(
            "open sentences forced onto a command (held-out voices)", rate(HELD_OUT_VOICES), "%"
        )
    for line in forced:
        print(f"    forced: {line}")


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


async def latency(report: Any, pages: list[bytes], processes: int) -> None:
    """EOS -> LISTEN through the real server, decoding in ``processes`` workers (0: threads)."""
    from jibo_cloud.runtime import Runtime
    from jibo_cloud.server import bound_port, serve

    where = f"{processes} processes" if processes else "threads"
    with tempfile.TemporaryDirectory() as data_dir:
        # BENCH_LIMITS: up to 48 robots on one token from one address are the load measured
        # here, which issue 17's socket caps and rate limits would refuse.
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
            # Issue 17: the hub refuses a token whose robot is not registered.
            await server.register_robot(runtimes[0].storage)
            recognizer = runtimes[0].recognizer

            def worker_pids() -> list[int]:
                pids = getattr(recognizer, "worker_pids", None)
                return list(pids()) if pids is not None else []

            await spoken_turn(port, token, pages, 0, paced=False)  # warm the decoders
            serial = [(await spoken_turn(port, token, pages, i, paced=False))[0] for i in range(20)]
            report.add(
                f"EOS -> LISTEN p50 (one turn at a time, {where})",
                1000 * statistics.median(serial),
                "ms",
                "goal < 300 ms",
            )
            report.add(
                f"EOS -> LISTEN p95 (one turn at a time, {where})", 1000 * _p95(serial), "ms"
            )
            best = 0
            alone = math.inf  # a paced turn's duration with no other robot (N = 1)
            for n in CONCURRENCY:
                results: list[float] = []
                turns: list[float] = []

                async def robot(
                    i: int, results: list[float] = results, turns: list[float] = turns, n: int = n
                ) -> None:
                    await trio.sleep(
                        i * PAGE_SECONDS / max(n, 1)
                    )  # robots do not start in lockstep
                    try:
                        eos_to_listen, turn = await spoken_turn(
                            port, token, pages, 1000 + i, paced=True
                        )
                    except TurnFailed:
                        eos_to_listen = turn = math.inf
                    results.append(eos_to_listen)
                    turns.append(turn)

                pids = worker_pids()
                server_cpu, workers_cpu = time.process_time(), _cpu_seconds(pids)
                async with trio.open_nursery() as robots:
                    for i in range(n):
                        robots.start_soon(robot, i)
                server_cpu = time.process_time() - server_cpu
                workers_cpu = _cpu_seconds(pids) - workers_cpu
                p95 = _p95(results)
                alone = statistics.median(turns) if n == 1 else alone
                added = _p95(turns) - alone
                # Both: a server that is late to notice speech sends EOS late, which EOS ->
                # LISTEN alone does not see (the thread path's backlog sits before EOS).
                ok = p95 < 1.0 and added < 1.0
                best = n if ok else best
                failed = sum(math.isinf(t) for t in turns)
                report.add(
                    f"{n} concurrent spoken turns, EOS -> LISTEN p95 ({where})",
                    1000 * p95,
                    "ms",
                    ("real time" if ok else "too slow") + (f", {failed} failed" if failed else ""),
                )
                report.add(
                    f"  {n} concurrent: turn p95 minus one robot alone ({where})",
                    1000 * added,
                    "ms",
                    "delay the load adds, EOS included",
                )
                if n in (16, 32, max(CONCURRENCY)):
                    report.add(
                        f"  CPU per turn at {n}: server process incl. bench robots ({where})",
                        1000 * server_cpu / n,
                        "ms",
                    )
                    if pids:
                        report.add(
                            f"  CPU per turn at {n}: decoder workers ({where})",
                            1000 * workers_cpu / n,
                            "ms",
                        )
            report.add(
                f"concurrent spoken turns in real time ({where})",
                best,
                "turns",
                "goal >= 16 (of those tried)",
            )
            stop.set()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run(report: Any) -> None:
    from jibo_cloud.speech.synth import espeak_available

    if not espeak_available():
        print("  skipped: espeak-ng is not installed")
        return
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        print("  skipped: pocketsphinx is not installed")
        return

    async def main() -> None:
        pages = await quality(report)
        for processes in (0, os.cpu_count() or 1):  # before (threads) and the default
            await latency(report, pages, processes)

    trio.run(main)
