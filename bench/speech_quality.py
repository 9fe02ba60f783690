"""Speech quality per synthesizer family and condition (``python -m bench speech``'s first part).

Every phrase of ``fixtures/speech/phrases.tsv`` (commands over every launch intent, cloud
skills and constrained turns; open sentences) is spoken by each voice of a family
(:mod:`bench.speech_audio`), clean and in the living room, encoded into robot Ogg/Opus pages and
run through the server's own front end (decoding, voice detector) and decoding code in this
process: the pocketsphinx engine (:mod:`jibo_cloud.speech.engine`) and Whisper
(:mod:`jibo_cloud.speech.whisper`, loaded once). Per utterance Whisper runs once and the
grammar twice, so four decision designs are scored on the same decodes:

- ``shipped``: :meth:`Utterance.finish` with Whisper (what the server does);
- ``grammar``: pocketsphinx alone (the fallback, and the server before Whisper);
- ``whisper``: Whisper's words alone (no grammar);
- ``grammar first``: the grammar's answer when it accepts, Whisper's words otherwise.

Reported per family x condition x split (``tune`` / ``held``, the held-out third never looked
at while tuning): command intent accuracy, open sentences forced onto a command, the word
error rate of open sentences (shipped), and the CPU of the decision after EOS (shipped).
Each voice is its own robot (its own speaker state), the voices of a family taking turns.

Subsets (the machine is shared; a full run is ~2,000 utterances): ``BENCH_SPEECH`` holds
``key=value`` pairs separated by ``;`` — ``families=flite,festival``, ``conditions=room``,
``splits=held``, ``kinds=command``, ``limit=20`` (phrases per kind), ``parts=quality,latency``
— or run ``python -m bench.speech_quality --help``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from bench.speech_audio import CONDITIONS, FAMILIES, available, utterance
from jibo_cloud.nlu.parser import parse_text
from protocol.plan import normalize_transcript

PHRASES = Path(__file__).resolve().parents[1] / "fixtures" / "speech" / "phrases.tsv"
LAUNCH = ("launch", "globals/global_commands_launch")
#: Intents an open sentence may rightly get: chat, or the answers skill's open questions.
OPEN_INTENTS = frozenset(
    {
        "chat", "generalWhoQuestions", "generalWhatQuestions", "generalWhereQuestions",
        "generalWhenQuestions", "generalHowQuestions", "generalWhyQuestions",
        "requestTellAboutThing",
    }
)  # fmt: skip
POLICIES = ("shipped", "whisper", "grammar", "grammar first")


@attrs.frozen
class Phrase:
    split: str
    kind: str
    intent: str
    rules: tuple[str, ...]
    text: str


def load_phrases(path: Path = PHRASES) -> list[Phrase]:
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        split, kind, intent, rules, text = line.split("\t")
        chosen = LAUNCH if rules == "-" else tuple(rules.split(","))
        rows.append(Phrase(split, kind, intent, chosen, text))
    return rows


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length), on normalised transcripts."""
    ref, hyp = normalize_transcript(reference).split(), normalize_transcript(hypothesis).split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)], len(ref)


@attrs.define
class Options:
    families: tuple[str, ...] = tuple(FAMILIES)
    conditions: tuple[str, ...] = CONDITIONS
    splits: tuple[str, ...] = ("tune", "held")
    kinds: tuple[str, ...] = ("command", "open")
    limit: int = 0
    parts: tuple[str, ...] = ("quality", "latency")
    #: Also score pocketsphinx alone and "grammar first" (a second grammar decode per
    #: utterance: slow, the general model and re-passes run on every open sentence).
    compare: bool = False
    #: DecodePolicy fields to change for this run (tuning): ``name:value`` pairs.
    policy: dict[str, str] = attrs.field(factory=dict)

    def decode_policy(self) -> Any:
        """The shipped DecodePolicy with :attr:`policy`'s changes (values typed by field)."""
        from jibo_cloud.speech.policy import DEFAULT_POLICY

        changes: dict[str, Any] = {}
        for name, raw in self.policy.items():
            kind = type(getattr(DEFAULT_POLICY, name))
            changes[name] = raw if kind is str else kind(raw)
        return attrs.evolve(DEFAULT_POLICY, **changes)

    @classmethod
    def from_env(cls, raw: str | None = None) -> Options:
        """``BENCH_SPEECH`` (see the module docs)."""
        options = cls()
        for item in (raw if raw is not None else os.environ.get("BENCH_SPEECH", "")).split(";"):
            key, sep, value = item.partition("=")
            if not sep:
                continue
            key = key.strip()
            if key == "limit":
                options.limit = int(value)
            elif key == "compare":
                options.compare = value.strip() not in ("", "0", "no")
            elif key == "policy":
                for pair in value.split(","):
                    name, _, setting = pair.partition(":")
                    if name.strip():
                        options.policy[name.strip()] = setting
            elif key in ("families", "conditions", "splits", "kinds", "parts"):
                setattr(options, key, tuple(v.strip() for v in value.split(",") if v.strip()))
            else:
                raise SystemExit(f"BENCH_SPEECH: unknown key {key!r}")
        return options


