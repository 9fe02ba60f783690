"""The answers skill: maths, spelling, conversions, day counts, definitions and questions.

The pure parts are checked on their own; the skill is called through its §5 contract, with
Wikipedia and the chat model as local servers (tests/skills/servers.py). The dictionary is
Debian's wordnet-base: a loud skip without it, a failure under CI=true.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.config import Config
from jibo_cloud.http_clients import ServiceClients
from jibo_cloud.skills import answers, arithmetic, conversion, daycount
from jibo_cloud.skills.providers import dictionary
from tests.skills.servers import FakeServices
from tests.skills.test_builtin_skills import assert_skill_action, esml_of, handlers, request
from tests.support import env

# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("two plus two", 4),
        ("what's 2+2", 4),
        ("what is 12 times 7", 84),
        ("two hundred and five times three", 615),
        ("one hundred divided by eight", 12.5),
        ("square root of eighty one", 9),
        ("seven squared", 49),
        ("3 cubed", 27),
        ("ten percent of two hundred", 20),
        ("two to the power of ten", 1024),
        ("three point one four times two", 6.28),
        ("1,000,000 * 3", 3_000_000),
        ("two times three plus four", 10),  # precedence
        ("-3 * -3", 9),
        ("6 \u00f7 4", 1.5),
        ("a hundred plus a thousand", 1100),
    ],
)
def test_arithmetic(text: str, value: float) -> None:
    assert arithmetic.evaluate(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    ["rock and roll", "game divided by man", "2 plus", "10 ^ 100", "square root of -4", "", "?"],
)
def test_not_arithmetic(text: str) -> None:
    with pytest.raises(arithmetic.NotArithmetic):
        arithmetic.evaluate(text)


def test_arithmetic_never_evaluates_python() -> None:
    with pytest.raises(arithmetic.NotArithmetic):
        arithmetic.evaluate("__import__('os').system('true')")
    with pytest.raises(arithmetic.DivisionByZero):
        arithmetic.evaluate("one divided by zero")


@pytest.mark.parametrize(
    ("value", "said"),
    [(4.0, "4"), (12.5, "12.5"), (1234567.0, "1,234,567"), (2 / 3, "0.667"), (-5.0, "-5")],
)
def test_spoken_number(value: float, said: str) -> None:
    assert arithmetic.spoken_number(value) == said


# --------------------------------------------------------------------------- day counts

MONDAY = datetime.date(2026, 4, 27)


@pytest.mark.parametrize(
    ("event", "name", "date"),
    [
        ("christmas", "Christmas", datetime.date(2026, 12, 25)),
        ("halloween", "Halloween", datetime.date(2026, 10, 31)),
        ("thanksgiving", "Thanksgiving", datetime.date(2026, 11, 26)),
        ("easter", "Easter", datetime.date(2027, 3, 28)),  # 2026's (April 5) has passed
        ("mother's day", "Mother's Day", datetime.date(2026, 5, 10)),
        ("new year's", "New Year's Day", datetime.date(2027, 1, 1)),
        ("december twenty fifth", "December 25", datetime.date(2026, 12, 25)),
        ("the 3rd of march", "March 3", datetime.date(2027, 3, 3)),
        ("april 27", "April 27", MONDAY),
        ("friday", "Friday", datetime.date(2026, 5, 1)),
        ("monday", "Monday", datetime.date(2026, 5, 4)),
        ("the weekend", "the weekend", datetime.date(2026, 5, 2)),
        ("february twenty ninth", "February 29", datetime.date(2028, 2, 29)),
    ],
)
def test_next_occurrence(event: str, name: str, date: datetime.date) -> None:
    assert daycount.next_occurrence(event, MONDAY) == (name, date)


def test_unknown_events_and_spoken_counts() -> None:
    assert daycount.next_occurrence("my cat's party", MONDAY) is None
    assert daycount.next_occurrence("march forty", MONDAY) is None
    assert daycount.spoken_count("Christmas", datetime.date(2026, 12, 25), MONDAY) == (
        "There are 242 days until Christmas."
    )
    assert daycount.spoken_count("the weekend", MONDAY, MONDAY) == "The weekend is today!"


# --------------------------------------------------------------------------- conversion


@pytest.mark.parametrize(
    ("quantity", "unit", "said"),
    [
        ("a mile", "feet", "One mile is 5,280 feet."),
        ("five miles", "kilometers", "5 miles is 8.05 kilometers."),
        ("10 celsius", "fahrenheit", "10 celsius is 50 fahrenheit."),
        ("100 degrees fahrenheit", "celsius", "100 degrees fahrenheit is 37.78 celsius."),
        ("two and a half cups", "milliliters", "2.5 cups is 591.47 milliliters."),
        ("a cup", "ounces", "One cup is 8 ounces."),  # fluid ounces for a volume
        ("2 pounds", "ounces", "2 pounds is 32 ounces."),
        (
            "60 miles per hour",
            "kilometers per hour",
            "60 miles per hour is 96.56 kilometers per hour.",
        ),
    ],
)
async def test_conversions(quantity: str, unit: str, said: str) -> None:
    amount, words, result = await CONVERTER.convert(quantity, unit)
    assert conversion.spoken_conversion(amount, words, result, unit) == said


@pytest.mark.parametrize(
    ("quantity", "unit"), [("three feet", "kilograms"), ("the weather", "boston"), ("a", "")]
)
async def test_not_conversions(quantity: str, unit: str) -> None:
    with pytest.raises(conversion.NotConvertible):
        await CONVERTER.convert(quantity, unit)


CONVERTER = conversion.Converter()  # the pint registry is built once for the module's tests


# --------------------------------------------------------------------------- dictionary


@pytest.fixture(scope="module")
def wordnet() -> dictionary.WordNet:
    if not (dictionary.DEFAULT_DIR / "index.noun").is_file():
        env.missing("WordNet data (apt-get install wordnet-base)")
    return dictionary.open_wordnet()


@pytest.mark.parametrize(
    ("word", "base", "pos", "gloss_start"),
    [
        ("serendipity", "serendipity", "noun", "good luck in making unexpected"),
        ("ubiquitous", "ubiquitous", "adj", "being present everywhere"),
        ("geese", "goose", "noun", "web-footed long-necked"),
        ("ran", "run", "verb", "move fast by using one's feet"),
        ("dogs", "dog", "noun", "a member of the genus Canis"),
        ("New York", "new york", "noun", "the largest city in New York State"),
    ],
)
def test_wordnet_definitions(
    wordnet: dictionary.WordNet, word: str, base: str, pos: str, gloss_start: str
) -> None:
    found = wordnet.define(word)
    assert found is not None
    assert (found.word, found.pos) == (base, pos)
    assert found.gloss.startswith(gloss_start)
    assert '"' not in found.gloss  # the examples are cut off


def test_wordnet_unknown_word(wordnet: dictionary.WordNet) -> None:
    assert wordnet.define("zzxqv") is None


def test_wordnet_data_is_verified(tmp_path: Path) -> None:
    with pytest.raises(dictionary.DictionaryUnavailable, match="wordnet-base"):
        dictionary.open_wordnet(tmp_path)  # missing
    for name in dictionary.EXPECTED_SHA256:
        (tmp_path / name).write_text("  1 tampered\n")
    with pytest.raises(dictionary.DictionaryUnavailable, match="is not the tested"):
        dictionary.open_wordnet(tmp_path)


# --------------------------------------------------------------------------- the skill


async def ask(
    fake: FakeServices,
    clients: ServiceClients,
    intent: str,
    entities: dict[str, Any],
    *,
    text: str = "",
    chat: bool = False,
    **overrides: Any,
) -> dict:
    config = Config(knowledge_url=fake.url, **overrides)
    skills = handlers(config=config, http=clients, chat_url=fake.url if chat else None)
    reply = await skills["answer-skill"](request(intent, text=text, entities=entities))
    assert_skill_action(reply, "answer-skill")
    return reply


def said(reply: dict) -> str:
    return esml_of(reply).replace("&apos;", "'")


async def test_maths_spelling_conversion_and_days(
    fake: FakeServices, clients: ServiceClients
) -> None:
    maths = await ask(
        fake, clients, "calculate", {"expression": "two plus two"}, text="what's two plus two"
    )
    assert "Two plus two is 4." in said(maths)
    typed = await ask(fake, clients, "calculate", {}, text="what's 17*3")
    assert "The answer is 51." in said(typed)
    zero = await ask(fake, clients, "calculate", {"expression": "one divided by zero"})
    assert said(zero).endswith(answers.ZERO + "</es></speak>")
    spell = await ask(fake, clients, "spellWord", {"word": "necessary"})
    assert "Necessary is spelled N, E, C, E, S, S, A, R, Y." in said(spell)
    convert = await ask(fake, clients, "convertUnits", {"quantity": "a mile", "toUnit": "feet"})
    assert "One mile is 5,280 feet." in said(convert)
    days = await ask(fake, clients, "daysUntil", {"event": "christmas"})
    assert "There are 242 days until Christmas." in said(days)  # NOW_MS is 2026-04-27
    assert fake.http.requests == []  # none of these asks anyone


async def test_definitions_through_the_skill(
    fake: FakeServices, clients: ServiceClients, tmp_path: Path
) -> None:
    if not (dictionary.DEFAULT_DIR / "index.noun").is_file():
        env.missing("WordNet data (apt-get install wordnet-base)")
    reply = await ask(fake, clients, "defineWord", {"word": "serendipity"})
    assert "Serendipity, a noun: good luck in making unexpected and fortunate discoveries." in said(
        reply
    )
    unknown = await ask(fake, clients, "defineWord", {"word": "zzxqv"})
    assert "I don't know the word zzxqv yet." in said(unknown)
    gone = await ask(fake, clients, "defineWord", {"word": "dog"}, wordnet_dir=tmp_path)
    assert answers.NO_DICTIONARY in said(gone)
    assert "cat='sad'" in esml_of(gone)


async def test_who_and_what_questions_read_wikipedia(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(
        fake, clients, "generalWhatQuestions", {"query": "a platypus"}, text="what is a platypus"
    )
    assert said(reply) == (
        "<speak><es cat='neutral'>The platypus is an egg-laying mammal from eastern "
        "Australia. It has a bill like a duck and a tail like a beaver. Males have a venomous "
        "spur on each hind leg. It hunts underwater with its eyes closed.</es></speak>"
    )
    tower = await ask(fake, clients, "generalHowQuestions", {"query": "the eiffel tower"})
    assert "It is about 330 metres tall." in said(tower)
    tried = [r.path.rsplit("/", 1)[1] for r in fake.seen("wiki")]
    assert tried == ["Platypus", "Eiffel_tower", "Eiffel_Tower"]  # first letter, then title case


async def test_a_subject_that_is_not_a_title_is_searched(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(fake, clients, "generalWhoQuestions", {"query": "the president of france"})
    assert "The president of France is the head of state of the French Republic." in said(reply)
    tried = [r.path.rsplit("/", 1)[1] for r in fake.seen("wiki")]
    assert tried == ["President_of_france", "President_Of_France", "President_of_France"]
    (search,) = fake.seen("search")
    assert fake.query(search) == {"q": "president of france", "limit": "1"}


async def test_a_malformed_search_answer_is_a_spoken_apology(
    fake: FakeServices, clients: ServiceClients
) -> None:
    fake.modes["search"] = "garbage"
    reply = await ask(fake, clients, "generalWhoQuestions", {"query": "nobody in particular"})
    assert answers.LOOKUP_FAILED in said(reply)


async def test_unknown_and_ambiguous_subjects_without_a_chat_model(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(fake, clients, "generalWhoQuestions", {"query": "nobody in particular"})
    assert answers.DONT_KNOW in said(reply)
    ambiguous = await ask(fake, clients, "generalWhatQuestions", {"query": "mercury"})
    assert answers.DONT_KNOW in said(ambiguous)


async def test_the_chat_model_answers_what_wikipedia_does_not(
    fake: FakeServices, clients: ServiceClients
) -> None:
    ambiguous = await ask(
        fake,
        clients,
        "generalWhatQuestions",
        {"query": "mercury"},
        text="what is mercury",
        chat=True,
    )
    assert "The model heard: what is mercury" in said(ambiguous)
    why = await ask(
        fake,
        clients,
        "generalWhyQuestions",
        {"query": "the sky blue"},
        text="why is the sky blue",
        chat=True,
    )
    assert "The model heard: why is the sky blue" in said(why)
    assert [r.path.rsplit("/", 1)[1] for r in fake.seen("wiki")] == ["Mercury"]  # chat first
    about_me = await ask(
        fake,
        clients,
        "generalWhatQuestions",
        {"query": "your favorite color"},
        text="what is your favorite color",
        chat=True,
    )
    assert "The model heard: what is your favorite color" in said(about_me)
    assert len(fake.seen("wiki")) == 1  # questions about Jibo never go to Wikipedia


async def test_maths_that_is_not_maths_becomes_a_question(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(
        fake,
        clients,
        "calculate",
        {"expression": "platypus plus duck"},
        text="what is platypus plus duck",
        chat=True,
    )
    assert "The model heard: what is platypus plus duck" in said(reply)


@pytest.mark.parametrize("mode", ["fail", "garbage"])
async def test_knowledge_failure_is_a_spoken_apology(
    fake: FakeServices, clients: ServiceClients, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.modes["wiki"] = mode
    with caplog.at_level(logging.WARNING):
        reply = await ask(
            fake,
            clients,
            "generalWhoQuestions",
            {"query": "ada lovelace"},
            text="who is ada lovelace",
        )
    assert answers.LOOKUP_FAILED in said(reply)
    assert "cat='sad'" in esml_of(reply)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "knowledge: " in messages
    assert "lovelace" not in messages.lower()  # never what was asked


async def test_knowledge_then_chat_both_hanging_stay_inside_the_budget(
    fake: FakeServices, clients: ServiceClients, autojump_clock: trio.testing.MockClock
) -> None:
    fake.modes["wiki"] = "slow"
    fake.modes["chat"] = "slow"
    start = trio.current_time()
    reply = await ask(fake, clients, "generalWhoQuestions", {"query": "ada lovelace"}, chat=True)
    elapsed = trio.current_time() - start
    assert elapsed == pytest.approx(answers.ANSWER_BUDGET_SECONDS)  # 3 s Wikipedia, then chat
    assert elapsed < 10.0  # the hub's skill timeout (PROTOCOL.md §4.4)
    assert answers.TOO_SLOW in said(reply)


async def test_knowledge_cache_keeps_answers_and_misses_for_a_day(
    fake: FakeServices, clients: ServiceClients, mock_clock: trio.testing.MockClock
) -> None:
    skills = handlers(config=Config(knowledge_url=fake.url), http=clients)
    skill = skills["answer-skill"]
    for query in ("a platypus", "nobody in particular", "a platypus", "nobody in particular"):
        await skill(request("generalWhoQuestions", entities={"query": query}))
    assert len(fake.seen("wiki")) == 3  # the platypus once; the miss tried two titles once
    mock_clock.jump(24 * 3600 + 1)
    await skill(request("generalWhoQuestions", entities={"query": "a platypus"}))
    assert len(fake.seen("wiki")) == 4


async def test_days_until_the_speaker_s_birthday(clients: ServiceClients) -> None:
    skill = handlers(http=clients)["answer-skill"]
    alex = {"firstName": "Alex", "id": "u1", "birthdate": 946684800000}  # 2000-01-01
    runtime = {"perception": {"speaker": "u1"}, "loop": {"users": [alex, {"id": "u2"}]}}
    reply = await skill(request("daysUntil", entities={"event": "my birthday"}, runtime=runtime))
    days = (datetime.date(2027, 1, 1) - datetime.date(2026, 4, 27)).days
    assert f"There are {days} days until your birthday." in said(reply)
    runtime["perception"] = {"speaker": "u2"}
    reply = await skill(request("daysUntil", entities={"event": "my birthday"}, runtime=runtime))
    assert "I don't know when your birthday is yet." in said(reply)
