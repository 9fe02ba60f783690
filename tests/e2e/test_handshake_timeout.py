"""A request head (an HTTP request or a websocket upgrade) that is not
complete within ``config.handshake_timeout`` is dropped (hypercorn's ``keep_alive_timeout``,
a public option, is what closes a connection that has not sent a whole head yet).

Before: hypercorn's default of 5 s applied whatever the configuration said."""

from __future__ import annotations

from pathlib import Path

import trio

from tests.support.server import start_server

PARTIAL_UPGRADE = b"GET /v1/listen HTTP/1.1\r\nHost: neo-hub.jibo.com\r\nUpgrade: websocket\r\n"


async def _until_closed(stream: trio.SocketStream) -> bytes:
    received = b""
    while chunk := await stream.receive_some(65536):
        received += chunk
    return received


async def test_an_incomplete_upgrade_is_dropped(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data", handshake_timeout=0.5)
    for first_bytes in (PARTIAL_UPGRADE, b""):  # half a head, or nothing at all
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        async with stream:
            if first_bytes:
                await stream.send_all(first_bytes)
            # Bounded well below hypercorn's 5 s default, which applied before.
            with trio.fail_after(3):
                assert await _until_closed(stream) == b""


async def test_a_complete_request_is_answered(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data", handshake_timeout=0.5)
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    async with stream:
        await stream.send_all(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        with trio.fail_after(3):
            while not answer.endswith(b"\r\n\r\nok"):
                answer += await stream.receive_some(65536)
    assert answer.startswith(b"HTTP/1.1 200")
