"""Whisper's words against the grammar's phrase, and Whisper's text made parseable."""

from __future__ import annotations

from jibo_cloud.speech.agree import grammar_wins, similarity, spoken_form
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
