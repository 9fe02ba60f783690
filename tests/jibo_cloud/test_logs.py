"""Logs carry the trace headers and never print tokens or secrets."""

from __future__ import annotations

import io
import logging

import pytest

from jibo_cloud.config import Config
from jibo_cloud.logs import (
    RedactingFilter,
    TraceContext,
    TraceFilter,
    redact,
    setup_logging,
    trace_scope,
)
from jibo_cloud.tokens import issue_hub_token


def test_trace_headers_and_forwarded_client() -> None:
    headers = {
        "x-jibo-transid": "tid-1",
        "x-jibo-robotid": "Test-Robot",
        "x-forwarded-for": "192.0.2.7, 10.0.0.1",
        "x-jibo-logging-config": '{"hub":"debug"}',
    }
    trusted = TraceContext.from_headers(headers, "127.0.0.1", trust_forwarded=True)
    # The rightmost entry (the one our proxy appended), never the client's leftmost.
    assert (trusted.trans_id, trusted.robot_id, trusted.client) == (
        "tid-1",
        "Test-Robot",
        "10.0.0.1",
    )
    behind_two = TraceContext.from_headers(
        headers, "127.0.0.1", trust_forwarded=True, trusted_proxies=("10.0.0.0/8",)
    )
    assert behind_two.client == "192.0.2.7"
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
        ("{'secretAccessKey': 'AKsecret/value'}", "AKsecret/value"),
        ("aws_secret_access_key=AKsecret/value", "AKsecret/value"),
        ('{"password": "hunter2"}', "hunter2"),
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


SIGV4_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _hub_token() -> str:
    config = Config(token_secret="a-secret-for-this-test-only-0123456789abcdef")
    token, _expires = issue_hub_token(
        config, account_id="acct", friendly_id="robot", access_key_id="AKID", now_s=1_700_000_000
    )
    return token


class _Leaky(Exception):
    pass


def _fail(token: str) -> None:
    raise _Leaky(f"refused Bearer {token} with {{'secretAccessKey': '{SIGV4_SECRET}'}}")


def test_the_whole_record_is_redacted() -> None:
    """Exception text, traceback and stack info are redacted too, not
    only the message (RedactingFilter alone let the exception's message through)."""
    token = _hub_token()
    assert token.startswith("eyJ")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        (handler,) = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        out = io.StringIO()
        handler.setStream(out)
        _log_leaks(token)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    text = out.getvalue()
    for part in ("Traceback", "Stack (most recent call last)", "_Leaky", "RuntimeError"):
        assert part in text
    for secret in (token, SIGV4_SECRET, token.split(".")[1], token.split(".")[2]):
        assert secret not in text
    assert "[redacted]" in text


def _log_leaks(token: str) -> None:
    log = logging.getLogger("jibo_cloud.test")
    try:
        try:
            _fail(token)
        except _Leaky as inner:
            raise RuntimeError(f"while handling token={token}") from inner
    except RuntimeError:
        log.exception("login failed for %s", "robot", stack_info=True)
        log.warning("again", exc_info=True)
        log.error("stack only %s", SIGV4_SECRET[:4], stack_info=True)


def test_formatter_redacts_for_a_handler_without_the_filter() -> None:
    from jibo_cloud.logs import RedactingFormatter

    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "boom",
        None,
        (ValueError, ValueError(f"secret={SIGV4_SECRET}"), None),
    )
    record.msg = f"secret={SIGV4_SECRET}"
    assert SIGV4_SECRET not in RedactingFormatter("%(message)s").format(record)


def test_records_under_the_base_level_are_not_built_unless_a_request_asks() -> None:
    """The root logger stops a debug record before it is built (a hot path's ``log.debug``
    costs a level check), and opens to DEBUG only while a request with
    ``x-jibo-logging-config`` levels is served; that request gets its namespace's debug
    lines, and nothing else gets below the base level meanwhile."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    hub, other = logging.getLogger("hub.driver"), logging.getLogger("jibo_cloud.other")
    try:
        setup_logging("INFO", fmt="text")
        (handler,) = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        out = io.StringIO()
        handler.setStream(out)
        assert root.level == logging.INFO
        assert not hub.isEnabledFor(logging.DEBUG)
        with trace_scope(TraceContext(levels={"hub": "debug"})):
            with trace_scope(TraceContext(trans_id="nested", levels={"hub": "debug"})):
                assert hub.isEnabledFor(logging.DEBUG)
            assert root.level == logging.DEBUG  # the outer request is still served
            hub.debug("asked for")
            other.debug("not asked for")
        assert root.level == logging.INFO
        assert not hub.isEnabledFor(logging.DEBUG)
        with trace_scope(TraceContext(trans_id="plain")):  # no levels: the root stays shut
            assert root.level == logging.INFO
        hub.debug("after the request")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    text = out.getvalue()
    assert "asked for" in text
    assert "not asked for" not in text
    assert "after the request" not in text


def test_push_and_pop_trace_nest_like_trace_fields() -> None:
    """The hot path's form of :func:`trace_fields` (the hub's driver): the changes hold until
    popped, pops undo in order, and a pushed context with levels opens the root gate."""
    from jibo_cloud.logs import current_trace, pop_trace, push_trace

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", fmt="text")
        with trace_scope(TraceContext(trans_id="outer", levels={"hub": "debug"})):
            first = push_trace(trans_id="t1")
            second = push_trace(robot_id="r1")
            assert (current_trace().trans_id, current_trace().robot_id) == ("t1", "r1")
            assert root.level == logging.DEBUG
            pop_trace(second)
            pop_trace(first)
            assert current_trace().trans_id == "outer"
        assert root.level == logging.INFO  # every open was closed
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
