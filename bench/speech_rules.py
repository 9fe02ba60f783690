"""Decision rules scored offline over :mod:`bench.speech_cache`'s decodes (tuning split only).

Import it and call :func:`run` with a Whisper setting's file and the rule's knobs (see
:func:`decide`, which follows :meth:`jibo_cloud.speech.engine.Utterance.finish`), e.g.::

    from bench import speech_rules as r
    from jibo_cloud.speech.whisper import clean_text
    r.run("whisper-b5.jsonl", norm=clean_text, nbest=True, snap=0.7, keep=-0.2)
    r.load_scores("scores-b5.jsonl")  # after ``python -m bench.speech_cache scores``
    r.run("whisper-b5.jsonl", nbest=True, snap=0.7, keep=-0.2, alt=0.5, margin=8.0)
    r.run("whisper-b5.jsonl", nbest=True, snap=0.7, keep=-0.2, alt=0.5, margin=8.0, lm_weight=0.5)

docs/speech.md, rounds of 2026-12-06 05:15 and 22:50, has the figures these gave.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from pathlib import Path

from bench.speech_quality import OPEN_INTENTS, word_errors
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.speech import agree

logging.disable(logging.CRITICAL)
OUT = Path(os.environ.get("SPEECH_CACHE", "bench-results/speech-cache"))
ITEMS = (
    {it["key"]: it for it in json.loads((OUT / "items.json").read_text())}
    if (OUT / "items.json").is_file()
    else {}
)


def load(name: str) -> dict:
    path = OUT / name
    return {json.loads(line)["key"]: json.loads(line) for line in path.read_text().splitlines()}


_PARSE: dict = {}


def parse(text: str, rules: tuple) -> dict:
    k = (text, rules)
    if k not in _PARSE:
        _PARSE[k] = parse_text(text, rules)
    return _PARSE[k]


def _alternative(w, lp, rules, alt):
    """The beam's next guess that is a request (``Utterance._command_alternative``)."""
    others = [c for c in w["cands"][1:] if c[0]]
    return agree.command_alternative([c[0] for c in others], [c[1] for c in others], lp, rules, alt)


def decide(
    it,
    w,
    g,
    *,
    low=-1.0,
    nsp=0.6,
    snap=0.75,
    second="free",
    norm=False,
    cand="top",
    unexp=None,
    keep=None,
    nbest=False,
    skip=False,
    alt=None,
    margin=None,
):
    """Replicates Utterance.finish over cached results; returns the turn's text.

    ``alt``: the beam's next guess that is a request, within this many of the best's mean
    log-prob, before the grammar (``DecodePolicy.whisper_alternative_margin``), and in a
    constrained turn whose grammar pass was refused, when Whisper's best words are off the
    menu (``Utterance._menu_words``); ``margin``:
    the grammar's phrase wins when Whisper's forced score of it (``scores-*.jsonl``, loaded
    into :data:`SCORES`) is within this many nats of its words' (``grammar_score_margin``),
    instead of the similarity rule (which still decides where no score was cached)."""
    rules = tuple(it["rules"])
    constrained = "launch" not in rules
    if "first" not in g:  # no speech
        return ""
    text, lp = w["cands"][0] if w["cands"] else ["", -99.0]
    if cand != "top" and w["cands"]:
        text, lp = cand(it, w, rules)
    if norm and text:
        text = norm(text)
    speech = bool(text) and not (w["nsp"] > nsp and lp < -1.0)
    sure = speech and lp >= low
    first_ok = g["acceptable"]
    if constrained:
        if first_ok:
            return g["first"]
        if sure:
            if alt is not None and not agree.understood(text, rules):  # Utterance._menu_words
                return _alternative(w, lp, rules, alt) or text
            return text
    else:
        if sure:
            parsed = parse(text, rules)
            wi = parsed["intent"]
            if second == "free":
                ask = agree.lands_open(parsed, rules)
            elif second == "always":
                ask = True
            elif second == "differ":
                ask = agree.lands_open(parsed, rules) or (
                    first_ok and parse(g["first"], rules)["intent"] != wi
                )
            else:
                ask = False
            ok2 = first_ok if unexp is None else (g["whole"] and g["unexplained"] <= unexp)
            if skip and keep is not None and lp >= keep:
                ask = False
            if ask:
                ASKED.append(it["key"])
            if ask and alt is not None:
                pick = _alternative(w, lp, rules, alt)
                if pick:
                    return pick
            if ask and ok2:
                if agree.same_meaning(g["first"], text, rules):
                    return g["first"]
                if nbest and any(
                    agree.same_meaning(g["first"], (norm or (lambda x: x))(c[0]), rules)
                    for c in w["cands"][1:]
                ):
                    return g["first"]
                scored = SCORES.get(it["key"]) if margin is not None else None
                if scored is not None:
                    return g["first"] if scored[0] >= scored[1] - margin else text
                if (keep is None or lp < keep) and agree.similarity(g["first"], text) >= snap:
                    return g["first"]
            return text
        if first_ok:
            return g["first"]
    # pocketsphinx rest (cached grammar-alone decision)
    if "annotation" not in g:
        r = REST.get(it["key"])
        if r is None:
            MISSING.add(it["key"])
            return text if speech else ""
        g = {**g, **r}
    general = g["annotation"] is None and not g["accepted"]
    if speech and general:
        return text
    return g["text"]


