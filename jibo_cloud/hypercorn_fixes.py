"""Repairs that keep one misbehaving connection from stopping the whole hypercorn server.

hypercorn 0.17 to 0.18 (``hypercorn/protocol/ws_stream.py``): when a message exceeds
``websocket_max_message_size``, ``WebsocketBuffer.extend`` raises ``FrameTooLargeError`` and
the stream sends close 1009 — but the buffer keeps the partial message. If the peer then sends
a message of the other kind (a text frame after an oversized binary one), ``extend`` writes a
``str`` into a ``BytesIO``; the ``TypeError`` escapes hypercorn's connection task and ends its
serve loop, so the server stops accepting connections. Any robot (or fuzzer) could do it.

The repair clears the buffer before the error propagates, which is what the surrounding code
assumes. It is applied once by :func:`jibo_cloud.server.serve`, checks that the class still
has the shape it patches, and is a no-op if hypercorn fixes the bug upstream (the clear is
idempotent). Regression test: ``tests/e2e/test_server_basics.py``.

Beyond that one bug, hypercorn's trio worker runs every connection in the listener's nursery,
so *any* exception escaping a connection's protocol code ends the server. The brief's rule is
that bad input never crashes a connection other than its own: :func:`install` also wraps
``TCPServer.run`` so an unexpected exception is logged and closes only that connection.
Cancellation (a ``BaseException``) still propagates, so graceful shutdown is unchanged.

Keep-alive pings (``websocket_ping_interval``): hypercorn sends the first Ping the moment a
socket is accepted. That ping keeps nothing alive, and it races with a client that closes at
once: trio-websocket, which our tests and tools use, then fails answering it in the closing
state. :func:`install` makes the first ping wait one interval, so the one-transaction hub
sockets (seconds long) are not pinged and the all-day notification sockets are (§3).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import h11
from hypercorn.events import RawData
from hypercorn.protocol import h11 as h11_protocol
from hypercorn.protocol import ws_stream
from hypercorn.trio import tcp_server
from wsproto.events import Ping

log = logging.getLogger(__name__)
_MARK = "_jibo_patched"


def install() -> None:
    """Apply the repairs (idempotent)."""
    _clear_buffer_on_too_large()
    _isolate_connection_failures()
    _first_ping_after_one_interval()
    _coalesce_response_writes()


def _coalesce_response_writes() -> None:
    """One socket write per small HTTP/1.1 answer instead of three.

    hypercorn writes a response's head, each body chunk and the (for a Content-Length body,
    empty) end-of-message separately, each through the connection's send lock, a shielded
    cancel scope and ``send_all``. A robot's REST answers are one small chunk, so that is three
    trips through trio and two ``send()`` calls per answer, about a fifth of what hypercorn
    spends on a request (docs/rest.md "Performance"). The head of a final response is held
    and written with the first body chunk (or at the end of the message); empty writes are
    skipped. Streamed bodies still go out chunk by chunk, as they come.
    """
    protocol_class = h11_protocol.H11Protocol
    original = getattr(protocol_class, "_send_h11_event", None)
    if getattr(original, _MARK, False):
        return
    if original is None or not hasattr(protocol_class, "stream_send"):
        raise RuntimeError("hypercorn's H11Protocol changed shape; review hypercorn_fixes")

    async def _send_h11_event(self: Any, event: Any) -> None:
        try:
            data = self.connection.send(event)
        except h11.LocalProtocolError:
            if self.connection.their_state != h11.ERROR:
                raise
            return
        held = getattr(self, "_jibo_held_head", b"")
        if isinstance(event, h11.Response):
            self._jibo_held_head = held + data
            return
        if held:
            self._jibo_held_head = b""
            data = held + data
        if data:
            await self.send(RawData(data=data))

    setattr(_send_h11_event, _MARK, True)
    protocol_class._send_h11_event = _send_h11_event  # type: ignore[method-assign]


def _first_ping_after_one_interval() -> None:
    stream_class = ws_stream.WSStream
    if getattr(stream_class._send_pings, _MARK, False):
        return
    if not hasattr(stream_class, "_send_pings") or not hasattr(stream_class, "_send_wsproto_event"):
        raise RuntimeError("hypercorn's WSStream changed shape; review hypercorn_fixes")

    async def _send_pings(self: Any) -> None:
        while True:
            await self.context.sleep(self.config.websocket_ping_interval)
            if self.closed:
                return
            await self._send_wsproto_event(Ping())

    setattr(_send_pings, _MARK, True)
    stream_class._send_pings = _send_pings  # type: ignore[method-assign]


def _isolate_connection_failures() -> None:
    server_class = tcp_server.TCPServer
    original = server_class.run
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def run(self: Any) -> None:
        try:
            await original(self)
        except Exception:
            # One connection's bug; its stream is closed by hypercorn's own finally block.
            log.exception("a connection failed inside hypercorn; closed that connection only")

    setattr(run, _MARK, True)
    server_class.run = run  # type: ignore[method-assign]


def _clear_buffer_on_too_large() -> None:
    """Patch ``WebsocketBuffer.extend`` to clear itself when a message is too large."""
    buffer_class = ws_stream.WebsocketBuffer
    original = buffer_class.extend
    if getattr(original, _MARK, False):
        return
    if not hasattr(buffer_class, "clear") or not hasattr(ws_stream, "FrameTooLargeError"):
        raise RuntimeError("hypercorn's WebsocketBuffer changed shape; review hypercorn_fixes")

    @functools.wraps(original)
    def extend(self: Any, event: Any) -> None:
        try:
            original(self, event)
        except ws_stream.FrameTooLargeError:
            self.clear()
            raise

    setattr(extend, _MARK, True)
    buffer_class.extend = extend  # type: ignore[method-assign]
