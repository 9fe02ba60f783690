"""The per-turn recogniser grammar is built from the LISTEN rules and hints."""

from __future__ import annotations

from jibo_cloud.nlu.grammar import RULES
from jibo_cloud.nlu.template import template_words
from jibo_cloud.speech.search import (
    DEFAULT_RULES,
    build_jsgf,
    completions,
    effective_rules,
    first_words,
)


def known(word: str) -> bool:
    return not word[0].isdigit()


def test_rules_and_yes_no_hint_select_phrases() -> None:
    assert effective_rules(["shared/yes_no", "nope/unknown"], []) == ("shared/yes_no",)
    assert effective_rules([], ["$YESNO"]) == ("shared/yes_no",)
    assert effective_rules(["no/such"], []) == DEFAULT_RULES
    jsgf = build_jsgf([], ["$YESNO"], known)
    assert jsgf is not None
    assert jsgf.startswith("#JSGF V1.0;\ngrammar turn;\npublic <turn> =")
    assert "yes" in jsgf
    assert "what time" not in jsgf


def test_word_hints_fill_free_slots_and_unknown_words_are_left_out() -> None:
    jsgf = build_jsgf(
        ["word-of-the-day/puzzle"], ["aglet", "hovel", "zzyzx"], lambda w: w != "zzyzx"
    )
    assert jsgf is not None
    assert "<slot_free> = ( aglet | hovel );" in jsgf
    assert "zzyzx" not in jsgf
    assert build_jsgf(["word-of-the-day/puzzle"], [], known) is not None  # yes/no remain


def test_digits_are_not_offered_to_the_recogniser() -> None:
    jsgf = build_jsgf(["settings/volume_control"], [], known)
    assert jsgf is not None
    assert "<slot_volume> = ( zero | one |" in jsgf
    assert " 7 " not in jsgf


def test_every_grammar_word_is_in_the_recogniser_dictionary() -> None:
    from jibo_cloud.speech.sphinx import grammar_decoder  # pocketsphinx: a declared dependency

    decoder = grammar_decoder()
    words = template_words(t for phrases in RULES.values() for p in phrases for t in p.templates)
    assert sorted(w for w in words if decoder.lookup_word(w) is None) == []


LAUNCH = ("launch", "globals/global_commands_launch")


def test_completions_list_how_a_stopped_path_goes_on() -> None:
    from jibo_cloud.nlu.parser import parse_text
    from jibo_cloud.speech.search import completions

    jsgf = build_jsgf(LAUNCH, [], known)
    assert jsgf is not None
    time = completions(jsgf, ["what", "time"], 64)
    assert time is not None
    assert time[0] == "what time is it"  # shortest first
    assert all(t.startswith("what time ") for t in time)
    assert {parse_text(t, LAUNCH)["intent"] for t in time} == {"askForTime"}
    # Two meanings: the recogniser must not guess between them.
    yours = completions(jsgf, ["what", "is", "your"], 64)
    assert yours is not None
    assert {parse_text(t, LAUNCH)["intent"] for t in yours} == {
        "whoAreYou", "volumeQuery", "battery", "wifiStatus",
    }  # fmt: skip
    # Fillers are part of the grammar, so a path that starts with one completes too.
    started = completions(jsgf, ["hey", "jibo", "what", "time", "is"], 64)
    assert started is not None
    assert started[:2] == ["hey jibo what time is it", "hey jibo what time is it jibo"]
    assert "hey jibo what time is it right now please" in started
    assert completions(jsgf, ["set", "the", "volume", "to"], 5) is None  # too many ways on
    assert completions(jsgf, ["no", "such", "words"], 64) == []
    assert completions(jsgf, ["what", "time", "is", "it"], 64) is not None  # "... now", "please"


def test_slot_rules_are_followed_into() -> None:
    from jibo_cloud.speech.search import completions

    jsgf = build_jsgf(["settings/volume_control"], [], known)
    assert jsgf is not None
    volumes = completions(jsgf, ["set", "the", "volume", "to"], 64)
    assert volumes is not None
    assert len(volumes) == 11 * 3  # <slot_volume>, then nothing, "please" or "jibo"
    assert "set the volume to seven please" in volumes


def test_can_you_goes_before_requests_only() -> None:
    """ "can you" / "could you" may start a request ("can you tell me the time") but not a
    question, a greeting or an answer: "can you what's the date" is nobody's sentence, and a
    search allowed to say it takes an open sentence's first words for "can you"."""
    jsgf = build_jsgf(DEFAULT_RULES, [], known)
    assert jsgf is not None
    assert completions(jsgf, ["can", "you", "tell", "me", "about"], 64)
    assert completions(jsgf, ["could", "you", "turn", "it"], 64)
    for question in (["can", "you", "what's"], ["could", "you", "hello"], ["can", "you", "who"]):
        assert completions(jsgf, question, 64) == [], question
    # without the prefix the same phrases are there
    assert "what's the date today" in (completions(jsgf, ["what's", "the", "date"], 256) or [])
    assert "hello jibo" in (completions(jsgf, ["hello"], 64) or [])


def test_first_words_of_an_expansion() -> None:
    assert first_words("( tell me | do you know ) the time") == {"tell", "do"}
    assert first_words("[ turn ] [ the ] volume up") == {"turn", "the", "volume"}
    assert first_words("[ set ] [ the | your ] volume <slot_volume>") == {
        "set",
        "the",
        "your",
        "volume",
    }
    assert first_words("<slot_day> please") == set()  # a slot holds values, not verbs