def score(results: dict, label: str, show=False, split_by=("family", "condition")):
    tallies = defaultdict(lambda: {"c": 0, "r": 0, "o": 0, "f": 0, "e": 0, "n": 0})
    misses = []
    for key, text in results.items():
        it = ITEMS[key]
        rules = tuple(it["rules"])
        t = tallies[tuple(it[s] for s in split_by)]
        got = parse(text, rules)["intent"]
        if it["kind"] == "command":
            t["c"] += 1
            ok = got == it["intent"]
            t["r"] += ok
            if not ok:
                misses.append(f"{key} {it['text']!r} -> {text!r} ({got})")
        else:
            t["o"] += 1
            expected = parse(it["text"], rules)["intent"]
            bad = got not in OPEN_INTENTS and got != expected
            t["f"] += bad
            if bad:
                misses.append(f"forced {key} {it['text']!r} -> {text!r} ({got})")
            e, n = word_errors(it["text"], text)
            t["e"] += e
            t["n"] += n
    row = []
    for k in sorted(tallies):
        t = tallies[k]
        row.append(
            f"{'/'.join(k)[:13]:>13} {100 * t['r'] / max(t['c'], 1):5.1f} "
            f"{100 * t['f'] / max(t['o'], 1):4.1f} {100 * t['e'] / max(t['n'], 1):4.1f}"
        )
    tot_r = sum(t["r"] for t in tallies.values())
    tot_c = sum(t["c"] for t in tallies.values())
    tot_f = sum(t["f"] for t in tallies.values())
    print(f"{label:<28} all {tot_r}/{tot_c} forced {tot_f} | " + " | ".join(row))
    if show:
        for m in misses:
            print("   ", m)
    return tallies


ASKED: list = []
REST: dict = {}
MISSING: set = set()
#: key → (Whisper's forced score of the grammar's phrase, of its own words), both as said
#: (``python -m bench.speech_cache scores``); :func:`load_scores` fills it.
SCORES: dict = {}


def load_scores(name: str = "scores-b5.jsonl") -> None:
    SCORES.update({k: tuple(v["scores"]) for k, v in load(name).items()})


def grammar_all() -> dict:
    g = {}
    for p in OUT.glob("grammar*.jsonl"):
        g.update(load(p.name))
    if (OUT / "rest.jsonl").exists():
        REST.update(load("rest.jsonl"))
    return g


def reworded(it, w, text, weight, model):
    """``text`` as ``Utterance._reworded`` leaves it (:func:`jibo_cloud.speech.wording.reword`)
    when it is Whisper's best words for an open turn."""
    from jibo_cloud.speech.wording import reword

    rules = tuple(it["rules"])
    cands = [c for c in w["cands"] if c[0]]
    if "launch" not in rules or not cands or text != cands[0][0]:
        return text
    others = cands[1:]
    return reword(
        text, cands[0][1], [c[0] for c in others], [c[1] for c in others], rules, model, weight
    )


def run(wname, show=False, label=None, lm_weight=None, **kw):
    """Score a rule (``decide``'s knobs); ``lm_weight``: open sentences reworded by the
    language model (``DecodePolicy.whisper_lm_weight``)."""
    w, g = load(wname), grammar_all()
    keys = [k for k in ITEMS if k in w and k in g]
    ASKED.clear()
    res = {k: decide(ITEMS[k], w[k], g[k], **kw) for k in keys}
    if lm_weight is not None:
        from jibo_cloud.speech.wording import WordModel

        model = WordModel()
        res = {k: reworded(ITEMS[k], w[k], text, lm_weight, model) for k, text in res.items()}
    score(res, (label or f"{wname} {kw}") + f" [g{len(ASKED)}]", show=show)
    return res


def whisper_alone(wname, label=None):
    w = load(wname)
    res = {k: (v["cands"][0][0] if v["cands"] else "") for k, v in w.items()}
    score(res, label or f"{wname} alone")


if __name__ == "__main__":
    pass
