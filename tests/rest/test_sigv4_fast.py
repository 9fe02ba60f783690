"""The SigV4 fast paths (cached key derivation, regex date parsing) agree with the slow,
obviously-correct versions they replaced."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jibo_cloud import sigv4


def _reference_time(raw: str) -> tuple[str, int] | None:
    """What ``verify`` used before: ``strptime``; None where it raised."""
    try:
        when = datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    # Zero-padded by hand: strftime("%Y") drops the zeros of years before 1000 on glibc (such
    # dates are rejected anyway: they are centuries outside the 15-minute window).
    return f"{when.year:04d}{when.month:02d}{when.day:02d}", int(when.timestamp())


def _parsed(raw: str) -> tuple[str, int] | None:
    """The fast parser's answer; None where it raised (always an IncompleteSignature)."""
    req = sigv4.SignedRequest("POST", "/", "", {"x-amz-date": raw}, b"")
    try:
        return sigv4._request_time(req)
    except sigv4.SignatureError as exc:
        if exc.code != "IncompleteSignatureException":
            raise
        return None


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_every_well_formed_date_parses_like_strptime(when: datetime) -> None:
    raw = f"{when.year:04d}{when:%m%dT%H%M%S}Z"
    assert _parsed(raw) == _reference_time(raw)
    assert _parsed(raw) is not None


@given(
    st.builds(
        "{}{:02d}{:02d}T{:02d}{:02d}{:02d}Z".format,
        st.integers(0, 9999).map("{:04d}".format),
        *(st.integers(0, 99) for _ in range(5)),
    )
)
def test_out_of_range_fields_are_rejected_like_strptime(raw: str) -> None:
    assert _parsed(raw) == _reference_time(raw)


@pytest.mark.parametrize(
    "raw", ["", "20240101T000000", "20240101T000000z", "2024-01-01T00:00:00Z",
            "20240101T000000Z ", "\uff12\uff10\uff12\uff140101T000000Z", "20230229T120000Z"],
)  # fmt: skip
def test_malformed_dates_are_incomplete_signatures(raw: str) -> None:
    assert _parsed(raw) is None


def _reference_key(secret: str, auth: sigv4.Authorization) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), auth.date.encode(), hashlib.sha256).digest()
    for part in (auth.region, auth.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@given(
    st.text(min_size=1, max_size=40),
    st.sampled_from(["20240101", "20240102"]),
    st.sampled_from(["us-east-1", "api"]),
    st.sampled_from(["jibo", "Loop"]),
)
def test_the_cached_signing_key_is_the_derived_one(
    secret: str, date: str, region: str, service: str
) -> None:
    auth = sigv4.Authorization("AKID", date, region, service, ("host",), "0" * 64)
    assert sigv4.signing_key(secret, auth) == _reference_key(secret, auth)
    assert sigv4.signing_key(secret, auth) == _reference_key(secret, auth)  # from the cache
    assert sigv4.signing_key(secret + "x", auth) != sigv4.signing_key(secret, auth)
