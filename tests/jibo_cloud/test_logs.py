"""Logs carry the trace headers and never print tokens or secrets."""

from __future__ import annotations

import logging

import pytest

from jibo_cloud.logs import RedactingFilter, TraceContext, TraceFilter, redact, trace_scope


def test_trace_headers_and_forwarded_client() -> None:
    headers = {
        "x-jibo-transid": "tid-1",
        "x-jibo-robotid": "Test-Robot",
        "x-forwarded-for": "192.0.2.7, 10.0.0.1",
        "x-jibo-logging-config": '{"hub":"debug"}',
    }
    trusted = TraceContext.from_headers(headers, "127.0.0.1", trust_forwarded=True)
    assert (trusted.trans_id, trusted.robot_id, trusted.client) == (
        "tid-1",
        "Test-Robot",
        "192.0.2.7",
    )
    assert trusted.levels == {"hub": "debug"}
    untrusted = TraceContext.from_headers(headers, "127.0.0.1", trust_forwarded=False)
    assert untrusted.client == "127.0.0.1"


def test_defaults_and_malformed_logging_config() -> None:
    trace = TraceContext.from_headers(
        {"x-jibo-logging-config": "{not json"}, None, trust_forwarded=False
    )
    assert (trace.trans_id, trace.robot_id, trace.client, dict(trace.levels)) == (
        "unknown",
        "unknown",
        "-",
        {},
    )


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEyMyJ9.c2lnbmF0dXJl", "eyJpZCI6IjEyMyJ9"),
        ("Signature=0123456789abcdef0123456789abcdef", "0123456789abcdef0123"),
        ('{"secretAccessKey": "AKsecret/value"}', "AKsecret/value"),
    ],
)
def test_redaction(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_per_request_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("hub.listen", logging.DEBUG, __file__, 1, "frame", None, None)
    flt = TraceFilter(logging.INFO)
    assert flt.filter(record) is False
    with trace_scope(TraceContext(levels={"hub": "debug"})):
        assert flt.filter(record) is True
        assert record.trans_id == "unknown"  # type: ignore[attr-defined]


def test_redacting_filter_rewrites_args() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "auth %s", ("Bearer sekrit",), None)
    RedactingFilter().filter(record)
    assert "sekrit" not in record.getMessage()
