"""Token buckets and failed-authentication windows, on an injected clock (plain numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jibo_cloud.ratelimit import FailureWindows, Limits, TokenBuckets


def test_burst_then_the_rate() -> None:
    buckets = TokenBuckets.per_second(5.0)  # burst 20
    assert [buckets.take("a", 0.0) for _ in range(20)] == [0.0] * 20
    wait = buckets.take("a", 0.0)
    assert wait == pytest.approx(0.2)
    # A refusal spends nothing: after the announced wait, one request passes.
    assert buckets.take("a", 0.2) == 0.0
    assert buckets.take("a", 0.2) > 0
    assert buckets.take("b", 0.2) == 0.0  # keys are independent


def test_a_slow_burst_never_waits() -> None:
    buckets = TokenBuckets.per_second(1.0)  # burst 4
    assert all(buckets.take("a", t * 1.0) == 0.0 for t in range(100))


def test_idle_entries_are_dropped() -> None:
    buckets = TokenBuckets.per_second(10.0)  # refilled after 4 s
    for key in ("a", "b", "c"):
        buckets.take(key, 0.0)
    buckets.take("c", 3.0)
    buckets.take("d", 4.5)
    assert len(buckets) == 2  # a and b were idle; c was touched at 3.0


def test_the_table_is_capped() -> None:
    buckets = TokenBuckets.per_second(1.0, max_keys=100)
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}", 0.0)
        assert len(buckets) <= 100


def test_failures_block_for_the_rest_of_the_window() -> None:
    windows = FailureWindows(limit=3)
    for t in (0.0, 1.0):
        windows.record("a", t)
        assert windows.blocked("a", t) == 0.0
    assert windows.record("a", 10.0)  # the third failure in the window: no more tries in it
    assert windows.blocked("a", 10.0) == pytest.approx(50.0)
    assert windows.blocked("a", 59.0) == pytest.approx(1.0)
    assert windows.blocked("b", 10.0) == 0.0
    assert windows.blocked("a", 60.0) == 0.0  # the window ended
    windows.record("a", 61.0)  # a new window: one failure
    assert windows.blocked("a", 61.0) == 0.0


def test_failure_windows_are_bounded_and_swept() -> None:
    windows = FailureWindows(limit=1, max_keys=10)
    for n in range(100):
        windows.record(str(n), float(n) / 10)
        assert len(windows) <= 10
    windows.record("late", 500.0)
    assert len(windows) == 1


def test_limits_combine_failures_and_requests() -> None:
    limits = Limits.from_config(
        rate_per_address=100.0,
        handshakes_per_address=1.0,
        auth_failures_per_minute=2,
        rate_per_principal=1.0,
    )
    for _ in range(2):
        limits.failed_authentication("a", 0.0)
    assert limits.admit_request("a", 1.0) == pytest.approx(59.0)
    assert limits.admit_handshake("a", 1.0) == pytest.approx(59.0)
    assert limits.admit_request("b", 1.0) == 0.0
    assert [limits.admit_handshake("b", 1.0) for _ in range(5)][-1] > 0  # burst of 4
    assert [limits.admit_principal("robot:x", 1.0) for _ in range(5)][-1] > 0


@given(
    rate=st.floats(min_value=0.5, max_value=100.0),
    times=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=200),
)
def test_admitted_never_exceeds_burst_plus_rate_times_elapsed(
    rate: float, times: list[float]
) -> None:
    buckets = TokenBuckets.per_second(rate)
    times.sort()
    admitted = sum(1 for t in times if buckets.take("k", t) == 0.0)
    assert admitted <= buckets.burst + rate * (times[-1] - times[0]) + 1e-6
