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


@pytest.mark.parametrize("warps", [(), ("0.9", "1.0"), ["1.0"]])
def test_warps_must_start_with_the_unwarped_model(warps: object) -> None:
    with pytest.raises(ValueError, match=r"must start with '1\.0'"):
        DecodePolicy(warps=warps)  # type: ignore[arg-type]


def test_a_policy_reaches_a_worker_process_intact() -> None:
    policy = DecodePolicy(repasses=0, warps=(NO_WARP,), whisper_queue=1)
    assert pickle.loads(pickle.dumps(policy)) == policy  # noqa: S301 (our own bytes)
