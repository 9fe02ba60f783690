"""Labelled example sentences for the semantic recogniser's launch side.

Two sources, both ours: every launch template of the grammar expanded into sentences (a few
per alternative, slots filled with one sample value), and ``data/launch_paraphrases.json``,
phrasings written by hand the way owners talk ("could you count down ten minutes"). Each
example carries the :class:`~jibo_cloud.nlu.grammar.Phrase` it stands for, so a semantic
match yields that phrase's intent and fixed entities, and its slots are filled from the
utterance (:mod:`jibo_cloud.nlu.slots`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

from jibo_cloud.nlu.cloud_phrases import REPORT
from jibo_cloud.nlu.grammar import CLOUD_LAUNCH, ROBOT_LAUNCH, Phrase
from jibo_cloud.nlu.template import Alt, Seq, Slot, Word, parse_template

DATA_DIR = Path(__file__).parent / "data"
PARAPHRASES = DATA_DIR / "launch_paraphrases.json"

#: Sample values for slots when expanding templates.
_SAMPLE = {
    "number": "ten",
    "volume": "five",
    "hour": "seven",
    "minute": "thirty",
    "ampm": "pm",
    "day": "tomorrow",
    "holiday": "thanksgiving",
    "delete": "delete",
    "whattime": "what time",
    "genre": "jazz",
    "free": "sam",
}
#: The label of remarks that mention a command's topic without asking for it.
NONE = "none"
#: Expansions kept per template (the cartesian product of alternatives can be large).
_PER_TEMPLATE = 12


def _expand(node: Seq | Alt | Word | Slot) -> Iterator[str]:
    if isinstance(node, Word):
        yield node.text
    elif isinstance(node, Slot):
        yield _SAMPLE.get(node.kind, "sam")
    elif isinstance(node, Seq):
        parts = [list(itertools.islice(_expand(i), _PER_TEMPLATE)) for i in node.items]
        for combo in itertools.islice(itertools.product(*parts), _PER_TEMPLATE * 4):
            yield " ".join(p for p in combo if p)
    else:
        if node.optional:
            yield ""
        for option in node.options:
            yield from _expand(option)


def _spread(items: list[str], n: int) -> list[str]:
    """``n`` items spread over the list (the product's order favours its first choices)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


#: The phrases the semantic recogniser may launch: the robot's skills, our small skills, the
#: report. Phrases whose meaning is a free slot (arithmetic, spelling …) stay template-only.
SEMANTIC_PHRASES: tuple[Phrase, ...] = (*ROBOT_LAUNCH, *CLOUD_LAUNCH, *REPORT)


def _key(phrase: Phrase) -> str:
    entities = ",".join(f"{k}={v}" for k, v in sorted(phrase.entities.items()))
    return f"{phrase.intent}|{entities}"


def phrase_keys() -> dict[str, Phrase]:
    """``intent|entities`` → phrase (the first of each key without a free slot: slots are
    filled from the utterance with its builder)."""
    keys: dict[str, Phrase] = {}
    for phrase in SEMANTIC_PHRASES:
        if not _has_free_slot(phrase):
            keys.setdefault(_key(phrase), phrase)
    return keys


def _has_free_slot(phrase: Phrase) -> bool:
    return any(":free}" in t for t in phrase.templates)


def launch_examples() -> list[tuple[str, str]]:
    """(sentence, phrase key or :data:`NONE`) pairs: template expansions, then the
    hand-written paraphrases and remarks."""
    out: dict[str, str] = {}
    for phrase in SEMANTIC_PHRASES:
        if _has_free_slot(phrase):
            continue
        for template in phrase.templates:
            found = sorted({s for s in _expand(parse_template(template)) if s.strip()})
            for sentence in _spread(found, _PER_TEMPLATE):
                out.setdefault(" ".join(sentence.split()), _key(phrase))
    keys = phrase_keys()
    data = json.loads(PARAPHRASES.read_text(encoding="utf-8"))
    for key, sentences in data["phrases"].items():
        if key not in keys:
            raise ValueError(f"{PARAPHRASES.name}: unknown phrase key {key!r}")
        for sentence in sentences:
            out.setdefault(sentence, key)
    for sentence in data["none"]:
        out.setdefault(sentence, NONE)
    return sorted(out.items())
