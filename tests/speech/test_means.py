"""Per-speaker cepstral means: kept per robot, bounded, and a fallback for robots never heard."""

from __future__ import annotations

import pytest

from jibo_cloud.speech.means import SpeakerMeans

DEEP = "38,2,-1,0,0,0,0,0,0,0,0,0,0"
HIGH = "44,-4,3,1,0,0,0,0,0,0,0,0,0"


def test_nothing_accepted_yet_starts_from_the_models_mean() -> None:
    assert SpeakerMeans().start("robot-a") is None


def test_each_speaker_starts_from_its_own_last_accepted_mean() -> None:
    means = SpeakerMeans()
    means.accepted("robot-deep", DEEP)
    means.accepted("robot-high", HIGH)
    assert means.start("robot-deep") == DEEP
    assert means.start("robot-high") == HIGH


def test_a_speaker_never_heard_starts_from_the_last_good_mean_of_anyone() -> None:
    means = SpeakerMeans()
    means.accepted("robot-deep", DEEP)
    means.accepted("robot-high", HIGH)
    assert means.start("robot-new") == HIGH
    assert means.start("") == HIGH
    assert "robot-new" not in means


def test_an_unkeyed_turn_moves_only_the_shared_starting_point() -> None:
    means = SpeakerMeans()
    means.accepted("robot-deep", DEEP)
    means.accepted("", HIGH)
    assert means.start("robot-deep") == DEEP
    assert means.start("robot-new") == HIGH
    assert len(means) == 1


def test_the_least_recently_used_speaker_is_forgotten_first() -> None:
    means = SpeakerMeans(capacity=2)
    means.accepted("robot-a", DEEP)
    means.accepted("robot-b", DEEP)
    assert means.start("robot-a") == DEEP  # a turn of robot-a: now b is the oldest
    means.accepted("robot-c", HIGH)
    assert len(means) == 2
    assert "robot-a" in means
    assert "robot-b" not in means
    assert means.start("robot-b") == HIGH  # forgotten: falls back to the last good mean


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SpeakerMeans(capacity=0)
