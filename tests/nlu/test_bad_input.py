"""Bad input to the parser: an answer, never an exception, and one log
line that says what happened without the transcript."""

from __future__ import annotations

import logging

import pytest

from jibo_cloud.nlu.parser import EMPTY, MAX_TEXT_CHARS, parse_text

LAUNCH = ["launch", "globals/global_commands_launch"]


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "jibo_cloud.nlu.parser")


@pytest.mark.parametrize("text", ["", "   ", "?!…", "🤖🎉", "\u200b\u200b"])
def test_nothing_to_parse_is_the_empty_answer(caplog: pytest.LogCaptureFixture, text: str) -> None:
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        assert parse_text(text, LAUNCH) == EMPTY
    assert "nothing to parse" in _logged(caplog)


def test_ten_kilobytes_goes_to_chat_cut_short(caplog: pytest.LogCaptureFixture) -> None:
    text = "secretword " + "what time is it " * 700  # ~11 KB
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        result = parse_text(text, LAUNCH)
    assert result["intent"] == "chat"
    assert len(result["entities"]["utterance"]) <= MAX_TEXT_CHARS
    assert "over the 1000-character limit" in _logged(caplog)
    assert "secretword" not in _logged(caplog)
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        assert parse_text(text, ["shared/yes_no"]) == EMPTY


def test_non_english_text_is_chat_at_launch_and_nothing_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        result = parse_text("¿Qué hora es, señor?", LAUNCH)
        assert parse_text("今日は何曜日ですか", ["shared/yes_no"]) == EMPTY
    assert result["intent"] == "chat"
    logged = _logged(caplog)
    assert "outside the grammar's alphabet" in logged
    assert "señor" not in logged
    assert "曜日" not in logged


def test_unknown_rules_are_named_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        assert parse_text("yes", ["no/such_rule"]) == EMPTY
        assert parse_text("yes", ["no/such_rule", "shared/yes_no"])["intent"] == "yes"
    assert "unknown rule name(s) ignored: ['no/such_rule']" in _logged(caplog)
