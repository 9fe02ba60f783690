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
The ping task also ends when the app does (hypercorn's own sleeps out its interval after the
socket closed, holding the connection's descriptor and a graceful shutdown up to 30 s).

Memory (issue 4): hypercorn pings each websocket from a task of its own, ~3.4 KiB per idle
socket (task, context, seven coroutine frames, a cancel scope). :func:`install` lets an ASGI
app that already waits on the socket send the pings itself: websocket scopes carry the
:data:`PING_EXTENSION` extension, an app that accepts with ``{PING_EXTENSION: "app"}`` in
the ``websocket.accept`` message gets no ping task and sends ``{"type": PING_MESSAGE}``
when a ping is due (:meth:`jibo_cloud.notify.NotificationHub.serve_asgi`). Other apps
(Quart's websockets: the hub) are pinged by hypercorn as before. Two more memory repairs:
:func:`_no_read_timer_without_read_timeout` (no never-firing read scope, ~1 KiB) and
:func:`_forget_h11_after_websocket_upgrade` (no h11 state after the 101, ~1 KiB).
Regression tests: ``tests/e2e/test_socket_memory.py``; numbers: docs/rest.md.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import h11
import trio
from hypercorn.events import Closed, RawData
from hypercorn.protocol import h11 as h11_protocol
from hypercorn.protocol import ws_stream
from hypercorn.trio import task_group, tcp_server
from wsproto.events import Ping

log = logging.getLogger(__name__)
_MARK = "_jibo_patched"
#: The ASGI extension (in ``scope["extensions"]``) and ``websocket.accept`` key by which an
#: app takes over its socket's keep-alive pings (see the module docstring).
PING_EXTENSION = "jibo.websocket.ping"
#: The ASGI message that sends one Ping frame (ignored once the socket is closing).
PING_MESSAGE = "jibo.websocket.ping"


def _replace(owner: Any, name: str, replacement: Any) -> None:
    """Install ``replacement`` as ``owner.name``, marked so :func:`install` stays idempotent."""
    setattr(replacement, _MARK, True)
    setattr(owner, name, replacement)


def install() -> None:
    """Apply the repairs (idempotent)."""
    _clear_buffer_on_too_large()
    _isolate_connection_failures()
    _first_ping_after_one_interval()
    _coalesce_response_writes()
    _app_driven_pings()
    _no_read_timer_without_read_timeout()
    _forget_h11_after_websocket_upgrade()


class _SwitchedProtocol:
    """What is left of a connection's h11 state machine once it switched to websocket: h11
    itself, in ``SWITCHED_PROTOCOL``, refuses every event with ``LocalProtocolError``."""

    def send(self, event: object) -> bytes:
        raise h11.LocalProtocolError(
            f"can't send {type(event).__name__}: the connection switched to websocket"
        )


_SWITCHED = _SwitchedProtocol()


def _forget_h11_after_websocket_upgrade() -> None:
    """Drop a websocket connection's h11 state once its 101 answer is out.

    hypercorn's ``H11WSConnection`` keeps the ``h11.Connection`` of the upgrade request for
    the socket's life, only to ``send`` through it; after the 101 (``SWITCHED_PROTOCOL``)
    h11 refuses every event, and websocket frames bypass it. That state (state machine,
    reader, writer, receive buffer) is ~0.9 KiB per idle socket (issue 4). The wrapper
    replaces it with :data:`_SWITCHED`, which refuses the same way. A refused upgrade (401
    through ``websocket.http.response``) never sends a 101, so it keeps h11 to the end.
    """
    connection_class = h11_protocol.H11WSConnection
    original = getattr(connection_class, "send", None)
    if getattr(original, _MARK, False):
        return
    if original is None or not hasattr(h11.InformationalResponse, "status_code"):
        raise RuntimeError("hypercorn's H11WSConnection changed shape; review hypercorn_fixes")

    @functools.wraps(original)
    def send(self: Any, event: Any) -> bytes:
        data: bytes = original(self, event)
        if isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            self.h11_connection = _SWITCHED
        return data

    _replace(connection_class, "send", send)


def _no_read_timer_without_read_timeout() -> None:
    """Read without a cancel scope when there is no ``read_timeout`` (our configuration).

    ``TCPServer._read_data`` wraps every read in ``trio.fail_after(read_timeout or inf)``;
    with no timeout that scope can never fire, yet an idle connection holds it for its
    whole life: a generator context manager, a cancel scope and its status with two sets,
    ~1 KiB per idle socket (issue 4). Same loop, same exceptions, minus the scope; with a
    ``read_timeout`` hypercorn's own loop runs unchanged.
    """
    server_class = tcp_server.TCPServer
    original = getattr(server_class, "_read_data", None)
    if getattr(original, _MARK, False):
        return
    if original is None or not hasattr(tcp_server, "MAX_RECV"):
        raise RuntimeError("hypercorn's TCPServer changed shape; review hypercorn_fixes")

    @functools.wraps(original)
    async def _read_data(self: Any) -> None:
        if self.config.read_timeout:
            await original(self)
            return
        while True:
            try:
                data = await self.stream.receive_some(tcp_server.MAX_RECV)
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                break
            await self.protocol.handle(RawData(bytes(data)))
            if data == b"":
                break
        await self.protocol.handle(Closed())

    _replace(server_class, "_read_data", _read_data)


def _app_driven_pings() -> None:
    """Let the app send its socket's pings (:data:`PING_EXTENSION`): no ping task for it.

    Wraps three methods without changing what they do for other apps: ``spawn_app`` adds
    the extension to websocket scopes; ``WSStream.app_send`` handles :data:`PING_MESSAGE`
    and notes an accept that takes the pings over; ``WSStream._send_pings`` (the task
    hypercorn spawns on accept, already delayed by :func:`_first_ping_after_one_interval`)
    returns at once for such a stream, so it is gone before the socket is idle.
    """
    stream_class = ws_stream.WSStream
    group_class = task_group.TaskGroup
    if getattr(stream_class.app_send, _MARK, False):
        return
    if (
        not hasattr(group_class, "spawn_app")
        or not hasattr(stream_class, "_send_pings")
        or not hasattr(stream_class, "_send_wsproto_event")
        or not hasattr(ws_stream, "ASGIWebsocketState")
    ):
        raise RuntimeError(
            "hypercorn's WSStream or TaskGroup changed shape; review hypercorn_fixes"
        )
    original_spawn_app = group_class.spawn_app
    original_app_send = stream_class.app_send
    original_send_pings = stream_class._send_pings
    connected = ws_stream.ASGIWebsocketState.CONNECTED

    @functools.wraps(original_spawn_app)
    async def spawn_app(self: Any, app: Any, config: Any, scope: Any, send: Any) -> Any:
        # Before the app task exists, so the app sees the extension in its first look.
        if scope.get("type") == "websocket" and isinstance(scope.get("extensions"), dict):
            scope["extensions"][PING_EXTENSION] = {}
        return await original_spawn_app(self, app, config, scope, send)

    @functools.wraps(original_app_send)
    async def app_send(self: Any, message: Any) -> None:
        if message is None:
            # The app has finished (hypercorn sends None after it returns): the socket needs
            # no more pings, so its ping task ends now instead of one interval later.
            ping_scope = getattr(self, "_jibo_ping_scope", None)
            if ping_scope is not None:
                ping_scope.cancel()
        else:
            kind = message.get("type")
            if kind == PING_MESSAGE:
                # What hypercorn's ping task does, minus the sleep: nothing once closing.
                if not self.closed and self.state == connected:
                    await self._send_wsproto_event(Ping())
                return
            if kind == "websocket.accept" and message.get(PING_EXTENSION) == "app":
                self._jibo_app_pings = True
        await original_app_send(self, message)

    @functools.wraps(original_send_pings)
    async def _send_pings(self: Any) -> None:
        if getattr(self, "_jibo_app_pings", False):
            return
        await original_send_pings(self)

    _replace(group_class, "spawn_app", spawn_app)
    _replace(stream_class, "app_send", app_send)
    _replace(stream_class, "_send_pings", _send_pings)


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

    _replace(protocol_class, "_send_h11_event", _send_h11_event)


def _first_ping_after_one_interval() -> None:
    stream_class = ws_stream.WSStream
    if getattr(stream_class._send_pings, _MARK, False):
        return
    if not hasattr(stream_class, "_send_pings") or not hasattr(stream_class, "_send_wsproto_event"):
        raise RuntimeError("hypercorn's WSStream changed shape; review hypercorn_fixes")

    async def _send_pings(self: Any) -> None:
        # The scope lets the app's end stop the pings (see _app_driven_pings' app_send):
        # otherwise the task sleeps out its interval after the socket closed, and hypercorn's
        # connection (its descriptor, and a graceful shutdown) waits for it.
        with trio.CancelScope() as scope:
            self._jibo_ping_scope = scope
            while True:
                await self.context.sleep(self.config.websocket_ping_interval)
                if self.closed:
                    return
                await self._send_wsproto_event(Ping())

    _replace(stream_class, "_send_pings", _send_pings)


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

    _replace(server_class, "run", run)


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

    _replace(buffer_class, "extend", extend)
