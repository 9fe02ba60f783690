"""The answers skill: maths, spelling, unit conversion, day counts, definitions, questions.

- ``calculate(expression)``: :mod:`jibo_cloud.skills.arithmetic` (words and digits, no eval);
- ``spellWord(word)``: the letters, spoken one by one;
- ``convertUnits(quantity, toUnit)``: :mod:`jibo_cloud.skills.conversion` (pint);
- ``daysUntil(event)``: :mod:`jibo_cloud.skills.daycount`, in the robot's time zone;
- ``defineWord(word)``: the offline WordNet dictionary (:mod:`.providers.dictionary`);
- ``general*Questions(query)``, ``requestTellAboutThing(query)``: Wikipedia's summary, and
  the chat model when ``JIBO_CHAT_URL`` is set.

A maths, conversion or day-count question we cannot parse is asked as a general question
instead. Who/what questions try Wikipedia first, then the chat model; where/when/how/why
questions (which a summary rarely answers) try the chat model first. Questions about Jibo
himself ("what is your …") go to the chat model only. The whole turn has one deadline below
the hub's skill timeout; a provider that fails or is slow gives a spoken apology and a log
line naming the provider and the cause (never the question).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable
from pathlib import Path

import attrs
import httpx
import trio

from jibo_cloud.skills.arithmetic import DivisionByZero, NotArithmetic, evaluate, spoken_number
from jibo_cloud.skills.chat import ChatSkill
from jibo_cloud.skills.clock import parse_zone
from jibo_cloud.skills.conversion import Converter, NotConvertible, spoken_conversion
from jibo_cloud.skills.daycount import next_occurrence, spoken_count
from jibo_cloud.skills.providers.base import ProviderError
from jibo_cloud.skills.providers.dictionary import (
    DEFAULT_DIR,
    POS,
    Definition,
    DictionaryUnavailable,
    WordNet,
    open_wordnet,
)
from jibo_cloud.skills.providers.knowledge import WikipediaSummaries
from protocol.plan import PlanStatus, ResponsePlan, Speak, TurnContext

log = logging.getLogger(__name__)

SKILL_ID = "answer-skill"
#: Below the hub's 10 s skill timeout (PROTOCOL.md §4.4), so the apology still gets through.
ANSWER_BUDGET_SECONDS = 8.5

KNOWLEDGE_FIRST = frozenset(
    {"generalWhoQuestions", "generalWhatQuestions", "requestTellAboutThing"}
)
QUESTION_WORDS = {
    "generalWhoQuestions": "who is",
    "generalWhatQuestions": "what is",
    "generalWhereQuestions": "where is",
    "generalWhenQuestions": "when is",
    "generalHowQuestions": "how",
    "generalWhyQuestions": "why",
    "requestTellAboutThing": "tell me about",
}
_ABOUT_JIBO = re.compile(r"\b(?:you|your|yours|yourself|jibo)\b")

DONT_KNOW = "Hmm, I don't know about that yet."
LOOKUP_FAILED = "Sorry, I couldn't look that up right now. Can you ask me again in a bit?"
NO_DICTIONARY = "Sorry, my dictionary isn't here right now, so I can't look up words."
ZERO = "Dividing by zero? Even robots can't do that. It just doesn't have an answer."
TOO_SLOW = "Sorry, that took me too long to figure out. Can you ask me again?"


@attrs.define
class Dictionary:
    """The WordNet dictionary, opened (and verified) once, on first use, in a worker thread."""

    directory: Path = DEFAULT_DIR
    _wordnet: WordNet | None = None
    _error: str = ""

    def check(self) -> bool:
        """A cheap start-up check: are the files there at all? Logs an error when not."""
        wanted = (self.directory / "index.noun", self.directory / "data.noun")
        missing = [p.name for p in wanted if not p.is_file()]
        if missing:
            log.error(
                "dictionary: %s missing in %s; definitions are off (apt-get install "
                "wordnet-base, or set JIBO_WORDNET_DIR)",
                ", ".join(missing),
                self.directory,
            )
        return not missing

    async def define(self, word: str) -> Definition | None:
        """Raises DictionaryUnavailable (logged once) when the data is missing or changed."""
        if self._wordnet is None:
            if self._error:
                raise DictionaryUnavailable(self._error)
            try:
                self._wordnet = await trio.to_thread.run_sync(open_wordnet, self.directory)
            except DictionaryUnavailable as exc:
                self._error = str(exc)
                log.error("dictionary unavailable: %s", exc)
                raise
        return self._wordnet.define(word)


def spelled(word: str) -> str:
    letters = [c.upper() for c in word if c.isalpha()]
    return ", ".join(letters)


def spoken_definition(definition: Definition) -> str:
    gloss = re.sub(r"\s*\([^()]*\)", "", definition.gloss).strip()
    word = definition.word
    return f"{word[0].upper()}{word[1:]}, {POS[definition.pos]}: {gloss}."


@attrs.define
class AnswersSkill:
    """The answers skill (see module docs)."""

    knowledge: WikipediaSummaries
    now_ms: Callable[[], int]
    dictionary: Dictionary = attrs.field(factory=Dictionary)
    converter: Converter = attrs.field(factory=Converter)
    #: The chat skill, when ``JIBO_CHAT_URL`` is set (general questions fall back to it).
    chat: ChatSkill | None = None
    budget: float = ANSWER_BUDGET_SECONDS

    def _today(self, turn: TurnContext) -> datetime.date:
        utc = datetime.datetime.fromtimestamp(self.now_ms() / 1000, tz=datetime.UTC)
        return utc.astimezone(parse_zone(turn.time_zone)).date()

    async def _chat(self, turn: TurnContext, question: str) -> str | None:
        if self.chat is None or not self.chat.chat_url:
            return None
        try:
            return await self.chat.ask(question, turn.user_names) or None
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"chat: {type(exc).__name__}") from None

    async def _knowledge(self, subject: str) -> str | None:
        found = await self.knowledge.summary(subject)
        return found.extract if found else None

    async def question(self, turn: TurnContext) -> tuple[str, PlanStatus]:
        """A general question: Wikipedia and/or the chat model (see module docs)."""
        query = str(turn.entities.get("query") or "").strip()
        asked = (
            turn.normalized_transcript
            or " ".join((QUESTION_WORDS.get(turn.intent or "", ""), query)).strip()
        )
        if not query and not asked:
            return DONT_KNOW, PlanStatus.NO_MATCH
        order: list[Callable[[], object]]
        if _ABOUT_JIBO.search(query or asked):
            order = [lambda: self._chat(turn, asked)]
        elif turn.intent in KNOWLEDGE_FIRST and query:
            order = [lambda: self._knowledge(query), lambda: self._chat(turn, asked)]
        else:
            order = [lambda: self._chat(turn, asked)]
            if query:
                order.append(lambda: self._knowledge(query))
        failure: ProviderError | None = None
        for source in order:
            try:
                answer = await source()  # type: ignore[misc]
            except ProviderError as exc:
                log.warning("answers: %s", exc)
                failure = exc
                continue
            if answer:
                return str(answer), PlanStatus.SUCCEEDED
        if failure is not None:
            return LOOKUP_FAILED, PlanStatus.FAILED
        return DONT_KNOW, PlanStatus.NO_MATCH

    async def calculate(self, turn: TurnContext) -> tuple[str, PlanStatus] | None:
        expression = str(turn.entities.get("expression") or "")
        for text in (turn.raw_transcript, expression):
            if not text:
                continue
            try:
                value = evaluate(text)
            except NotArithmetic:
                continue
            except DivisionByZero:
                return ZERO, PlanStatus.SUCCEEDED
            said = f"{expression[0].upper()}{expression[1:]}" if expression else "The answer"
            return f"{said} is {spoken_number(value)}.", PlanStatus.SUCCEEDED
        return None

    async def convert(self, turn: TurnContext) -> tuple[str, PlanStatus] | None:
        quantity = str(turn.entities.get("quantity") or "")
        to_unit = str(turn.entities.get("toUnit") or "")
        try:
            amount, from_words, result = await self.converter.convert(quantity, to_unit)
        except NotConvertible:
            return None
        return spoken_conversion(amount, from_words, result, to_unit), PlanStatus.SUCCEEDED

    def days_until(self, turn: TurnContext) -> tuple[str, PlanStatus] | None:
        today = self._today(turn)
        event = " ".join(str(turn.entities.get("event") or "").lower().split())
        if event in ("my birthday", "my bday"):
            return self._birthday(turn, today)
        found = next_occurrence(event, today)
        if found is None:
            return None
        name, date = found
        return spoken_count(name, date, today), PlanStatus.SUCCEEDED

    def _birthday(self, turn: TurnContext, today: datetime.date) -> tuple[str, PlanStatus]:
        """Days until the speaker's birthday (CONTEXT's loop member, see report.Speaker)."""
        speaker = turn.attributes.get("speaker")
        born_ms = getattr(speaker, "birthdate_ms", None)
        if born_ms is None:
            return "I don't know when your birthday is yet.", PlanStatus.NO_MATCH
        born = datetime.datetime.fromtimestamp(born_ms / 1000, tz=datetime.UTC).date()
        found = next_occurrence(f"{born:%B} {born.day}", today)
        if found is None:  # unreachable for a real date; kept for the type checker
            return "I don't know when your birthday is yet.", PlanStatus.NO_MATCH
        return spoken_count("your birthday", found[1], today), PlanStatus.SUCCEEDED

    async def define(self, turn: TurnContext) -> tuple[str, PlanStatus]:
        word = str(turn.entities.get("word") or "").strip()
        if not word:
            return DONT_KNOW, PlanStatus.NO_MATCH
        try:
            definition = await self.dictionary.define(word)
        except DictionaryUnavailable:
            return NO_DICTIONARY, PlanStatus.FAILED
        if definition is None:
            return f"I don't know the word {word} yet.", PlanStatus.NO_MATCH
        return spoken_definition(definition), PlanStatus.SUCCEEDED

    async def answer(self, turn: TurnContext) -> tuple[str, PlanStatus]:
        intent = turn.intent or ""
        if intent == "spellWord":
            word = str(turn.entities.get("word") or "").strip()
            if word:
                return f"{word.capitalize()} is spelled {spelled(word)}.", PlanStatus.SUCCEEDED
        elif intent == "defineWord":
            return await self.define(turn)
        elif intent == "calculate":
            answered = await self.calculate(turn)
            if answered:
                return answered
        elif intent == "convertUnits":
            converted = await self.convert(turn)
            if converted:
                return converted
        elif intent == "daysUntil":
            counted = self.days_until(turn)
            if counted:
                return counted
        return await self.question(turn)

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        text, status = TOO_SLOW, PlanStatus.FAILED
        with trio.move_on_after(self.budget) as scope:
            text, status = await self.answer(turn)
        if scope.cancelled_caught:
            log.warning("answers: no answer within %g s (intent %s)", self.budget, turn.intent)
        return ResponsePlan(
            intent=turn.intent,
            topic="answers",
            status=status,
            actions=(
                Speak(text=text, category="sad" if status is PlanStatus.FAILED else "neutral"),
            ),
        )