@attrs.define
class Tally:
    """One family x condition x split: per policy, right commands and forced open sentences."""

    commands: int = 0
    open: int = 0
    right: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(POLICIES, 0))
    forced: dict[str, int] = attrs.field(factory=lambda: dict.fromkeys(POLICIES, 0))
    errors: int = 0
    words: int = 0
    command_cpu: list[float] = attrs.field(factory=list)
    open_cpu: list[float] = attrs.field(factory=list)
    whispered: int = 0
    #: The policies scored (without ``compare``: shipped and whisper).
    seen: set[str] = attrs.field(factory=set)


class Harness:
    """The server's front end and decoders, in this process (see the module docs)."""

    def __init__(self, policy: Any = None) -> None:
        from jibo_cloud.speech.engine import Engine
        from jibo_cloud.speech.policy import DEFAULT_POLICY
        from jibo_cloud.speech.speakers import SpeakerStates
        from jibo_cloud.speech.whisper import WhisperEngine
        from jibo_cloud.speech.whisper_model import prepare_model

        info = prepare_model(Path("bench-results") / "data", os.environ)
        if info is None:
            raise SystemExit("bench speech: JIBO_WHISPER_MODEL is off; nothing to compare")
        policy = policy or DEFAULT_POLICY
        self.whisper = WhisperEngine(info.path, threads=1, policy=policy)
        self.engine = Engine(policy=policy)
        self.engine.warm_up(lean=True)
        self.shipped_means = SpeakerStates()
        self.grammar_means = SpeakerStates()
        self.whisper_seconds: list[float] = []
        self.whisper_audio = 0.0

    def front(self, pcm: bytes) -> bytes:
        """The PCM the decoders get (the voice detector's speech, padded), as in the server."""
        from jibo_cloud.speech.decode import open_decoder
        from jibo_cloud.speech.front import SpeechFront
        from jibo_cloud.speech.synth import ogg_opus_pages

        front = SpeechFront(open_decoder("OGG_OPUS", 16000))
        out = bytearray()
        for page in ogg_opus_pages(pcm):
            out += front.feed(page)[1]
        out += front.finish()
        return bytes(out) if front.heard_speech else b""

    def decide(
        self, speech: bytes, rules: Sequence[str], speaker: str, *, compare: bool
    ) -> dict[str, Any]:
        """Every policy's transcript for one utterance, and the shipped decision's CPU."""
        from jibo_cloud.speech.engine import GRAMMAR_CONFIDENCE, Utterance

        if not speech:  # the policies this run scores, all silent
            scored = POLICIES if compare else ("shipped", "whisper")
            return {"texts": dict.fromkeys(scored, ""), "cpu": 0.0, "whispered": False}
        cpu = time.process_time()
        heard = self.whisper.transcribe(speech)
        whisper_cpu = time.process_time() - cpu
        self.whisper_seconds.append(whisper_cpu)
        self.whisper_audio += len(speech) / 32000
        used: list[bool] = []

        def listen(_: bytes, __: Sequence[str] = ()) -> Any:
            used.append(True)
            return heard

        texts: dict[str, str] = {}
        shipped = Utterance(self.engine, rules, (), self.shipped_means.start(speaker), whisper=True)
        try:
            shipped.process(speech)
            start = time.process_time()
            decision = shipped.finish(listen)
            decision_cpu = time.process_time() - start
        finally:
            shipped.release()
        if decision.speaker is not None:
            self.shipped_means.accepted(speaker, decision.speaker)
        # The decision's CPU after EOS: its own work, plus Whisper's when it was consulted
        # (the listen above returns the decode made before it).
        decision_cpu += whisper_cpu if used else 0.0
        texts["shipped"] = decision.result.text
        texts["whisper"] = heard.text if heard.speech else ""
        if not compare:
            return {"texts": texts, "cpu": decision_cpu, "whispered": bool(used)}
        alone = Utterance(self.engine, rules, (), self.grammar_means.start(speaker))
        try:
            alone.process(speech)
            grammar = alone.finish(None)
        finally:
            alone.release()
        if grammar.speaker is not None:
            self.grammar_means.accepted(speaker, grammar.speaker)
        texts["grammar"] = grammar.result.text
        accepted = grammar.result.confidence >= GRAMMAR_CONFIDENCE
        texts["grammar first"] = grammar.result.text if accepted else texts["whisper"]
        return {"texts": texts, "cpu": decision_cpu, "whispered": bool(used)}


