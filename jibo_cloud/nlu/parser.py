"""The embedded parser: text plus the robot's rule names in, ``{intent, entities, rules}`` out.

It implements the parser contract of PROTOCOL.md §4.4/§5 in-process, so a fresh server
understands owners without any remote service. Matching is tried in three passes, each over
the request's rules in the order the robot listed them:

1. the whole utterance matches a phrase (allowing fillers such as "hey jibo" or "please");
2. a phrase occurs inside the utterance (recognisers add words; owners ramble): under
   ``launch`` and the global commands only at its start ("um so what time is it in
   paris"), elsewhere anywhere ("i
   think yes"); phrases with free slots or ``inside=False`` (greetings, one-word commands)
   never match inside;
3. with ``launch`` among the rules, anything else said becomes the ``chat`` intent, so the
   chat skill (or the fallback, when no chat service is configured) answers.

:class:`EmbeddedParser` then gives ``chat`` and the catch-all general questions to the
semantic recogniser (:mod:`jibo_cloud.nlu.semantic`), in a worker thread: a confident match
launches a command or a personality answer, anything else keeps the templates' answer.

No match under non-launch rules gives the empty answer ``{intent: None, entities: None,
rules: []}``, which the hub forwards and the robot's running skill handles as it wishes.

Where the robot's skill and a built-in cloud skill claim the same words (the families of
:data:`jibo_cloud.nlu.grammar.CLOUD_FORMS`), the parse names the robot's skill unless the
family is in ``prefer_cloud`` (``JIBO_PREFER_CLOUD_SKILLS``, or per call the robot's household
choice from the portal's Settings, which the hub passes: :func:`jibo_cloud.hub.calls.parse`).

Bad input never raises: text that normalizes to nothing, text longer than
:data:`MAX_TEXT_CHARS`, words outside the grammar's alphabet and unknown rule names each give
the empty answer (or ``chat`` under ``launch``) and one log line naming what happened,
never the transcript.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import trio

from jibo_cloud.nlu import semantic as semantic_nlu
from jibo_cloud.nlu.everyday import everyday_intent
from jibo_cloud.nlu.grammar import CLOUD_FORMS, FALLBACK_INTENT, FAMILY_SKILLS, RULES, Phrase
from jibo_cloud.nlu.praise import praise_intent
from jibo_cloud.nlu.serious import serious_topic
from jibo_cloud.nlu.template import first_words, group_values, template_regex
from protocol.plan import normalize_transcript

#: Words an owner may say before a command ("hey jibo, can you …"), skipped by every template.
PREFIX_WORDS: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in ("hey jibo", "okay jibo", "jibo", "please", "um", "uh", "so", "can you",
              "could you", "would you", "will you")
)  # fmt: skip
_PREFIX = "(?:(?:" + "|".join(" ".join(p) for p in PREFIX_WORDS) + ") )*"
_SUFFIX = r"(?:(?:please|jibo|for me) )*"

EMPTY: Mapping[str, Any] = {"intent": None, "entities": None, "rules": []}
#: Longer text is not matched against the grammar (free slots make that quadratic); under
#: ``launch`` it goes to chat cut to this length. Nobody says 1,000 characters in one turn.
MAX_TEXT_CHARS = 1000
_ASCII_WORDS = re.compile(r"[a-z0-9' ]*")

#: Rules whose phrases match inside an utterance only at its start: a command begins what
#: the owner says; "i can't stop sneezing" does not ask Jibo to stop.
START_ANCHORED = frozenset({"launch", "globals/global_commands_launch"})

log = logging.getLogger(__name__)


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


def _result(phrase: Phrase, match: re.Match[str], rule: str) -> dict[str, Any]:
    return {"intent": phrase.intent, "entities": _entities(phrase, match), "rules": [rule]}


@functools.cache
def _rule_index(
    rule: str,
) -> tuple[tuple[tuple[Phrase, re.Pattern[str]], ...], dict[str, tuple[int, ...]], tuple[int, ...]]:
    """``rule``'s templates in order as (phrase, full pattern), the positions of those that
    can begin with each word, and the positions of those that can begin with any word.

    An utterance is tried only against the templates its words allow (after any of the
    polite or wake words :data:`_PREFIX` skips), still in the rule's order, so the first
    full match is the one the loop over every template finds; a hub turn's parse tried
    157 templates before this index (docs/hub.md).
    """
    order: list[tuple[Phrase, re.Pattern[str]]] = []
    by_word: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for phrase in RULES[rule]:
        for template, (full, _) in zip(phrase.templates, _compiled(phrase), strict=True):
            words = first_words(template)
            if words is None:
                anywhere.append(len(order))
            else:
                for word in words:
                    by_word.setdefault(word, []).append(len(order))
            order.append((phrase, full))
    return tuple(order), {w: tuple(i) for w, i in by_word.items()}, tuple(anywhere)


def _start_words(padded: str) -> set[str]:
    """The words an utterance's command can begin with: its first, and each one right after
    a run of :data:`PREFIX_WORDS` ("hey jibo can you set a timer": hey, can, set)."""
    words = padded.split()
    starts, reachable, pos = set(), {0}, 0
    while pos < len(words):
        if pos in reachable:
            starts.add(words[pos])
            for segment in PREFIX_WORDS:
                size = len(segment)
                if tuple(words[pos : pos + size]) == segment:
                    reachable.add(pos + size)
        pos += 1
    return starts


def _match(padded: str, known: Sequence[str]) -> dict[str, Any] | None:
    starts = _start_words(padded)
    for rule in known:
        order, by_word, anywhere = _rule_index(rule)
        picks = set(anywhere)
        for word in starts:
            picks.update(by_word.get(word, ()))
        for i in sorted(picks):
            phrase, full = order[i]
            match = full.fullmatch(padded)
            if match:
                return _result(phrase, match, rule)
    for rule in known:
        for phrase in RULES[rule]:
            if _has_free_slot(phrase) or not phrase.inside:
                continue  # a free slot inside a sentence would swallow anything
            for _, inside in _compiled(phrase):
                # Launch: the command starts the utterance ("what time is it over there");
                # "my alarm didn't go off" is no command to turn an alarm off.
                anchored = rule in START_ANCHORED
                match = _starts(phrase, padded) if anchored else inside.search(padded)
                if match:
                    return _result(phrase, match, rule)
    return None


def _starts(phrase: Phrase, padded: str) -> re.Match[str] | None:
    for pattern in _start_patterns(phrase):
        match = pattern.match(padded)
        if match:
            return match
    return None


@functools.cache
def _start_patterns(phrase: Phrase) -> tuple[re.Pattern[str], ...]:
    return tuple(template_regex(t, prefix=_PREFIX) for t in phrase.templates)


def _prefer_cloud(result: dict[str, Any], families: frozenset[str]) -> dict[str, Any]:
    """The cloud skill's form of a robot-skill parse, when its family prefers ours."""
    entities = result["entities"] or {}
    for family in families:
        form = CLOUD_FORMS.get(family, {}).get(result["intent"])
        if form is not None and entities.get("skill") == FAMILY_SKILLS[family]:
            intent, cloud_entities = form
            return {**result, "intent": intent, "entities": dict(cloud_entities)}
    return result


