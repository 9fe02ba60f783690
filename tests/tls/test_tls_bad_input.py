"""Bad input on the TLS port ends only its own connection.

Plain HTTP on the TLS port and a handshake that stalls (dropped within ``handshake_timeout``),
each one rate-limited log line with the address and the reason; a
client certificate nobody asked for, and an expired certificate at start (one clear line; TLS
stays off and the plain port serves).
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from pathlib import Path

import pytest
import trio

from jibo_cloud.config import load_config
from jibo_cloud.server import tls_port
from jibo_cloud.tls import certs
from jibo_cloud.tls.listen import plan_tls
from tests.support.server import start_server
from tests.tls.conftest import TLSServer, certs_init, start_tls_server
from tests.tls.test_handshake_log import LOGGER, handshake_lines


async def _until_closed(stream: trio.abc.Stream) -> bytes:
    received = b""
    while chunk := await stream.receive_some(65536):
        received += chunk
    return received


async def _healthy(tls: TLSServer) -> None:
    """The server still answers over TLS (another connection is unaffected)."""
    ctx = ssl.create_default_context(cafile=str(tls.ca_file))
    tcp = await trio.open_tcp_stream("127.0.0.1", tls.tls_port)
    stream = trio.SSLStream(tcp, ctx, server_hostname="api.jibo.com", https_compatible=True)
    await stream.send_all(b"GET / HTTP/1.1\r\nHost: api.jibo.com\r\nConnection: close\r\n\r\n")
    assert (await _until_closed(stream)).startswith(b"HTTP/1.1 204")
    await stream.aclose()


async def test_plain_http_on_the_tls_port_is_dropped(
    tls_server: TLSServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    stream = await trio.open_tcp_stream("127.0.0.1", tls_server.tls_port)
    async with stream:
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: api.jibo.com\r\n\r\n")
        with trio.fail_after(5):
            answer = await _until_closed(stream)
    assert not answer.startswith(b"HTTP/")  # never served as if it were TLS
    with trio.fail_after(10):
        while not handshake_lines(caplog):  # noqa: ASYNC110 - the server logs in its own task
            await trio.sleep(0.01)
    assert handshake_lines(caplog) == ["TLS handshake failed from 127.0.0.1: HTTP_REQUEST"]
    with trio.fail_after(10):
        await _healthy(tls_server)


async def test_a_stalled_handshake_is_dropped_within_the_handshake_timeout(
    nursery: trio.Nursery, tls_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    tls = await start_tls_server(nursery, tls_data, handshake_timeout=0.5)
    hello_start = bytes.fromhex("160301")  # a TLS record header, then nothing more
    for first_bytes in (hello_start, b""):
        stream = await trio.open_tcp_stream("127.0.0.1", tls.tls_port)
        async with stream:
            if first_bytes:
                await stream.send_all(first_bytes)
            started = trio.current_time()
            with trio.fail_after(5):  # hypercorn's own default would be 60 s
                assert await _until_closed(stream) == b""
            assert trio.current_time() - started < 3
    # One line for the first stall (the second falls in the same rate-limit interval).
    assert handshake_lines(caplog) == [
        "TLS handshake failed from 127.0.0.1: no handshake within the handshake timeout"
    ]
    with trio.fail_after(10):
        await _healthy(tls)
    tls.server.stop()


async def test_a_client_certificate_nobody_asked_for_is_ignored(
    tls_server: TLSServer, tmp_path: Path
) -> None:
    other = await trio.to_thread.run_sync(certs_init, tmp_path / "client")
    ctx = ssl.create_default_context(cafile=str(tls_server.ca_file))
    ctx.load_cert_chain(other.parent / "server.pem", other.parent / "server.key")
    tcp = await trio.open_tcp_stream("127.0.0.1", tls_server.tls_port)
    stream = trio.SSLStream(tcp, ctx, server_hostname="api.jibo.com", https_compatible=True)
    with trio.fail_after(10):
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: api.jibo.com\r\nConnection: close\r\n\r\n")
        assert (await _until_closed(stream)).startswith(b"HTTP/1.1 204")
    await stream.aclose()


def _expire(data: Path) -> None:
    config = load_config(data_dir=data, env={})
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    certs.issue_server_cert(config, certs.robot_host_names(), days=30, now=past)


async def test_an_expired_certificate_keeps_tls_off_and_the_plain_port_serving(
    nursery: trio.Nursery, tls_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _expire(tls_data)
    with caplog.at_level(logging.ERROR, logger="jibo_cloud.tls"):
        server = await start_server(nursery, tls_data, tls_port=0)
    lines = [r.getMessage() for r in caplog.records if r.name == "jibo_cloud.tls"]
    assert any("expired on" in line and "jibo-cloud certs renew" in line for line in lines), lines
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        with trio.fail_after(5):
            while not answer.endswith(b"\r\n\r\nok"):
                answer += await stream.receive_some(65536)
    assert answer.startswith(b"HTTP/1.1 200")
    server.stop()


def test_expiry_warning_thirty_days_before(
    tls_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(data_dir=tls_data, env={}, tls_port=0)
    info = certs.server_certificate_info(config)
    assert info is not None
    with caplog.at_level(logging.WARNING, logger="jibo_cloud.tls"):
        plan = plan_tls(config, now=info.not_after - dt.timedelta(days=31))
        assert plan.enabled
        assert not caplog.records
        plan = plan_tls(config, now=info.not_after - dt.timedelta(days=29))
    assert plan.enabled
    assert "expires on" in caplog.records[0].getMessage()
    assert plan_tls(config, now=info.not_after).enabled is False


def test_tls_port_auto_and_off(tmp_path: Path, tls_data: Path) -> None:
    # No certificate: auto means no TLS, and the line says how to get one.
    bare = load_config(data_dir=tmp_path / "bare", env={})
    assert not plan_tls(bare).enabled
    assert "certs init" in plan_tls(bare).reason
    # A certificate: auto means 443; off means off.
    assert plan_tls(load_config(data_dir=tls_data, env={})).port == 443
    off = load_config(data_dir=tls_data, env={"JIBO_TLS_PORT": "off"})
    assert not plan_tls(off).enabled
    assert tls_port(["http://127.0.0.1:1", "https://127.0.0.1:2"]) == 2
    assert tls_port(["http://127.0.0.1:1"]) is None