def run_quality(report: Any, options: Options) -> dict[tuple[str, str, str], Tally]:
    phrases = [p for p in load_phrases() if p.split in options.splits and p.kind in options.kinds]
    if options.limit:
        by_kind: dict[str, list[Phrase]] = defaultdict(list)
        for p in phrases:
            by_kind[p.kind].append(p)
        phrases = [p for kind in by_kind.values() for p in kind[: options.limit]]
    harness = Harness(options.decode_policy())
    if options.policy:
        print(f"  policy changes: {options.policy}", flush=True)
    tallies: dict[tuple[str, str, str], Tally] = {}
    misses: list[str] = []
    started = time.monotonic()
    for family in options.families:
        if not available(family):
            print(f"  skipped {family}: not installed")
            continue
        voices = FAMILIES[family]
        for condition in options.conditions:
            for phrase in phrases:
                for voice in voices:  # robots take turns
                    tally = tallies.setdefault((family, condition, phrase.split), Tally())
                    pcm = utterance(family, voice, phrase.text, condition)
                    speech = harness.front(pcm)
                    speaker = f"{family}/{voice}/{condition}"
                    out = harness.decide(speech, phrase.rules, speaker, compare=options.compare)
                    tally.whispered += out["whispered"]
                    expected = parse_text(phrase.text, phrase.rules)["intent"]
                    tally.seen.update(out["texts"])
                    for policy, text in out["texts"].items():
                        got = parse_text(text, phrase.rules)["intent"]
                        if phrase.kind == "command":
                            ok = got == phrase.intent
                            tally.right[policy] += ok
                            if not ok and policy == "shipped" and phrase.split != "held":
                                misses.append(
                                    f"{family}/{voice}/{condition} {phrase.text!r} -> "
                                    f"{text!r} ({got})"
                                )
                        else:
                            bad = got not in OPEN_INTENTS and got != expected
                            tally.forced[policy] += bad
                            if bad and policy == "shipped" and phrase.split != "held":
                                misses.append(
                                    f"forced: {family}/{voice}/{condition} {phrase.text!r} -> "
                                    f"{text!r} ({got})"
                                )
                    if phrase.kind == "command":
                        tally.commands += 1
                        tally.command_cpu.append(out["cpu"])
                    else:
                        tally.open += 1
                        tally.open_cpu.append(out["cpu"])
                        e, n = word_errors(phrase.text, out["texts"]["shipped"])
                        tally.errors, tally.words = tally.errors + e, tally.words + n
            print(f"    {family}/{condition} done ({time.monotonic() - started:.0f} s)", flush=True)
    _report(report, tallies)
    report.add(
        "Whisper real-time factor (CPU s per speech s, 1 thread)",
        sum(harness.whisper_seconds) / max(harness.whisper_audio, 1e-9),
        "x",
        f"median {1000 * statistics.median(harness.whisper_seconds or [0]):.0f} ms per utterance",
    )
    for miss in misses:  # held-out misses are never printed: nobody tunes on them
        print(f"    miss (tune): {miss}")
    return tallies


def _report(report: Any, tallies: dict[tuple[str, str, str], Tally]) -> None:
    print()
    print(
        "| family | condition | split | commands right (shipped / whisper / grammar / grammar "
        "first) | open forced (same order) | open WER | decision CPU p50 cmd / open |"
    )
    print("|---|---|---|---|---|---|---|")
    for (family, condition, split), t in sorted(tallies.items()):

        def pct(n: int, d: int) -> str:
            return f"{100 * n / d:.1f}" if d else "-"

        right = " / ".join(pct(t.right[p], t.commands) for p in POLICIES if p in t.seen)
        forced = " / ".join(pct(t.forced[p], t.open) for p in POLICIES if p in t.seen)
        wer = pct(t.errors, t.words)
        cpu_c = 1000 * statistics.median(t.command_cpu) if t.command_cpu else 0.0
        cpu_o = 1000 * statistics.median(t.open_cpu) if t.open_cpu else 0.0
        print(
            f"| {family} | {condition} | {split} | {right} (of {t.commands}) | {forced} "
            f"(of {t.open}) | {wer} | {cpu_c:.0f} / {cpu_o:.0f} ms |"
        )
        label = f"{family}/{condition}/{split}"
        if t.commands:
            report.add(
                f"speech intent accuracy {label}",
                100 * t.right["shipped"] / t.commands,
                "%",
                "goal >= 95 % (held)",
            )
        if t.open:
            report.add(
                f"open sentences forced {label}",
                100 * t.forced["shipped"] / t.open,
                "%",
                "goal <= 5 %",
            )
            report.add(
                f"open sentence WER {label}", 100 * t.errors / max(t.words, 1), "%", "goal <= 10 %"
            )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.speech_quality")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--splits", default="tune", help="tune, held or tune,held")
    parser.add_argument("--kinds", default="command,open")
    parser.add_argument("--limit", type=int, default=0, help="phrases per kind (0: all)")
    parser.add_argument("--compare", action="store_true", help="also pocketsphinx alone")
    parser.add_argument(
        "--policy", default="", help="DecodePolicy changes, name:value,… (no commas in values)"
    )
    args = parser.parse_args()
    options = Options.from_env(
        f"families={args.families};conditions={args.conditions};splits={args.splits};"
        f"kinds={args.kinds};limit={args.limit};compare={int(args.compare)};policy={args.policy}"
    )

    class Printer:
        def add(self, name: str, value: float, unit: str, note: str = "") -> None:
            print(f"  {name:<48} {value:>10.2f} {unit:<4} {note}", flush=True)

    run_quality(Printer(), options)


if __name__ == "__main__":
    main()