def parse_text(
    text: str, rules: Sequence[str], *, prefer_cloud: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Parse one utterance under the robot's rules (synchronous; the core of the parser).

    Args:
        prefer_cloud: families of :data:`~jibo_cloud.nlu.grammar.CLOUD_FORMS` answered by
            this server's skills instead of the robot's.
    """
    normalized = normalize_transcript(text)
    known = [r for r in rules if r in RULES]
    if len(known) < len(rules):
        unknown = [r for r in rules if r not in RULES]
        log.info(
            "nlu: %d unknown rule name(s) ignored: %s", len(unknown), [r[:60] for r in unknown[:5]]
        )
    if not normalized:
        log.info("nlu: nothing to parse (%d characters, none a letter or digit)", len(text))
        return dict(EMPTY)
    if len(normalized) > MAX_TEXT_CHARS:
        log.info(
            "nlu: %d characters is over the %d-character limit; not matched against the grammar",
            len(normalized),
            MAX_TEXT_CHARS,
        )
        cut = normalized[:MAX_TEXT_CHARS].rsplit(" ", 1)[0]
        return _fallback(cut, rules)
    if not _ASCII_WORDS.fullmatch(normalized):
        log.info("nlu: the text has letters outside the grammar's alphabet (non-English?)")
    result = _match(normalized + " ", known)
    if "launch" in rules:
        # Before chat and the classifier: a serious topic (nlu/serious.py), then praise said
        # on its own (nlu/praise.py), then everyday chitchat (nlu/everyday.py). Not logged
        # above DEBUG, nor which: a serious topic tied to a robot is health data.
        chitchat = _handwritten(normalized, result)
        if chitchat is not None:
            log.debug("nlu: a hand-written chitchat pattern decided")
            return semantic_nlu.chitchat_parse(chitchat, normalized)
    if result is not None:
        return _prefer_cloud(result, prefer_cloud) if prefer_cloud else result
    return _fallback(normalized, rules)


def _handwritten(normalized: str, result: Mapping[str, Any] | None) -> str | None:
    """The chitchat intent the hand-written patterns give where the templates found no
    command: nothing, chat or a catch-all question; or a dictionary question that is
    everyday chitchat ("what is the meaning of life")."""
    if result is None or result["intent"] in semantic_nlu.CATCH_ALL:
        return serious_topic(normalized) or praise_intent(normalized) or everyday_intent(normalized)
    if result["intent"] == "defineWord":
        return everyday_intent(normalized)
    return None


def _fallback(normalized: str, rules: Sequence[str]) -> dict[str, Any]:
    if "launch" in rules:
        return {
            "intent": FALLBACK_INTENT,
            "entities": {"utterance": normalized},
            "rules": ["launch"],
        }
    return dict(EMPTY)


def _semantic_text(text: str, result: Mapping[str, Any]) -> str | None:
    """The normalized text to give the semantic recogniser, or None when it should not run:
    a command was understood, the text is over the limit, or not English letters."""
    if result.get("intent") not in semantic_nlu.CATCH_ALL or "launch" not in result["rules"]:
        return None
    normalized = normalize_transcript(text)
    if len(normalized) > MAX_TEXT_CHARS or not _ASCII_WORDS.fullmatch(normalized):
        return None
    return normalized


class EmbeddedParser:
    """The default :class:`jibo_cloud.services.Parser`: the grammar, then meaning.

    Template matching takes microseconds and runs on the trio thread; the semantic
    recogniser (milliseconds of numpy, and its one-off load) runs in a worker thread, at most
    two utterances at once.

    Args:
        prefer_cloud: ``config.prefer_cloud_skills``: families whose shared words this
            server's skills answer instead of the robot's (see :func:`parse_text`).
        semantic: the recogniser (the process-wide one by default); None: templates only.
    """

    def __init__(
        self,
        prefer_cloud: Iterable[str] = (),
        semantic: semantic_nlu.SemanticRecogniser | None = semantic_nlu.DEFAULT,
    ) -> None:
        self.prefer_cloud = frozenset(prefer_cloud)
        self.semantic = semantic
        self._limiter: trio.CapacityLimiter | None = None

    def parse_now(
        self, request: Mapping[str, Any], *, prefer_cloud: Iterable[str] | None = None
    ) -> Mapping[str, Any] | None:
        """:meth:`parse` when the templates decide it (no semantic pass, which runs in a
        thread); None: await :meth:`parse`. The hub calls this inline (docs/hub.md)."""
        _families, result, normalized = self._templates(request, prefer_cloud)
        return result if normalized is None or self.semantic is None else None

    def _templates(
        self, request: Mapping[str, Any], prefer_cloud: Iterable[str] | None
    ) -> tuple[frozenset[str], Mapping[str, Any], str | None]:
        """(the turn's families, the template parse, the text for the semantic pass or None
        when that pass has nothing to add)."""
        families = self.prefer_cloud if prefer_cloud is None else frozenset(prefer_cloud)
        text = request.get("text")
        rules = request.get("rules")
        if not isinstance(text, str):
            return families, dict(EMPTY), None
        rule_list = [r for r in rules if isinstance(r, str)] if isinstance(rules, list) else []
        result = parse_text(text, rule_list, prefer_cloud=families)
        normalized = _semantic_text(text, result) if self.semantic is not None else None
        return families, result, normalized

    async def parse(
        self, request: Mapping[str, Any], *, prefer_cloud: Iterable[str] | None = None
    ) -> Mapping[str, Any]:
        """Parse one request (§4.4, §5).

        Args:
            request: ``{text, rules, …}``.
            prefer_cloud: this turn's families, instead of the server's :attr:`prefer_cloud`
                (the hub passes the robot's household choice, set on the portal's Settings
                page); None: the server's.
        """
        families, result, normalized = self._templates(request, prefer_cloud)
        if normalized is None or self.semantic is None:
            return result
        if self._limiter is None:
            self._limiter = trio.CapacityLimiter(2)
        better = await trio.to_thread.run_sync(
            self.semantic.refine, result, normalized, limiter=self._limiter
        )
        if better is None:
            return result
        shown = (
            "a serious topic" if better["intent"].startswith("seriousTopic") else better["intent"]
        )
        log.info("nlu: semantic match %s (template said %s)", shown, result["intent"])
        return _prefer_cloud(better, families) if families else better


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
