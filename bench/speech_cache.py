"""Decode cache for speech tuning (tuning split only; the held-out third is never decoded).

Each tuning utterance goes through the server's front end once; Whisper decodes it once per
setting (all beam hypotheses kept), the grammar's first pass runs once, and pocketsphinx's slow
paths only where needed; :mod:`bench.speech_rules` then scores decision rules in seconds.
Files go to ``$SPEECH_CACHE`` (default ``bench-results/speech-cache``).

- ``speech``: the front end's speech per utterance, and ``items.json``;
- ``whisper NAME beam=5 nhyp=5 [vad=1] [POLICY_FIELD=value]``: ``whisper-NAME.jsonl``;
- ``grammar [FAMILY]``: the grammar's first pass, ``grammar-FAMILY.jsonl``;
- ``rest KEYS_FILE``: pocketsphinx's decision for the listed keys, ``rest.jsonl``;
- ``scores WHISPER_FILE``: Whisper's forced score of the grammar's first-pass phrase and of
  its own best words (both as said) for every open-rule utterance whose second opinion asks
  the grammar, ``scores-b5.jsonl`` (for ``bench.speech_rules``' ``margin``);
- ``open NAME WHISPER_FILE [POLICY_FIELD=value]``: the whole decision of every open-rule
  utterance (the real ``Utterance.finish`` fed the cached Whisper result), ``open-NAME.jsonl``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

OUT = Path(os.environ.get("SPEECH_CACHE", "bench-results/speech-cache"))
SPEECH = OUT / "speech"


def items():
    from bench.speech_audio import CONDITIONS, FAMILIES
    from bench.speech_quality import load_phrases

    phrases = [p for p in load_phrases() if p.split == "tune"]
    out = []
    for family in FAMILIES:
        for condition in CONDITIONS:
            for i, p in enumerate(phrases):
                for voice in FAMILIES[family]:
                    key = f"{family}|{voice.replace('/', '_')}|{condition}|{i}"
                    out.append(
                        {
                            "key": key,
                            "family": family,
                            "voice": voice,
                            "condition": condition,
                            "i": i,
                            "kind": p.kind,
                            "intent": p.intent,
                            "rules": list(p.rules),
                            "text": p.text,
                        }
                    )
    return out


def speech_path(key: str) -> Path:
    return SPEECH / (key.replace("|", "__") + ".pcm")


def cmd_speech() -> None:
    from bench.speech_audio import utterance
    from bench.speech_quality import Harness

    SPEECH.mkdir(parents=True, exist_ok=True)
    its = items()
    (OUT / "items.json").write_text(json.dumps(its))
    h = Harness.__new__(Harness)
    t = time.monotonic()
    for n, it in enumerate(its):
        p = speech_path(it["key"])
        if p.exists():
            continue
        pcm = utterance(it["family"], it["voice"], it["text"], it["condition"])
        p.write_bytes(Harness.front(h, pcm))
        if n % 100 == 0:
            print(n, len(its), f"{time.monotonic() - t:.0f}s", flush=True)


def load_model(policy):
    from bench.speech_quality import Harness  # noqa: F401
    from jibo_cloud.speech.whisper import WhisperEngine
    from jibo_cloud.speech.whisper_model import prepare_model

    info = prepare_model(Path("bench-results") / "data", os.environ)
    return WhisperEngine(info.path, threads=1, policy=policy)


def trim(pcm: bytes, keep: float = 0.15) -> bytes:
    from pocketsphinx import Vad

    vad = Vad(Vad.LOOSE, 16000, 0.01)
    size = vad.frame_bytes
    flags = [vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]
    if not any(flags):
        return pcm
    first = flags.index(True)
    last = len(flags) - 1 - flags[::-1].index(True)
    k = int(keep / 0.01)
    return pcm[max(0, first - k) * size : (last + 1 + k) * size]


def decode(engine, pcm: bytes, beam: int, nhyp: int, vad: bool, temps=()):
    """Candidates [(text, score)], no_speech_prob, cpu."""
    import ctranslate2

    from jibo_cloud.speech.whisper import clean_text

    if vad:
        pcm = trim(pcm)
    policy = engine.policy
    features, prompt, max_tokens = engine.prepare(pcm)
    tok = engine.tokenizer
    kw = {
        "max_length": len(prompt) + max_tokens,
        "return_scores": True,
        "return_no_speech_prob": True,
        "suppress_blank": True,
        "suppress_tokens": [-1],
        "no_repeat_ngram_size": policy.whisper_no_repeat_ngram,
    }
    cpu = time.process_time()
    enc = engine.model.encode(features)
    r = engine.model.generate(enc, [prompt], beam_size=beam, num_hypotheses=nhyp, **kw)[0]
    cands = []
    for ids, score in zip(r.sequences_ids, r.scores, strict=False):
        ids = [t for t in ids if t < tok.eot]
        cands.append([clean_text(tok.decode(ids)), float(score)])
    extra = []
    for temp in temps:  # temperature fallback candidates (seeded)
        ctranslate2.set_random_seed(1234)
        rt = engine.model.generate(
            enc,
            [prompt],
            beam_size=1,
            sampling_temperature=temp,
            sampling_topk=0,
            num_hypotheses=1,
            **kw,
        )[0]
        ids = [t for t in rt.sequences_ids[0] if t < tok.eot]
        extra.append([temp, clean_text(tok.decode(ids)), float(rt.scores[0])])
    return cands, float(r.no_speech_prob), time.process_time() - cpu, extra


def cmd_whisper(name: str, args: list[str]) -> None:
    import attrs

    from jibo_cloud.speech.policy import DEFAULT_POLICY

    opts = dict(a.split("=", 1) for a in args)
    beam = int(opts.pop("beam", 1))
    nhyp = int(opts.pop("nhyp", 1))
    vad = opts.pop("vad", "0") == "1"
    temps = tuple(float(x) for x in opts.pop("temps", "").split(",") if x)
    only = opts.pop("only", "")
    changes = {}
    for k, v in opts.items():
        kind = type(getattr(DEFAULT_POLICY, k))
        changes[k] = v if kind is str else kind(v)
    policy = attrs.evolve(DEFAULT_POLICY, **changes)
    engine = load_model(policy)
    its = json.loads((OUT / "items.json").read_text())
    if only:
        its = [it for it in its if it["family"] in only.split(",")]
    path = OUT / f"whisper-{name}.jsonl"
    done = set()
    if path.exists():
        done = {json.loads(line)["key"] for line in path.read_text().splitlines()}
    t = time.monotonic()
    with path.open("a") as f:
        for n, it in enumerate(its):
            if it["key"] in done:
                continue
            pcm = speech_path(it["key"]).read_bytes()
            if not pcm:
                rec = {
                    "key": it["key"],
                    "cands": [],
                    "nsp": 1.0,
                    "cpu": 0.0,
                    "secs": 0.0,
                    "extra": [],
                }
            else:
                cands, nsp, cpu, extra = decode(engine, pcm, beam, nhyp, vad, temps)
                rec = {
                    "key": it["key"],
                    "cands": cands,
                    "nsp": nsp,
                    "cpu": cpu,
                    "secs": len(pcm) / 32000,
                    "extra": extra,
                }
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if n % 200 == 0:
                print(name, n, len(its), f"{time.monotonic() - t:.0f}s", flush=True)


def cmd_grammar(args: list[str]) -> None:
    from jibo_cloud.speech.engine import Engine, Utterance
    from jibo_cloud.speech.speakers import SpeakerStates

    only = args[0] if args else ""
    rest = False
    engine = Engine()
    engine.warm_up()
    means = SpeakerStates()
    its = json.loads((OUT / "items.json").read_text())
    if only:
        its = [it for it in its if it["family"] in only.split(",")]
    suffix = f"-{only}" if only else ""
    path = OUT / f"grammar{suffix}.jsonl"
    t = time.monotonic()
    with path.open("w") as f:
        for n, it in enumerate(its):
            pcm = speech_path(it["key"]).read_bytes()
            speaker = f"{it['family']}/{it['voice']}/{it['condition']}"
            rec = {"key": it["key"]}
            if pcm:
                state = means.start(speaker)
                u = Utterance(engine, it["rules"], (), state, whisper=False)
                try:
                    cp = time.process_time()
                    u.process(pcm)
                    c0 = time.process_time()
                    first = u._streamed_pass()
                    c1 = time.process_time()
                    if first.acceptable:
                        dec = u._accepted(first.text)
                    elif rest:
                        dec = u._sphinx_rest(first)
                    else:
                        dec = None
                    c2 = time.process_time()
                finally:
                    u.release()
                if dec is not None and dec.speaker is not None:
                    means.accepted(speaker, dec.speaker)
                rec.update(
                    first=first.text,
                    whole=first.whole,
                    unexplained=first.unexplained,
                    acceptable=first.acceptable,
                    cpu_end=c1 - c0,
                    cpu_stream=c0 - cp,
                    cpu_rest=c2 - c1,
                    state=[state.warp, state.mean] if state else None,
                )
                if dec is not None:
                    rec.update(
                        text=dec.result.text,
                        annotation=dec.result.annotation,
                        conf=dec.result.confidence,
                        accepted=dec.speaker is not None,
                    )
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if n % 100 == 0:
                print("grammar", n, len(its), f"{time.monotonic() - t:.0f}s", flush=True)


def cmd_rest(args: list[str]) -> None:
    """Grammar-alone decision for rejected first passes of the listed keys (from the stored
    speaker state)."""
    from jibo_cloud.speech.engine import Engine, Utterance
    from jibo_cloud.speech.speakers import SpeakerState

    engine = Engine()
    engine.warm_up()
    its = {it["key"]: it for it in json.loads((OUT / "items.json").read_text())}
    keys = Path(args[0]).read_text().split()
    path = OUT / "rest.jsonl"
    done = set()
    if path.exists():
        done = {json.loads(line)["key"] for line in path.read_text().splitlines()}
    grammar = {}
    for name in OUT.glob("grammar*.jsonl"):
        for line in name.read_text().splitlines():
            r = json.loads(line)
            grammar[r["key"]] = r
    with path.open("a") as f:
        for n, key in enumerate(keys):
            if key in done:
                continue
            it, g = its[key], grammar[key]
            pcm = speech_path(key).read_bytes()
            state = SpeakerState(*g["state"]) if g.get("state") else None
            u = Utterance(engine, it["rules"], (), state, whisper=False)
            try:
                u.process(pcm)
                first = u._streamed_pass()
                dec = u._accepted(first.text) if first.acceptable else u._sphinx_rest(first)
            finally:
                u.release()
            rec = {
                "key": key,
                "text": dec.result.text,
                "annotation": dec.result.annotation,
                "conf": dec.result.confidence,
                "accepted": dec.speaker is not None,
            }
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if n % 50 == 0:
                print("rest", n, len(keys), flush=True)


def cmd_open(name: str, args: list[str]) -> None:
    """The whole decision (``Utterance.finish``) of every open-rule (``launch``) utterance,
    from a Whisper file's best hypothesis and alternatives, with the given policy changes:
    ``open NAME WHISPER_FILE [POLICY_FIELD=value …]`` → ``open-NAME.jsonl`` (text, confidence,
    annotation, CPU of the decision after Whisper). Robots' speaker states follow this run's
    own acceptances (constrained turns are not decoded: the change under test leaves them
    alone)."""
    import attrs

    from jibo_cloud.speech.engine import Engine, Utterance
    from jibo_cloud.speech.policy import DEFAULT_POLICY
    from jibo_cloud.speech.speakers import SpeakerStates
    from jibo_cloud.speech.whisper import Heard, clean_text

    wfile, opts = args[0], dict(a.split("=", 1) for a in args[1:])
    only = opts.pop("only", "")
    changes = {}
    for k, v in opts.items():
        kind = type(getattr(DEFAULT_POLICY, k))
        changes[k] = (v == "1") if kind is bool else (v if kind is str else kind(v))
    policy = attrs.evolve(DEFAULT_POLICY, **changes)
    engine = Engine(policy=policy)
    engine.warm_up(lean=True)
    model = load_model(policy)  # for Whisper's forced score of the grammar's phrase
    means = SpeakerStates()
    whisper = {}
    for line in (OUT / wfile).read_text().splitlines():
        r = json.loads(line)
        whisper[r["key"]] = r
    its = [it for it in json.loads((OUT / "items.json").read_text()) if "launch" in it["rules"]]
    if only:
        its = [it for it in its if it["family"] in only.split(",")]
    path = OUT / f"open-{name}.jsonl"
    t = time.monotonic()
    with path.open("w") as f:
        for n, it in enumerate(its):
            pcm = speech_path(it["key"]).read_bytes()
            w = whisper[it["key"]]
            texts = [clean_text(c[0]) for c in w["cands"]]
            others = [(x, c[1]) for x, c in zip(texts[1:], w["cands"][1:], strict=True) if x]

            def score(candidates, pcm=pcm):
                features, prompt, _ = model.prepare(pcm)
                encoded = model.model.encode(features, to_cpu=True)
                return model.forced_logprobs(encoded, prompt, candidates)

            heard = Heard(
                text=texts[0] if texts else "",
                avg_logprob=w["cands"][0][1] if w["cands"] else -99.0,
                no_speech_prob=w["nsp"],
                policy=policy,
                alternatives=tuple(x for x, _ in others),
                alternative_logprobs=tuple(lp for _, lp in others),
                score=score,
            )
            speaker = f"{it['family']}/{it['voice']}/{it['condition']}"
            u = Utterance(engine, it["rules"], (), means.start(speaker), whisper=True)
            try:
                u.process(pcm)
                cpu = time.process_time()
                dec = u.finish(lambda _pcm, _hints, h=heard: h)
                cpu = time.process_time() - cpu
            finally:
                u.release()
            if dec.speaker is not None:
                means.accepted(speaker, dec.speaker)
            rec = {
                "key": it["key"],
                "text": dec.result.text,
                "conf": dec.result.confidence,
                "annotation": dec.result.annotation,
                "cpu": cpu,
            }
            f.write(json.dumps(rec) + "\n")
            f.flush()
            if n % 100 == 0:
                print("open", name, n, len(its), f"{time.monotonic() - t:.0f}s", flush=True)


def cmd_scores(args: list[str]) -> None:
    """Forced scores for the second opinion's rule (see the module docs)."""
    from bench.speech_rules import grammar_all, load
    from jibo_cloud.nlu.parser import parse_text
    from jibo_cloud.speech import agree
    from jibo_cloud.speech.policy import DEFAULT_POLICY

    wfile = args[0] if args else "whisper-b5.jsonl"
    model = load_model(DEFAULT_POLICY)
    whisper, grammar = load(wfile), grammar_all()
    path = OUT / "scores-b5.jsonl"
    done = set(load(path.name)) if path.exists() else set()
    with path.open("a") as f:
        for it in json.loads((OUT / "items.json").read_text()):
            key, rules = it["key"], tuple(it["rules"])
            w, g = whisper.get(key), grammar.get(key)
            if key in done or "launch" not in rules or not w or not w["cands"] or not g:
                continue
            text, logprob = w["cands"][0]
            asks = agree.lands_open(parse_text(text, rules), rules)
            if not (g.get("acceptable") and logprob >= DEFAULT_POLICY.whisper_low_logprob):
                continue
            if not asks or agree.same_meaning(g["first"], text, rules):
                continue
            features, prompt, _ = model.prepare(speech_path(key).read_bytes())
            encoded = model.model.encode(features, to_cpu=True)
            said = [agree.as_said(g["first"]), agree.as_said(text)]
            rec = {"key": key, "said": said}
            rec["scores"] = model.forced_logprobs(encoded, prompt, said)
            f.write(json.dumps(rec) + "\n")
            f.flush()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "speech":
        cmd_speech()
    elif cmd == "whisper":
        cmd_whisper(sys.argv[2], sys.argv[3:])
    elif cmd == "grammar":
        cmd_grammar(sys.argv[2:])
    elif cmd == "rest":
        cmd_rest(sys.argv[2:])
    elif cmd == "scores":
        cmd_scores(sys.argv[2:])
    elif cmd == "open":
        cmd_open(sys.argv[2], sys.argv[3:])
