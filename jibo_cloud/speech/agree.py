"""When Whisper's words and the grammar's phrase are the same request, said two ways.

Whisper writes what it hears ("Set in alarm for 7.30am", "When it is Christmas") and the
parser's templates are exact, so a near-miss falls to a catch-all intent (chat, or an answers
question with a free-text slot). The grammar hears only its phrases ("set an alarm for seven
thirty a m"), and forces open sentences onto them. Each is right where the other is weak, and
Whisper itself is the judge: a phrase the grammar accepts is the request when it means what
Whisper's words or one of its other beam hypotheses mean ("Cancel my alarm." further down the
beam), or when Whisper, made to read the phrase against the same speech, finds it nearly as
likely as its own words (:attr:`~jibo_cloud.speech.whisper.Heard.score`, within
:attr:`~jibo_cloud.speech.policy.DecodePolicy.grammar_score_margin`). An open sentence the
grammar forced ("what is the traffic like today" for "what is the capital of france") is
far less likely to Whisper than what it heard, and Whisper's words stand. Without a score
(a stand-in recogniser), closeness in sound decides as before 2026-12-06 23:00: character
similarity of the spoken forms (:attr:`~jibo_cloud.speech.policy.DecodePolicy.snap_similarity`),
unless Whisper is very sure of its words
(:attr:`~jibo_cloud.speech.policy.DecodePolicy.whisper_keep_logprob`).

Before any of that, when Whisper's best words land on a catch-all, one of its other beam
hypotheses close behind that is a request is taken (:func:`command_alternative`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from jibo_cloud.nlu.grammar import RULES
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.nlu.semantic import CHITCHAT_ENTITIES
from jibo_cloud.speech.policy import DEFAULT_POLICY
from protocol.plan import normalize_transcript

#: Intents every launch turn may end in that take any words (the parser's catch-all).
CATCH_ALL = frozenset({"chat"})

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = (
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
)  # fmt: skip


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    return " ".join(_ONES[int(d)] for d in str(n))


def spoken_form(text: str) -> str:
    """Lower-case words as they are said: digits as words ("7:30am" → "seven thirty a m")."""
    text = re.sub(r"(\d)[:.](\d)", r"\1 \2", text.lower())
    text = re.sub(r"(\d)\s*([ap])\.?\s?m\b\.?", r"\1 \2 m ", text)
    text = re.sub(r"\d+", lambda m: f" {_number_words(int(m.group()))} ", text)
    return " ".join(normalize_transcript(text).split())


def similarity(a: str, b: str) -> float:
    """How alike two transcripts sound, 0-1 (on their spoken forms)."""
    return SequenceMatcher(None, spoken_form(a), spoken_form(b)).ratio()


@functools.cache
def free_text_intents(rules: tuple[str, ...]) -> frozenset[str]:
    """Intents of ``rules`` with a free-text slot (``{query:free}``): they take almost any
    words, so Whisper's near-misses of a command land there."""
    found = set(CATCH_ALL)
    for rule in rules:
        for phrase in RULES.get(rule, ()):
            if any(":free}" in template for template in phrase.templates):
                found.add(phrase.intent)
    return frozenset(found)


def lands_open(parse: Mapping[str, Any], rules: Sequence[str]) -> bool:
    """Whether a parse is open speech rather than a request: a catch-all or free-text intent,
    or chitchat (the parser's hand-written patterns give the personality skill's intents,
    ``domain=chitchat``: "tell me a story", "no problem", "good job"). Whisper's near-misses
    of a command land there too, so such words get the grammar's second opinion like chat's,
    and never count as the request among the beam's hypotheses."""
    if parse["intent"] in free_text_intents(tuple(rules)):
        return True
    entities = parse.get("entities")
    domain = CHITCHAT_ENTITIES["domain"]
    return isinstance(entities, Mapping) and entities.get("domain") == domain


def needs_grammar(whisper_text: str, rules: Sequence[str]) -> bool:
    """Whether Whisper's words land on open speech (:func:`lands_open`), so a grammar phrase
    close to them may be the request Whisper misheard."""
    return lands_open(parse_text(whisper_text, rules), rules)


def command_alternative(
    alternatives: Sequence[str],
    logprobs: Sequence[float],
    best_logprob: float,
    rules: Sequence[str],
    margin: float | None,
) -> str | None:
    """The first of Whisper's other beam hypotheses (best first) within ``margin`` of the
    best's mean log-probability that the parser makes a request of (an intent, and not a
    catch-all or free-text one), or None. Whisper base often puts the right words second
    when its best guess is one sound off ("Restart the time." / "Restart the timer."; in a
    yes/no turn "You had?" / "Yeah."); the margin keeps a far-down guess from turning an
    open sentence, or an answer off the menu, into a command."""
    if margin is None:
        return None
    for text, logprob in zip(alternatives, logprobs, strict=False):
        if logprob >= best_logprob - margin and understood(text, rules):
            return text
    return None


def understood(text: str, rules: Sequence[str]) -> bool:
    """Whether the parser makes a request of ``text`` under ``rules``: an intent that is not
    open speech (:func:`lands_open`). Under a constrained turn's rules, words off the menu
    have no intent at all."""
    parse = parse_text(text, rules)
    return parse["intent"] is not None and not lands_open(parse, rules)


def same_meaning(grammar_text: str, whisper_text: str, rules: Sequence[str]) -> bool:
    """Whether the parser makes the same intent and entities of both transcripts."""
    a, b = parse_text(grammar_text, rules), parse_text(whisper_text, rules)
    return bool(a["intent"] == b["intent"] and a["entities"] == b["entities"])


def as_said(text: str) -> str:
    """A transcript written the way Whisper is asked to score it: its spoken form (lower
    case, digits as words, no punctuation) with a capital first letter, so the grammar's
    phrase and Whisper's own words are compared on the words, not on how they are written."""
    said = spoken_form(text)
    return said[:1].upper() + said[1:]


def grammar_wins(
    grammar_text: str,
    whisper_text: str,
    rules: Sequence[str],
    snap_similarity: float = DEFAULT_POLICY.snap_similarity,
    *,
    alternatives: Sequence[str] = (),
    very_sure: bool = False,
    score: Callable[[Sequence[str]], list[float] | None] | None = None,
    score_margin: float = DEFAULT_POLICY.grammar_score_margin,
) -> bool:
    """The grammar's accepted phrase is what was asked: the same meaning as Whisper's words or
    as one of Whisper's other beam hypotheses (``alternatives``); else, with Whisper's forced
    ``score`` at hand, a phrase Whisper finds at most ``score_margin`` less likely than its
    own words (both :func:`as_said`); without one (or when it answers None), unless Whisper
    is ``very_sure`` of its words, a phrase close to them in sound, at least
    ``snap_similarity`` (see the module docs)."""
    if same_meaning(grammar_text, whisper_text, rules):
        return True
    if any(same_meaning(grammar_text, other, rules) for other in alternatives):
        return True
    scores = score([as_said(grammar_text), as_said(whisper_text)]) if score else None
    if scores is not None:
        phrase, words = scores
        return phrase >= words - score_margin
    return not very_sure and similarity(grammar_text, whisper_text) >= snap_similarity
