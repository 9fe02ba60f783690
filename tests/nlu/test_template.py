"""The phrase-template language compiles to regexes and JSGF consistently."""

from __future__ import annotations

import pytest

from jibo_cloud.nlu.template import (
    TemplateError,
    group_values,
    number_words,
    template_jsgf,
    template_regex,
    template_words,
    words_to_number,
)


def test_regex_alternatives_optionals_and_slots() -> None:
    regex = template_regex("set [an] alarm for {hour} [{minute}] [{ampm}]")
    match = regex.fullmatch("set alarm for seven thirty five p m ")
    assert match is not None
    assert group_values(match) == {"hour": "seven", "minute": "thirty five", "ampm": "p m"}
    assert regex.fullmatch("set an alarm for ") is None


def test_jsgf_mirrors_the_template() -> None:
    body = template_jsgf("(what's | what is) the time [now]", lambda slot: None)
    assert body == "( what's | what is ) the time [ now ]"
    assert (
        template_jsgf("volume {level:volume}", lambda slot: f"<{slot.kind}>") == "volume <volume>"
    )
    assert template_jsgf("is it {guess:free}", lambda slot: None) is None


@pytest.mark.parametrize("bad", ["(a | b", "a ] b", "{nope:unknown}"])
def test_malformed_templates_say_which(bad: str) -> None:
    with pytest.raises(TemplateError, match="template"):
        template_regex(bad)


def test_numbers_round_trip() -> None:
    for n, words in enumerate(number_words(59)):
        assert words_to_number(words) == n
    assert words_to_number("oh five") == 5
    assert words_to_number("12") == 12
    assert words_to_number("banana") is None


def test_template_words() -> None:
    assert template_words(["(a | b) [c] {hour}"]) == {"a", "b", "c"}
