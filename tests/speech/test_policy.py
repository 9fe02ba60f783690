"""The decode policy: today's tuned figures by default, and a warp list that starts unwarped."""

from __future__ import annotations

import pickle

import pytest

from jibo_cloud.speech.policy import DEFAULT_POLICY, NO_WARP, DecodePolicy


def test_the_default_is_what_ships() -> None:
    assert DecodePolicy() == DEFAULT_POLICY
    assert DEFAULT_POLICY.warps == (NO_WARP, "0.9", "1.1")
    assert (DEFAULT_POLICY.repasses, DEFAULT_POLICY.whisper_queue) == (2, 3)
    limits = (
        DEFAULT_POLICY.max_unexplained_seconds,
        DEFAULT_POLICY.repass_unexplained_seconds,
        DEFAULT_POLICY.completion_unexplained_seconds,
    )
    assert limits == (0.5, 0.3, 0.8)
    assert (DEFAULT_POLICY.completion_limit, DEFAULT_POLICY.completion_max_words) == (64, 2)
    assert (DEFAULT_POLICY.fallback_max_seconds, DEFAULT_POLICY.speech_max_seconds) == (8.0, 30.0)
    assert (DEFAULT_POLICY.snap_similarity, DEFAULT_POLICY.whisper_keep_logprob) == (0.7, -0.2)
    frames = (DEFAULT_POLICY.whisper_margin_frames, DEFAULT_POLICY.whisper_min_frames)
    assert frames == (200, 600)
    tokens = (
        DEFAULT_POLICY.whisper_max_tokens,
        DEFAULT_POLICY.whisper_tokens_per_second,
        DEFAULT_POLICY.whisper_min_tokens,
    )
    assert tokens == (96, 6, 12)
    assert (DEFAULT_POLICY.whisper_beam_size, DEFAULT_POLICY.whisper_no_repeat_ngram) == (5, 3)
    assert DEFAULT_POLICY.whisper_alternatives == 4
    thresholds = (DEFAULT_POLICY.whisper_no_speech_prob, DEFAULT_POLICY.whisper_low_logprob)
    assert thresholds == (0.6, -1.0)
    assert DEFAULT_POLICY.whisper_prompt == "Hey Jibo."


def test_whisper_s_verdicts_follow_the_policy() -> None:
    from jibo_cloud.speech.whisper import Heard, encoder_frames

    doubtful = Heard("hello", avg_logprob=-1.2, no_speech_prob=0.7)
    assert not doubtful.speech
    lenient = DecodePolicy(whisper_no_speech_prob=0.8, whisper_low_logprob=-1.5)
    assert Heard("hello", avg_logprob=-1.2, no_speech_prob=0.7, policy=lenient).sure
    assert Heard("hello", avg_logprob=-0.1, no_speech_prob=0.0).very_sure
    assert not Heard("hello", avg_logprob=-0.5, no_speech_prob=0.0).very_sure
    assert encoder_frames(16000) == 600  # 1 s + margin, raised to the minimum
    assert encoder_frames(16000 * 5) == 700  # 5 s + margin
    assert encoder_frames(16000, DecodePolicy(whisper_min_frames=0)) == 300


@pytest.mark.parametrize("warps", [(), ("0.9", "1.0"), ["1.0"]])
def test_warps_must_start_with_the_unwarped_model(warps: object) -> None:
    with pytest.raises(ValueError, match=r"must start with '1\.0'"):
        DecodePolicy(warps=warps)  # type: ignore[arg-type]


def test_a_policy_reaches_a_worker_process_intact() -> None:
    policy = DecodePolicy(repasses=0, warps=(NO_WARP,), whisper_queue=1)
    assert pickle.loads(pickle.dumps(policy)) == policy  # noqa: S301 (our own bytes)
