"""CLOUD_PHRASES (jibo_cloud/nlu/cloud_phrases.py) parse what the report and answers skills read.

Checked through the real parser, with the phrases as a rule of their own, so this holds
whatever the parser's ``launch`` rule puts before them.
"""

from __future__ import annotations

from typing import Any

import pytest

from jibo_cloud.nlu import grammar
from jibo_cloud.nlu.cloud_phrases import CLOUD_PHRASES
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.skills.registry import MANIFEST_DIR

RULE = "test/cloud_phrases"


@pytest.fixture(autouse=True)
def cloud_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(grammar.RULES, RULE, CLOUD_PHRASES)


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("tell me my personal report", "launchPersonalReport", {}),
        ("what's the weather like tomorrow", "requestWeatherPR", {"date": "tomorrow"}),
        ("will it snow this weekend", "requestWeatherPR", {"date": "this weekend"}),
        ("do i need an umbrella", "requestWeatherPR", {"date": "today"}),
        ("give me the headlines", "requestNews", {}),
        ("what do i have going on tomorrow", "requestCalendar", {"date": "tomorrow"}),
        ("how's the traffic", "requestCommute", {}),
        ("what's seven times eight", "calculate", {"expression": "seven times eight"}),
        ("what is twelve squared", "calculate", {"expression": "twelve squared"}),
        ("how do you spell rhythm", "spellWord", {"word": "rhythm"}),
        (
            "convert 3 cups to milliliters",
            "convertUnits",
            {"quantity": "3 cups", "toUnit": "milliliters"},
        ),
        (
            "how many inches are in a foot",
            "convertUnits",
            {"quantity": "a foot", "toUnit": "inches"},
        ),
        ("how many sleeps until halloween", "daysUntil", {"event": "halloween"}),
        ("what does gregarious mean", "defineWord", {"word": "gregarious"}),
        ("who was marie curie", "generalWhoQuestions", {"query": "marie curie"}),
        ("where is mount everest", "generalWhereQuestions", {"query": "mount everest"}),
        ("tell me about volcanoes", "requestTellAboutThing", {"query": "volcanoes"}),
        ("what is a quasar", "generalWhatQuestions", {"query": "a quasar"}),
    ],
)
def test_phrases(text: str, intent: str, entities: dict[str, Any]) -> None:
    parsed = parse_text(text, [RULE])
    assert (parsed["intent"], parsed["entities"]) == (intent, entities)


@pytest.mark.parametrize(
    "text",
    [
        "my brother reads the news to his dog",
        "we talked about the weather for an hour",
        "the commute home was fine",
        "i'm in love with my new shoes",
        "rock and roll will never die",
    ],
)
def test_topic_words_inside_sentences_launch_nothing(text: str) -> None:
    assert parse_text(text, [RULE])["intent"] is None


def test_every_cloud_intent_has_a_manifest() -> None:
    import json

    declared = {
        intent["name"]
        for name in ("report_manifest.json", "answers_manifest.json")
        for intent in json.loads((MANIFEST_DIR / name).read_text())["intents"]
    }
    assert {phrase.intent for phrase in CLOUD_PHRASES} <= declared
