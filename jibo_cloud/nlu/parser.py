"""The embedded parser: text plus the robot's rule names in, ``{intent, entities, rules}`` out.

It implements the parser contract of PROTOCOL.md §4.4/§5 in-process, so a fresh server
understands owners without any remote service. Matching is tried in three passes, each over
the request's rules in the order the robot listed them:

1. the whole utterance matches a phrase (allowing fillers such as "hey jibo" or "please");
2. a phrase occurs inside the utterance (recognisers add words; owners ramble);
3. with ``launch`` among the rules, anything else said becomes the ``chat`` intent, so the
   chat skill (or the fallback, when no chat service is configured) answers.

No match under non-launch rules gives the empty answer ``{intent: None, entities: None,
rules: []}``, which the hub forwards and the robot's running skill handles as it wishes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jibo_cloud.nlu.grammar import FALLBACK_INTENT, RULES, Phrase
from jibo_cloud.nlu.template import group_values, template_regex
from protocol.plan import normalize_transcript

_PREFIX = r"(?:(?:hey jibo|okay jibo|jibo|please|um|uh|so|can you|could you|would you|will you) )*"
_SUFFIX = r"(?:(?:please|jibo|for me) )*"

EMPTY: Mapping[str, Any] = {"intent": None, "entities": None, "rules": []}


@functools.cache
def _compiled(phrase: Phrase) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    """(full-utterance pattern, inside-utterance pattern) for each template of a phrase."""
    return tuple(
        (
            template_regex(t, prefix=_PREFIX, suffix=_SUFFIX),
            template_regex(t, prefix=r"(?:^| )"),
        )
        for t in phrase.templates
    )


def _entities(phrase: Phrase, match: re.Match[str]) -> dict[str, Any]:
    entities = dict(phrase.entities)
    if phrase.build is not None:
        entities.update(phrase.build(group_values(match)))
    return entities


def _has_free_slot(phrase: Phrase) -> bool:
    return any(":free}" in t for t in phrase.templates)


def parse_text(text: str, rules: Sequence[str]) -> dict[str, Any]:
    """Parse one utterance under the robot's rules (synchronous; the core of the parser)."""
    normalized = normalize_transcript(text)
    if not normalized:
        return dict(EMPTY)
    known = [r for r in rules if r in RULES]
    padded = normalized + " "
    for rule in known:
        for phrase in RULES[rule]:
            for full, _ in _compiled(phrase):
                match = full.fullmatch(padded)
                if match:
                    return {
                        "intent": phrase.intent,
                        "entities": _entities(phrase, match),
                        "rules": [rule],
                    }
    for rule in known:
        for phrase in RULES[rule]:
            if _has_free_slot(phrase):
                continue  # a free slot inside a sentence would swallow anything
            for _, inside in _compiled(phrase):
                match = inside.search(padded)
                if match:
                    return {
                        "intent": phrase.intent,
                        "entities": _entities(phrase, match),
                        "rules": [rule],
                    }
    if "launch" in rules:
        return {
            "intent": FALLBACK_INTENT,
            "entities": {"utterance": normalized},
            "rules": ["launch"],
        }
    return dict(EMPTY)


class EmbeddedParser:
    """The default :class:`jibo_cloud.services.Parser`: grammar matching, no I/O.

    Parsing a sentence takes microseconds, so it runs on the trio thread.
    """

    async def parse(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        text = request.get("text")
        rules = request.get("rules")
        if not isinstance(text, str):
            return dict(EMPTY)
        rule_list = [r for r in rules if isinstance(r, str)] if isinstance(rules, list) else []
        return parse_text(text, rule_list)


def grammar_accepts(text: str, rules: Sequence[str]) -> bool:
    """True when the whole of ``text`` is a phrase of one of ``rules`` (free slots excluded).

    The recogniser uses it as its confidence test: a grammar search that ended outside the
    grammar (a partial path) is not trusted.
    """
    padded = normalize_transcript(text) + " "
    if padded == " ":
        return False
    for rule in rules:
        for phrase in RULES.get(rule, ()):
            if _has_free_slot(phrase):
                continue
            if any(full.fullmatch(padded) for full, _ in _compiled(phrase)):
                return True
    return False
