"""Whisper's words against the grammar's phrase, and Whisper's text made parseable."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.speech.agree import (
    as_said,
    command_alternative,
    grammar_wins,
    needs_grammar,
    similarity,
    spoken_form,
    understood,
)
from jibo_cloud.speech.whisper import clean_text, drop_repeats

LAUNCH = ("launch", "globals/global_commands_launch")


def test_spoken_forms_write_numbers_as_words() -> None:
    assert spoken_form("Set an alarm for 7:30am.") == "set an alarm for seven thirty a m"
    assert similarity("When it is Christmas", "when is christmas") > 0.8


def test_a_near_miss_snaps_to_the_grammar_phrase_unless_whisper_is_very_sure() -> None:
    grammar, heard = "set an alarm for seven thirty a m", "Set in alarm for 7.30am."
    assert grammar_wins(grammar, heard, LAUNCH, 0.6)
    assert not grammar_wins(grammar, heard, LAUNCH, 0.6, very_sure=True)
    # An open sentence close in sound to a command stays open when Whisper is very sure.
    question, forced = "What day of the week was I born?", "what day of the week is it jibo"
    assert similarity(question, forced) >= 0.6
    assert not grammar_wins(forced, question, LAUNCH, 0.6, very_sure=True)


def test_the_same_meaning_or_an_alternative_hypothesis_confirms_the_grammar() -> None:
    assert grammar_wins("what time is it", "What time is it?", LAUNCH, 0.99, very_sure=True)
    assert not grammar_wins("cancel my alarm", "Can so my face?", LAUNCH, 0.99, very_sure=True)
    assert grammar_wins(
        "cancel my alarm",
        "Can so my face?",
        LAUNCH,
        0.99,
        alternatives=("Can so my alarm?", "Cancel my alarm."),
        very_sure=True,
    )


def test_the_beam_s_next_guess_that_is_a_request_is_taken_within_the_margin() -> None:
    """Whisper's best words land on chat; the first alternative the parser makes a request of
    and whose mean log-probability is within the margin is taken; one further down the beam,
    one that is itself a catch-all, or no margin at all (the setting's "never") give None."""
    others = ("Restart the time?", "Restart the timer.", "Take a picture.")
    logprobs = (-0.30, -0.45, -0.50)
    assert command_alternative(others, logprobs, -0.24, LAUNCH, 0.3) == "Restart the timer."
    assert command_alternative(others, logprobs, -0.24, LAUNCH, 0.2) is None  # -0.45 < -0.44
    assert command_alternative(others, logprobs, -0.24, LAUNCH, None) is None
    assert command_alternative(("When in Christmas?",), (-0.5,), -0.5, LAUNCH, 1.0) is None
    # An open question stays open when its alternatives are open questions too.
    question = ("What is the capitol of France?", "What's the capital of France?")
    assert command_alternative(question, (-0.3, -0.35), -0.25, LAUNCH, 0.3) is None


def test_under_a_constrained_turn_s_rules_words_off_the_menu_are_not_a_request() -> None:
    """In a yes/no turn the parser gives no intent at all to words off the menu, and such a
    hypothesis is never taken as the turn's answer; "Yeah." is."""
    yes_no = ("shared/yes_no",)
    assert not understood("You had?", yes_no)
    assert understood("Yeah.", yes_no)
    assert not understood("Tell me about your day.", LAUNCH)  # chat: a catch-all
    others = ("You had.", "Yeah.")
    assert command_alternative(others, (-0.35, -0.4), -0.3, yes_no, 0.5) == "Yeah."
    assert command_alternative(("You had.", "Who had?"), (-0.35, -0.4), -0.3, yes_no, 5) is None


def test_chitchat_is_open_speech_not_a_request() -> None:
    """The parser's hand-written patterns (nlu/everyday.py, praise, the serious net) give the
    personality skill's intents to words such as "tell me a story" or "good job". For the
    speech decision they are open speech, like chat: they get the grammar's second opinion,
    and a beam hypothesis of that kind is never taken as the request."""
    assert parse_text("Tell me a story.", LAUNCH)["entities"]["domain"] == "chitchat"
    assert not understood("Tell me a story.", LAUNCH)
    assert needs_grammar("Tell me a story.", LAUNCH)
    assert needs_grammar("Good job.", LAUNCH)
    assert not needs_grammar("Set a timer for half an hour.", LAUNCH)
    others = ("Sing.", "Sing a timer.")
    assert command_alternative(others, (-0.3, -0.35), -0.25, LAUNCH, 0.5) is None


def test_whisper_s_score_decides_when_there_is_one() -> None:
    """With a score, the margin decides (not the sound, nor how sure Whisper is); a score
    that answers None leaves the decision to the similarity rule; the texts scored are the
    spoken forms, capitalised."""
    seen: list[list[str]] = []

    def score_of(phrase: float, words: float) -> Callable[[Sequence[str]], list[float]]:
        def score(texts: Sequence[str]) -> list[float]:
            seen.append(list(texts))
            return [phrase, words]

        return score

    grammar, heard = "play radio", "Playing the raid to you."
    assert grammar_wins(grammar, heard, LAUNCH, very_sure=True, score=score_of(-12.0, -5.0))
    assert not grammar_wins(grammar, heard, LAUNCH, score=score_of(-14.0, -5.0))
    assert grammar_wins(grammar, heard, LAUNCH, score=score_of(-14.0, -5.0), score_margin=10.0)
    assert seen[0] == ["Play radio", "Playing the raid to you"]
    near = "set an alarm for seven thirty a m", "Set in alarm for 7.30am."
    assert grammar_wins(*near, LAUNCH, 0.6, score=lambda _texts: None)
    assert not grammar_wins(*near, LAUNCH, 0.6, very_sure=True, score=lambda _texts: None)
    assert as_said("Set an alarm for 7:30am.") == "Set an alarm for seven thirty a m"


def test_whisper_s_loops_are_undone() -> None:
    loop = "Good morning Jibo. Good morning, Jibo! Good morning. Jibo"
    assert drop_repeats(loop) == "Good morning Jibo."
    assert drop_repeats("Hey buddy. Hey buddy Hey buddy") == "Hey buddy."
    assert drop_repeats("Who are you? Who are YOU? Who Are You? Who Who") == "Who are you?"
    two = "What is the capital of France? I think it is Paris."
    assert drop_repeats(two) == two
    assert drop_repeats("") == ""


def test_clean_text_reads_whisper_s_numbers_and_names() -> None:
    assert clean_text("Start a timer 4-5 minutes.") == "Start a timer for 5 minutes."
    assert clean_text("Good bye Gibo.") == "goodbye Jibo."
    assert clean_text("  What is\n the time? ") == "What is the time?"
