"""Open websockets to the test server the way a robot does: by host name, with headers.

A robot resolves ``neo-hub.jibo.com`` to our server (hosts file or DNS) and sends that name in
``Host``. :func:`open_robot_socket` connects TCP to 127.0.0.1 and speaks the handshake with
whatever host name the test chooses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import trio
from trio_websocket import ConnectionRejected, WebSocketConnection, wrap_client_stream


@asynccontextmanager
async def open_robot_socket(
    port: int,
    path: str,
    *,
    host: str = "neo-hub.jibo.com",
    headers: Sequence[tuple[str, str]] = (),
    max_message_size: int = 16 * 1024 * 1024,
) -> AsyncIterator[WebSocketConnection]:
    """A client websocket to ``127.0.0.1:port`` presenting ``host``; closed on exit.

    Raises:
        ConnectionRejected: the server answered the upgrade with an HTTP status (raised bare,
            not inside an exception group, so tests can ``pytest.raises`` it).
    """
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    rejected: list[ConnectionRejected] = []
    try:
        async with trio.open_nursery() as nursery:
            ws = await wrap_client_stream(
                nursery,
                stream,
                host,
                path,
                extra_headers=list(headers),
                message_queue_size=64,
                max_message_size=max_message_size,
            )
            try:
                yield ws
            finally:
                with trio.move_on_after(2, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    except* ConnectionRejected as group:
        rejected.extend(e for e in group.exceptions if isinstance(e, ConnectionRejected))
    if rejected:
        raise rejected[0]
