"""Praise said on its own (jibo_cloud/nlu/praise.py)."""

from __future__ import annotations

import pytest

from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.nlu.praise import praise_intent

LAUNCH = ("launch", "globals/global_commands_launch")


@pytest.mark.parametrize(
    "text",
    ["nice job", "great job", "well done", "you did great", "awesome job", "good boy",
     "good job jibo", "good robot", "wow jibo you rock", "what a good robot", "nicely done"],
)  # fmt: skip
def test_praise_of_jibo_is_a_compliment(text: str) -> None:
    assert praise_intent(text) == "userSaysCompliment"


@pytest.mark.parametrize("text", ["that was funny", "that's awesome", "that was so cute"])
def test_that_was_x_is_the_original_s_descriptor_of_that(text: str) -> None:
    assert praise_intent(text) == "unknownIsDescriptor"


@pytest.mark.parametrize(
    "text",
    ["good morning", "good night", "good afternoon jibo", "nice weather today", "cool",
     "that was a bad idea", "you did what", "good job on the dishes honey",
     "is it a good job"],
)  # fmt: skip
def test_greetings_and_longer_sentences_are_not_praise(text: str) -> None:
    assert praise_intent(text) is None


def test_the_parser_gives_praise_to_the_personality_skill_not_to_chat() -> None:
    got = parse_text("Nice job, Jibo!", LAUNCH)
    assert got == {
        "intent": "userSaysCompliment",
        "entities": {"domain": "chitchat", "utterance": "nice job jibo"},
        "rules": ["launch"],
    }
    assert parse_text("good morning", LAUNCH)["intent"] == "goodMorning"  # a template first
    assert parse_text("nice job", ("shared/yes_no",))["intent"] is None  # a constrained turn
