"""A failed TLS handshake is one WARNING line with the client's address and OpenSSL's reason,
rate limited; hypercorn used to drop such connections without a word.

The bad handshake comes from the real ``openssl s_client`` (TLS 1.1, which the server
refuses) against the real server's ``--tls-port``.
"""

from __future__ import annotations

import logging
import shutil

import pytest
import trio
import trio.testing

from jibo_cloud.edge.handshakes import HandshakeLog
from tests.support.env import missing
from tests.tls.conftest import TLSServer

LOGGER = "jibo_cloud.tls"


def handshake_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.getMessage().startswith("TLS handshake failed")
    ]


async def openssl_tls11(port: int) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("the openssl command (apt-get install openssl)")
    assert openssl is not None
    await trio.run_process(
        [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1",
         "-servername", "api.jibo.com", "-cipher", "ALL:@SECLEVEL=0"],
        stdin=b"", capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip


async def test_a_refused_handshake_is_one_line_with_address_and_reason(
    tls_server: TLSServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with trio.fail_after(20):
        await openssl_tls11(tls_server.tls_port)
        while not handshake_lines(caplog):  # noqa: ASYNC110 - the server logs in its own task
            await trio.sleep(0.01)
    (line,) = handshake_lines(caplog)
    assert line.startswith("TLS handshake failed from 127.0.0.1: ")
    reason = line.removeprefix("TLS handshake failed from 127.0.0.1: ")
    assert reason.isupper() or "VERSION" in reason.upper(), reason  # OpenSSL's short reason
    # A flood is not a flood of lines: the next failures within the interval are counted.
    with trio.fail_after(20):
        await openssl_tls11(tls_server.tls_port)
        await openssl_tls11(tls_server.tls_port)
    assert len(handshake_lines(caplog)) == 1


def test_failures_in_between_are_counted_in_the_next_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    clock = trio.testing.MockClock()

    async def main() -> None:
        handshakes = HandshakeLog(interval=10.0)
        handshakes.failed("192.0.2.1", "NO_SHARED_CIPHER")
        handshakes.failed("192.0.2.2", "NO_SHARED_CIPHER")
        handshakes.failed("192.0.2.3", "HTTP_REQUEST")
        clock.jump(10.0)
        handshakes.failed("192.0.2.4", "WRONG_VERSION_NUMBER")

    trio.run(main, clock=clock)
    assert handshake_lines(caplog) == [
        "TLS handshake failed from 192.0.2.1: NO_SHARED_CIPHER",
        "TLS handshake failed from 192.0.2.4: WRONG_VERSION_NUMBER"
        " (2 more failed handshakes not shown)",
    ]
