"""Phrases for the cloud skills that answer: the report skill and the answers skill.

The parser's ``launch`` rule includes :data:`CLOUD_PHRASES` (``jibo_cloud/nlu/grammar.py`` owns
where). Order matters, because the parser takes the first phrase whose template matches the
whole utterance:

- put this tuple **after** every other launch phrase (clock, greetings, who-am-i, personality
  …): its last entries are catch-alls (``what is {query}``, ``who is {query}``) that would
  otherwise swallow "what's your name" or "what time is it";
- keep its own order: report phrases, then arithmetic, spelling, unit conversion, days-until
  and definitions, then the general questions.

Intent names: the report skill's are the original's (``pegasus-skills/report_skill_manifest.json``:
``launchPersonalReport``, ``requestWeatherPR``, ``requestNews``, ``requestCalendar``,
``requestCommute``); general questions use the original answer-skill's
(``generalWhoQuestions``, ``generalWhatQuestions``, ``generalWhereQuestions``,
``generalWhenQuestions``, ``generalHowQuestions``, ``requestTellAboutThing``) with the entity
``query``. The original had no intents for maths, spelling, conversion, day counts or
definitions (its question service took them all); ours are ``calculate(expression)``,
``spellWord(word)``, ``convertUnits(quantity, toUnit)``, ``daysUntil(event)`` and
``defineWord(word)``. ``docs/skills.md`` ("Report and answers") lists them.

Free slots only match the whole utterance (the parser skips them inside sentences). Phrases
without one may also match inside a longer sentence (the parser's second pass), so none is a
bare topic word: "the weather app on my phone is always wrong" must not launch the weather.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from jibo_cloud.nlu.grammar import Entities, Phrase

#: Spoken arithmetic operators → the word the answers skill parses (its own tokenizer).
OPERATORS = {
    "plus": "(plus | add)",
    "minus": "(minus | take away)",
    "times": "(times | multiplied by)",
    "divided by": "divided by",
    "to the power of": "to the power of",
}


def _date(groups: Mapping[str, str]) -> Entities:
    return {"date": groups.get("day") or "today"}


def _slot(name: str, entity: str | None = None) -> Callable[[Mapping[str, str]], Entities]:
    def build(groups: Mapping[str, str]) -> Entities:
        return {entity or name: groups.get(name, "")}

    return build


def _binary(operator: str) -> Callable[[Mapping[str, str]], Entities]:
    def build(groups: Mapping[str, str]) -> Entities:
        return {"expression": f"{groups.get('a', '')} {operator} {groups.get('b', '')}"}

    return build


def _power(power: str) -> Callable[[Mapping[str, str]], Entities]:
    def build(groups: Mapping[str, str]) -> Entities:
        return {"expression": f"{groups.get('x', '')} {power}"}

    return build


def _conversion(groups: Mapping[str, str]) -> Entities:
    return {"quantity": groups.get("quantity", ""), "toUnit": groups.get("to_unit", "")}


_ASK = "(what's | what is | whats | how much is | how much are | calculate | compute)"

REPORT = (
    Phrase(
        "launchPersonalReport",
        (
            "[(tell | give | read) me] my [personal] report",
            "(what's | what is) my [personal] report",
            "[(what's | what is)] [my | the] personal report",
            "(play | start | read) [my | the] personal report",
            "[(tell | give | read) me] my (daily | morning) (report | briefing)",
            "what's (my day | the day) (look | looking) like [today]",
            "what does my day look like [today]",
        ),
    ),
    Phrase(
        "requestWeatherPR",
        (
            "(what's | what is | how's | how is) the weather [going to be | gonna be] [like] "
            "[outside | out] [{day}]",
            "(tell | give) me the weather [report | forecast] [{day}]",
            "[what's | what is] the weather (forecast | report) [for] [{day}]",
            "[what's the] weather (forecast | report) [for] [{day}]",
            "weather {day}",
            "(is it | is it going to | will it | is it gonna) (rain | snow) [{day}]",
            "(do i | will i) need (an umbrella | a coat | a jacket) [{day}]",
            "(how | how's) (hot | cold | warm) (is it | it is | will it be) [outside] [{day}]",
            "(what's | what is) the temperature [outside | out] [{day}]",
            "what's it like (outside | out)",
        ),
        build=_date,
    ),
    Phrase(
        "requestNews",
        (
            "(what's | what is) [in] the news [today]",
            "(what's | what is) (new | happening) in the (world | news) [today]",
            "(tell | give | read) me the [latest | top] (news | headlines)",
            "(what are | what're) the [latest | top] (headlines | news stories | stories)",
            "(latest | top | today's) (news | headlines)",
            "(news headlines | news please | the headlines)",
            "(any | is there any) news [today]",
            "play the news",
        ),
    ),
    Phrase(
        "requestCalendar",
        (
            "(what's | what is) (on | in) my (calendar | schedule | agenda) [for] [{day}]",
            "(what's | what is) my (calendar | schedule | agenda) [for] [{day}]",
            "(read | tell | check | give) [me] my (calendar | schedule | agenda) [for] [{day}]",
            "(what | what else) do i have [going on] [{day}]",
            "do i have (any | anything) [meetings | appointments | events | plans] [{day}]",
            "(when | what) is my next (meeting | appointment | event)",
        ),
        build=_date,
    ),
    Phrase(
        "requestCommute",
        (
            "(how's | how is | what's | what is) my commute [like] [{day}]",
            "(how's | how is | what's | what is) [the] traffic [like] [{day}]",
            "how long (is | will) my commute [be | take] [{day}]",
            "check [my] commute",
        ),
    ),
)

ARITHMETIC = (
    *(
        Phrase(
            "calculate",
            (
                f"{_ASK} {{a:free}} {words} {{b:free}}",
                f"(what does | what do) {{a:free}} {words} {{b:free}} (equal | make | come to)",
                f"{{a:free}} {words} {{b:free}} (equals | is)",
            ),
            build=_binary(operator),
        )
        for operator, words in OPERATORS.items()
    ),
    Phrase(
        "calculate",
        (f"{_ASK} the square root of {{x:free}}", "square root of {x:free}"),
        build=lambda g: {"expression": f"square root of {g.get('x', '')}"},
    ),
    *(
        Phrase(
            "calculate",
            (f"{_ASK} {{x:free}} {power}",),
            build=_power(power),
        )
        for power in ("squared", "cubed")
    ),
    Phrase(
        "calculate",
        (f"{_ASK} {{a:free}} percent of {{b:free}}",),
        build=lambda g: {"expression": f"{g.get('a', '')} percent of {g.get('b', '')}"},
    ),
)

SPELLING = Phrase(
    "spellWord",
    (
        "how (do you | do i | does one | to) spell [the word] {word:free}",
        "(spell | can you spell | could you spell) [the word] {word:free}",
        "(what's | what is) the spelling of [the word] {word:free}",
        "how is {word:free} spelled",
    ),
    build=_slot("word"),
)

CONVERSION = Phrase(
    "convertUnits",
    (
        "how many {to_unit:free} (are | is) (in | there in) {quantity:free}",
        "how many {to_unit:free} in {quantity:free}",
        "how much is {quantity:free} in {to_unit:free}",
        "convert {quantity:free} (to | into | in) {to_unit:free}",
        "(what's | what is) {quantity:free} in {to_unit:unit}",
    ),
    build=_conversion,
)

DAYS_UNTIL = Phrase(
    "daysUntil",
    (
        "how many (days | sleeps | weeks) [are | is] [left] (until | till | til | to | before) "
        "{event:free}",
        "how (long | soon) (is it | is) (until | till | til | to | before) {event:free}",
        "how long until {event:free}",
        "(when's | when is) {event:free} this year",
    ),
    build=_slot("event"),
)

DEFINITION = Phrase(
    "defineWord",
    (
        "what does [the word] {word:free} mean",
        "(define | definition of) [the word] {word:free}",
        "(what's | what is) the (definition | meaning) of [the word] {word:free}",
        "what is the word {word:free}",
        "what's a {word:free} mean",
    ),
    build=_slot("word"),
)

_QUERY = _slot("query")

GENERAL_QUESTIONS = (
    Phrase("requestTellAboutThing", ("tell me about {query:free}",), build=_QUERY),
    Phrase(
        "generalWhoQuestions",
        ("(who | who's) [is | was | were | are] {query:free}",),
        build=_QUERY,
    ),
    Phrase(
        "generalWhereQuestions",
        ("(where | where's) [is | was | are] {query:free}",),
        build=_QUERY,
    ),
    Phrase(
        "generalWhenQuestions",
        ("(when | when's) (is | was | did | were | does) {query:free}",),
        build=_QUERY,
    ),
    Phrase(
        "generalHowQuestions",
        (
            "how (tall | big | old | far | long | high | deep | heavy) (is | was | are) "
            "{query:free}",
        ),
        build=_QUERY,
    ),
    Phrase(
        "generalWhatQuestions",
        ("(what | what's | whats) (is | are | was | were) {query:free}", "what's {query:free}"),
        build=_QUERY,
    ),
)

#: Every phrase of the report and answers skills, in priority order (see module docs).
CLOUD_PHRASES: tuple[Phrase, ...] = (
    *REPORT,
    *ARITHMETIC,
    SPELLING,
    CONVERSION,
    DAYS_UNTIL,
    DEFINITION,
    *GENERAL_QUESTIONS,
)
