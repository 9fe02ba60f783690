"""Speaker states: kept per robot, bounded, and a fallback for robots never heard."""

from __future__ import annotations

import pytest

from jibo_cloud.speech.speakers import SpeakerState, SpeakerStates

DEEP = SpeakerState("1.0", "38,2,-1,0,0,0,0,0,0,0,0,0,0")
HIGH = SpeakerState("0.9", "44,-4,3,1,0,0,0,0,0,0,0,0,0")


def test_nothing_accepted_yet_starts_from_the_models_state() -> None:
    assert SpeakerStates().start("robot-a") is None


def test_each_speaker_starts_from_its_own_last_accepted_state() -> None:
    states = SpeakerStates()
    states.accepted("robot-deep", DEEP)
    states.accepted("robot-high", HIGH)
    assert states.start("robot-deep") == DEEP
    assert states.start("robot-high") == HIGH


def test_a_speaker_never_heard_starts_from_the_last_good_state_of_anyone() -> None:
    states = SpeakerStates()
    states.accepted("robot-deep", DEEP)
    states.accepted("robot-high", HIGH)
    assert states.start("robot-new") == HIGH
    assert states.start("") == HIGH
    assert "robot-new" not in states


def test_an_unkeyed_turn_moves_only_the_shared_starting_point() -> None:
    states = SpeakerStates()
    states.accepted("robot-deep", DEEP)
    states.accepted("", HIGH)
    assert states.start("robot-deep") == DEEP
    assert states.start("robot-new") == HIGH
    assert len(states) == 1


def test_the_least_recently_used_speaker_is_forgotten_first() -> None:
    states = SpeakerStates(capacity=2)
    states.accepted("robot-a", DEEP)
    states.accepted("robot-b", DEEP)
    assert states.start("robot-a") == DEEP  # a turn of robot-a: now b is the oldest
    states.accepted("robot-c", HIGH)
    assert len(states) == 2
    assert "robot-a" in states
    assert "robot-b" not in states
    assert states.start("robot-b") == HIGH  # forgotten: falls back to the last good state


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SpeakerStates(capacity=0)
