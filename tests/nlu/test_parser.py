"""The embedded parser: the §4.4/§5 parser contract over the robot's own rule names."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from jibo_cloud.nlu.grammar import RULES
from jibo_cloud.nlu.parser import EMPTY, EmbeddedParser, parse_text
from tests.support.env import shared_fixtures

LAUNCH = ["launch", "globals/global_commands_launch"]

CLOCK = {"skill": "@be/clock", "domain": "clock"}
GREET = {"skill": "@be/greetings"}
SPOKEN = [
    ("what time is it", "askForTime", CLOCK),
    ("Hey Jibo, what's the time?", "askForTime", CLOCK),
    ("do you know what time it is", "askForTime", CLOCK),
    ("what's the date today", "askForDate", CLOCK),
    ("what day is it today", "askForDate", CLOCK),
    ("tell me a joke", "tellJoke", {}),
    ("make me laugh", "tellJoke", {}),
    ("hello", "hello", GREET),
    ("hi there", "hello", GREET),
    ("good morning jibo", "goodMorning", GREET),
    ("how are you doing today", "howAreYou", {}),
    ("who are you", "whoAreYou", {}),
    ("what's your name", "whoAreYou", {}),
    ("what can you do", "whatCanYouDo", {}),
    ("help", "whatCanYouDo", {}),
    ("thank you", "thanks", {}),
    ("goodbye", "goodBye", GREET),
    ("what's the weather like", "requestWeatherPR", {"date": "today"}),
    ("is it going to rain tomorrow", "requestWeatherPR", {"date": "tomorrow"}),
    ("stop", "stop", {}),
    ("be quiet", "stop", {}),
    ("turn it up", "volumeUp", {}),
    ("volume down", "volumeDown", {}),
    ("set the volume to seven", "volumeToValue", {"volumeLevel": 7}),
    ("volume 3", "volumeToValue", {"volumeLevel": 3}),
]


@pytest.mark.parametrize(("text", "intent", "entities"), SPOKEN, ids=[s[0] for s in SPOKEN])
def test_launch_intents(text: str, intent: str, entities: dict[str, Any]) -> None:
    result = parse_text(text, LAUNCH)
    assert (result["intent"], result["entities"]) == (intent, entities)
    rule = "globals/global_commands_launch" if intent.startswith(("stop", "volume")) else "launch"
    assert result["rules"] == [rule]


def test_a_command_inside_a_longer_sentence_is_found() -> None:
    assert parse_text("um so what time is it over there", LAUNCH)["entities"] == {
        "skill": "@be/clock",
        "domain": "clock",
    }
    assert parse_text("could you please tell me a joke about cats", LAUNCH)["intent"] == "tellJoke"


# Wordings the speech bench found landing on chat though Whisper heard them right.
WHISPER_WORDINGS = [
    ("You are not listening to me", "frustrated", {"skill": "@be/friendly-tips"}),
    ("Show me my photo.", "galleryOpen", {"skill": "@be/gallery"}),
    ("What is the day today?", "askForDate", CLOCK),
]


@pytest.mark.parametrize(
    ("text", "intent", "entities"), WHISPER_WORDINGS, ids=[s[0] for s in WHISPER_WORDINGS]
)
def test_wordings_whisper_writes_reach_their_launch(
    text: str, intent: str, entities: dict[str, Any]
) -> None:
    result = parse_text(text, LAUNCH)
    assert (result["intent"], result["entities"]) == (intent, entities)


def test_anything_else_at_launch_goes_to_chat() -> None:
    result = parse_text("I had a long day at work, Jibo.", LAUNCH)
    assert result == {
        "intent": "chat",
        "entities": {"utterance": "i had a long day at work jibo"},
        "rules": ["launch"],
    }


def test_no_match_outside_launch_is_the_empty_answer() -> None:
    assert parse_text("banana bread", ["shared/yes_no"]) == {
        "intent": None,
        "entities": None,
        "rules": [],
    }
    assert parse_text("", LAUNCH) == EMPTY
    assert parse_text("yes", ["no/such_rule"]) == EMPTY


def test_rules_are_tried_in_the_order_the_robot_listed_them() -> None:
    # "stop" exists in both radio/run_control and the global commands.
    assert parse_text("stop", ["radio/run_control", "globals/global_commands_launch"])["rules"] == [
        "radio/run_control"
    ]
    assert parse_text("stop", ["globals/global_commands_launch", "radio/run_control"])["rules"] == [
        "globals/global_commands_launch"
    ]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("yes", "yes"), ("yeah sure", "yes"), ("okay", "yes"), ("no thanks", "no"), ("nope", "no")],
)
def test_yes_no(text: str, intent: str) -> None:
    rules = [
        "shared/yes_no",
        "globals/gui_nav",
        "globals/mim_repeat",
        "globals/global_commands_launch",
    ]
    assert parse_text(text, rules) == {"intent": intent, "entities": {}, "rules": ["shared/yes_no"]}


def test_menus_answer_like_the_robot_s_own_client_nlu() -> None:
    rules = ["main-menu/execute_main_menu", "globals/global_commands_launch"]
    assert parse_text("open the clock", rules) == {
        "intent": "loadMenu",
        "entities": {"destination": "clock"},
        "rules": ["main-menu/execute_main_menu"],
    }
    assert parse_text("word of the day", rules)["entities"] == {"destination": "word-of-the-day"}
    assert parse_text("fun stuff", rules)["entities"] == {"destination": "fun"}


def test_clock_values_have_the_robot_s_entity_shapes() -> None:
    alarm = parse_text("seven thirty five p m", ["clock/alarm_set_value"])
    assert alarm["intent"] == "alarmValue"
    assert alarm["entities"] == {"domain": "alarm", "time": "7:35", "ampm": "PM"}
    assert (
        parse_text("set it for 9 oh two", ["clock/alarm_set_value"])["entities"]["time"] == "9:02"
    )
    timer = parse_text("one minute", ["clock/timer_set_value"])
    assert timer["entities"] == {"domain": "timer", "hours": None, "minutes": 1, "seconds": None}
    assert parse_text("what time", ["clock/clock_menu"])["entities"] == {"domain": "clock"}
    assert parse_text("set an alarm", ["clock/clock_menu"])["entities"] == {"domain": "alarm"}


def test_word_of_the_day_guess_is_free_text() -> None:
    rules = ["word-of-the-day/puzzle", "globals/gui_nav"]
    assert parse_text("is it aglet", rules)["entities"] == {"guess": "aglet"}
    assert parse_text("yes", rules)["intent"] == "yes"


@pytest.mark.shared
def test_every_rule_set_robots_send_has_a_grammar() -> None:
    index = json.loads(shared_fixtures("ws", "INDEX.json").read_text())
    seen: set[str] = set()
    for rule_set in [*index["listen"]["rules_sets"], *index["client_nlu"]["rules_sets"]]:
        seen.update(r.strip() for r in rule_set.split("+"))
    assert seen, "INDEX.json lists no rule sets"
    assert sorted(seen - set(RULES)) == []


@pytest.mark.shared
def test_robot_client_nlu_intents_are_produced_with_the_same_entity_keys() -> None:
    index = json.loads(shared_fixtures("ws", "INDEX.json").read_text())
    produced: dict[str, set[str]] = {}
    for phrases in RULES.values():
        for phrase in phrases:
            keys = set(phrase.entities)
            if phrase.build is not None:
                keys |= set(phrase.build({}))
            produced.setdefault(phrase.intent, set()).update(keys)
    for shape in index["client_nlu"]["intent_with_entities"]:
        intent, args = re.fullmatch(r"(\w+)\((.*)\)", shape).groups()  # type: ignore[union-attr]
        keys = {a.split("=")[0] for a in args.split(",") if a}
        assert intent in produced, f"robots send {intent} but the parser never produces it"
        assert keys <= produced[intent], f"{shape}: parser gives keys {produced[intent]}"


async def test_embedded_parser_contract() -> None:
    parser = EmbeddedParser()
    assert await parser.parse(
        {"text": "tell me a joke", "rules": LAUNCH, "loop": {"users": []}}
    ) == {
        "intent": "tellJoke",
        "entities": {},
        "rules": ["launch"],
    }
    assert await parser.parse({"text": None, "rules": LAUNCH}) == EMPTY
    assert (await parser.parse({"text": "hello", "rules": "launch"}))["intent"] is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # "what is X in Y" converts only when Y is a unit: these were conversions to "the
        # ocean" and "the world".
        ("what is the biggest animal in the ocean", "generalWhatQuestions"),
        ("what is the tallest mountain in the world", "generalWhatQuestions"),
        ("what is 100 fahrenheit in celsius", "convertUnits"),
        ("what's five pounds in kilograms", "convertUnits"),
        ("what is a mile in feet", "convertUnits"),
    ],
)
def test_what_is_x_in_y_is_a_conversion_only_into_a_unit(text: str, intent: str) -> None:
    assert parse_text(text, ["launch"])["intent"] == intent
