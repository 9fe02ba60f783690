"""The parser's first-word index (jibo_cloud/nlu/parser.py ``_rule_index``): an utterance is
tried only against the templates its words allow, and the result is exactly what trying every
template in order gives."""

from __future__ import annotations

from typing import Any

import pytest

from jibo_cloud.nlu import parser as p
from jibo_cloud.nlu.template import first_words
from protocol.plan import normalize_transcript
from tests.nlu.launch_cases import ROBOT_LAUNCHES


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("(what's | what is) the time [right now]", {"what's", "what"}),
        ("[please] tell me a joke", {"please", "tell"}),
        ("set a timer for {minutes:number} minutes", {"set"}),
        ("{minutes:number} minutes", {"zero", "one", "twenty", "fifty", "7"}),
        ("tell me about {thing:free}", {"tell"}),
        ("{thing:free} please", None),
        ("[hello]", None),
    ],
)
def test_first_words(template: str, words: set[str] | None) -> None:
    found = first_words(template)
    if words is None:
        assert found is None
    elif "7" in words:  # a number slot: its spoken forms, checked by sample
        assert found is not None
        assert {"zero", "one", "twenty", "fifty"} <= found
    else:
        assert found == words


def _every_template(padded: str, known: list[str]) -> dict[str, Any] | None:
    """The parser's full-match stage before the index: every template, in order."""
    for rule in known:
        for phrase in p.RULES[rule]:
            for full, _ in p._compiled(phrase):
                match = full.fullmatch(padded)
                if match:
                    return p._result(phrase, match, rule)
    return None


EXTRA = [
    "hey jibo can you please tell me a joke",
    "jibo jibo what time is it",
    "so um what's the weather",
    "could you set an alarm for seven a m please",
    "please",
    "hey jibo",
    "can you hear me",
    "what is seven times eight",
    "tell me about the moon",
]


@pytest.mark.parametrize("text", [case[0] for case in ROBOT_LAUNCHES] + EXTRA)
def test_the_index_finds_what_every_template_finds(text: str) -> None:
    padded = normalize_transcript(text) + " "
    for known in (["launch"], list(p.RULES)):
        expected = _every_template(padded, known)
        if expected is not None:
            assert p._match(padded, known) == expected


def test_start_words_follow_the_polite_words() -> None:
    assert p._start_words("hey jibo can you set a timer ") == {"hey", "can", "set"}
    assert p._start_words("jibo jibo so play music ") == {"jibo", "so", "play"}
    assert p._start_words("set a timer please ") == {"set"}
