"""The safety net for serious things an owner says (jibo_cloud/nlu/serious.py)."""

from __future__ import annotations

import pytest

from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.nlu.serious import serious_topic

LAUNCH = ("launch", "globals/global_commands_launch")

SERIOUS = [
    ("i want to kill myself", "seriousTopicSuicidal"),
    ("i don't want to live anymore", "seriousTopicSuicidal"),
    ("i wish i was dead", "seriousTopicSuicidal"),
    ("sometimes i feel like ending it all", "seriousTopicSuicidal"),
    ("i'm thinking about suicide", "seriousTopicSuicidal"),
    ("i'm going to kill myself", "seriousTopicSuicidal"),
    ("i want to die", "seriousTopicSuicidal"),
    ("i cut myself", "seriousTopicSelfHarm"),
    ("i've been hurting myself", "seriousTopicSelfHarm"),
    ("someone raped me", "seriousTopicRape"),
    ("i was molested", "seriousTopicRape"),
    ("my dad hits me", "seriousTopicAbuse"),
    ("my stepmom keeps hitting me", "seriousTopicAbuse"),
    ("he beats me", "seriousTopicAbuse"),
    ("i'm being bullied at school", "seriousTopicBullying"),
    ("kids at school keep bullying me", "seriousTopicBullying"),
    ("i make myself throw up after i eat", "seriousTopicEatingDisorder"),
    ("i'm an alcoholic", "seriousTopicAlcoholism"),
    ("i can't stop drinking", "seriousTopicAlcoholism"),
    ("i'm addicted to pills", "seriousTopicDrugAddiction"),
    ("i think i'm depressed", "seriousTopicDepression"),
    ("i feel hopeless", "seriousTopicDepression"),
]

#: Idioms, other people, knowledge questions and commands: not about the owner's safety.
NOT_SERIOUS = [
    "this traffic is killing me",
    "i'm dying to see that movie",
    "i'm killing myself laughing",
    "what is suicide squad",
    "what is the suicide rate in japan",
    "i drink too much coffee",
    "i stopped eating meat",
    "someone hit me with a snowball",
    "my dad hits the ball far",
    "i want to die my hair blue",
    "the hero wants to die",
    "my brother hurt his leg",
    "i cut my finger",
    "he hurt my feelings",
]


@pytest.mark.parametrize(("text", "intent"), SERIOUS)
def test_a_serious_sentence_names_its_topic(text: str, intent: str) -> None:
    assert serious_topic(text) == intent


@pytest.mark.parametrize("text", NOT_SERIOUS)
def test_idioms_and_other_people_are_not_serious(text: str) -> None:
    assert serious_topic(text) is None


def test_the_parser_gives_the_topic_as_a_personality_intent_before_chat() -> None:
    """Without any model (templates only) a serious sentence is the personality skill's, with
    the chitchat domain and the words; the parse the template parser gives otherwise
    (chat) is what an unsure classifier left before."""
    got = parse_text("I don't want to live anymore.", LAUNCH)
    assert got == {
        "intent": "seriousTopicSuicidal",
        "entities": {"domain": "chitchat", "utterance": "i don't want to live anymore"},
        "rules": ["launch"],
    }
    assert parse_text("this traffic is killing me", LAUNCH)["intent"] == "chat"


def test_commands_and_constrained_turns_are_left_alone() -> None:
    """Only the template parser's catch-alls are checked: a command stays a command, and a
    yes/no turn keeps its own grammar (the robot's skill owns that turn)."""
    assert parse_text("set a timer for five minutes", LAUNCH)["intent"] != "seriousTopicSuicidal"
    assert parse_text("i want to kill myself", ("shared/yes_no",))["intent"] is None


def test_nothing_of_a_serious_turn_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """A topic tied to a robot is health information: neither it nor the words are logged
    at INFO or above."""
    caplog.set_level("INFO")
    parse_text("I want to kill myself.", LAUNCH)
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelname != "DEBUG")
    assert "Suicidal" not in logged
    assert "kill myself" not in logged
