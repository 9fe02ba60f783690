"""The language model that picks an open sentence's words among Whisper's beam hypotheses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jibo_cloud.speech.policy import DecodePolicy
from jibo_cloud.speech.wording import WordModel

pytestmark = pytest.mark.speech

LAUNCH = ("launch", "globals/global_commands_launch")


@pytest.fixture(scope="module")
def words() -> WordModel:
    return WordModel()


def test_english_reads_better_than_a_mishearing(words: WordModel) -> None:
    """pocketsphinx's 3-gram model prefers the words that were said to Whisper base's
    mishearings of them; a word it does not know costs the floor, not -5,000 nats; digits
    are read as words."""
    assert words.per_word("What is the capital of France?") > words.per_word(
        "What is the capital and friends?"
    )
    assert words.per_word("why is the sky blue") > words.per_word("why is the sky view")
    # Each word counts at least the floor: an unknown word is not -5,000 nats.
    assert words.floor <= words.per_word("zzzqx") < words.per_word("hello") < 0
    assert words.per_word("I am 7") == pytest.approx(words.per_word("i am seven"))
    text = words.best(
        ["What is the capital and friends?", "What is the capital of France?"], [-0.30, -0.34], 0.5
    )
    assert text == "What is the capital of France?"
    text = words.best(
        ["What is the capital and friends?", "What is the capital of France?"], [-0.30, -2.5], 0.5
    )
    assert text == "What is the capital and friends?"  # Whisper much surer of its first


def test_an_unloadable_model_is_one_warning_and_whisper_s_words(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jibo_cloud.speech import engine, wording

    monkeypatch.setattr(wording, "default_path", lambda: "/nonexistent/en-us.lm.bin")
    eng = engine.Engine()
    with caplog.at_level("WARNING", logger="jibo_cloud.speech.engine"):
        assert eng.word_model() is None
        assert eng.word_model() is None
    assert [r.getMessage()[:45] for r in caplog.records] == [
        "speech: no language model, Whisper's words as"
    ]


def test_an_open_sentence_takes_the_beam_s_english_words_and_a_command_keeps_its_own(
    speak: Callable[..., list[bytes]],
) -> None:
    """Whisper (a stand-in) sure of an open question one sound off: the turn's words are the
    beam's hypothesis the language model reads as English, with the same intent; Whisper's
    command words are never changed; ``whisper_lm_weight=None`` keeps Whisper's best."""
    from jibo_cloud.nlu.parser import parse_text
    from jibo_cloud.speech import engine
    from jibo_cloud.speech.whisper import Heard
    from tests.support.speech_turn import decide_with

    pages = speak("what is the capital of france")

    def decide(eng: engine.Engine, heard: Heard) -> str:
        return decide_with(eng, pages, heard).result.text

    question = Heard(
        "What is the capital and friends?",
        avg_logprob=-0.30,
        no_speech_prob=0.0,
        alternatives=("What is the capital of France?",),
        alternative_logprobs=(-0.34,),
        score=lambda _texts: [-60.0, -10.0],  # the grammar's phrase, if any, far less likely
    )
    assert parse_text(question.text, LAUNCH)["intent"] == "generalWhatQuestions"
    eng = engine.Engine()
    assert decide(eng, question) == "What is the capital of France?"
    off = engine.Engine(policy=DecodePolicy(whisper_lm_weight=None))
    assert decide(off, question) == "What is the capital and friends?"
    command = Heard(
        "Set a timer for 5 minutes.",
        avg_logprob=-0.3,
        no_speech_prob=0.0,
        alternatives=("What is the capital of France?",),
        alternative_logprobs=(-0.31,),
    )
    assert decide(eng, command) == "Set a timer for 5 minutes."
