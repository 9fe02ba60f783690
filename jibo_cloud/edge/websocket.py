"""Websockets the edge serves itself: the handshake and the framing with wsproto, no ASGI.

A connection whose first request is a websocket upgrade to a path the router serves natively
(:meth:`jibo_cloud.router.Router.native_socket`: the hub's paths) never reaches hypercorn's
protocol classes: :func:`serve_native` runs the route's handler in the connection's own task
on a :class:`WebSocket`, the surface the hub's handlers use (``accept``, ``receive``, ``send``,
``close``; ``path``, ``host``, ``headers``, ``peer``). No ASGI event dicts, no app task, no
queue, no ping task: the task that waits in :meth:`WebSocket.receive` reads the stream itself
and sends the keep-alive Pings at their deadlines.

What a client sees is what it saw through hypercorn: the same ``101`` (permessage-deflate
when offered, hypercorn's ``date``/``server`` headers), a refusal before the upgrade is the
HTTP status with its plain-text reason (:class:`~jibo_cloud.errors.HandshakeRejected`,
PROTOCOL.md §4.1), a message over ``websocket_max_message_size`` is closed with 1009 (and
the partial message dropped, unlike hypercorn: docs/upstream-hypercorn.md), a handler that
raises closes its socket with 1011 (500 before the upgrade). The access middleware's work
for a websocket (the per-address handshake limit, the failed-authentication window, one
access-log line with the principal) is done here, through :class:`SocketAccess`.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import hypercorn.config
import trio
import wsproto.connection
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason
from wsproto.handshake import WEBSOCKET_VERSION, server_extensions_handshake
from wsproto.utilities import LocalProtocolError, generate_accept_token, split_comma_header

from jibo_cloud import access
from jibo_cloud.clientaddr import choose_client, joined_forwarded_for
from jibo_cloud.errors import HandshakeRejected, RobotClosed

log = logging.getLogger("jibo_cloud.edge")

#: The most one read takes from the socket (hypercorn's value).
MAX_RECV = 2**16

SocketHandler = Callable[[Any], Awaitable[None]]


class _State(enum.Enum):
    #: The upgrade request is read; no answer yet.
    HANDSHAKE = enum.auto()
    #: The 101 went out: frames both ways.
    OPEN = enum.auto()
    #: We sent a Close frame (nothing more goes out).
    CLOSING = enum.auto()
    #: Refused before the upgrade, or the peer closed (or dropped) the connection.
    CLOSED = enum.auto()


def is_websocket_upgrade(request: h11.Request) -> bool:
    """hypercorn's rule for an HTTP/1.1 request that opens a websocket (``GET``,
    ``Connection: upgrade``, ``Upgrade: websocket``)."""
    upgrade = connection = b""
    for name, value in request.headers:  # h11 lower-cases the names
        if name == b"upgrade":
            upgrade = value.strip()
        elif name == b"connection":
            connection = value.strip()
    return (
        request.method == b"GET"
        and upgrade.lower() == b"websocket"
        and any(token.strip() == b"upgrade" for token in connection.lower().split(b","))
    )


def is_valid_upgrade(request: h11.Request, headers: dict[str, str]) -> bool:
    """hypercorn's check of an upgrade's handshake headers (a key, version 13, HTTP/1.1);
    an invalid one is answered 400 before any handler or limit sees it."""
    return (
        request.http_version == b"1.1"
        and bool(headers.get("sec-websocket-key"))
        and headers.get("sec-websocket-version", "").encode() == WEBSOCKET_VERSION
    )


class WebSocket:
    """One websocket served by the edge (see the module docstring).

    ``receive`` is for one task at a time (the socket's reader); ``send``, ``close`` and
    ``ping`` may come from any task, one write at a time. Slotted: a hub socket lives one
    turn and a server holds thousands.
    """

    __slots__ = (
        "_h11",
        "_max_message",
        "_parts",
        "_pending",
        "_ping_at",
        "_ping_interval",
        "_response_headers",
        "_size",
        "_state",
        "_stream",
        "_waiters",
        "_writing",
        "_ws",
        "bytes_in",
        "bytes_out",
        "close_code",
        "headers",
        "host",
        "path",
        "peer",
        "raw_headers",
        "status",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        handshake: h11.Connection,
        request: h11.Request,
        path: str,
        peer: str | None,
        *,
        max_message: int,
        ping_interval: float,
        response_headers: list[tuple[bytes, bytes]],
    ) -> None:
        self._stream = stream
        #: The upgrade request's parser; answers the 101 or the refusal, then dropped.
        self._h11: h11.Connection | None = handshake
        self._ws: wsproto.connection.Connection | None = None
        self._state = _State.HANDSHAKE
        #: A write is on its way; later writers park in ``_waiters`` (made only then).
        self._writing = False
        self._waiters: trio.lowlevel.ParkingLot | None = None
        self._pending: collections.deque[Event] = collections.deque()
        self._parts: list[Any] | None = None
        self._size = 0
        self._max_message = max_message
        self._ping_interval = ping_interval
        self._ping_at = math.inf
        self._response_headers = response_headers
        self.path = path
        self.raw_headers: list[tuple[bytes, bytes]] = list(request.headers)
        #: Lower-cased names; the last of repeated headers wins (as the ASGI sockets had it).
        self.headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in self.raw_headers
        }
        self.host = self.headers.get("host", "")
        self.peer = peer
        #: For the access log: the handshake's status (101, or the refusal's), the close
        #: code (the first Close either side sent; 1006 when the connection dropped) and the
        #: message bytes each way.
        self.status = 0
        self.close_code: int | None = None
        self.bytes_in = 0
        self.bytes_out = 0

    # -- the handshake ----------------------------------------------------------------------

    async def accept(self) -> None:
        """Answer the upgrade with ``101 Switching Protocols`` (permessage-deflate when the
        client offers it, as hypercorn did)."""
        handshake = self._h11
        if self._state is not _State.HANDSHAKE or handshake is None:
            raise RuntimeError("accept() twice, or after a refusal")
        key = self.headers.get("sec-websocket-key", "")
        headers: list[tuple[bytes, bytes]] = []
        extensions: list[Any] = []
        offers = self.headers.get("sec-websocket-extensions")
        if offers:
            deflate = PerMessageDeflate()
            accepts = server_extensions_handshake(split_comma_header(offers.encode()), [deflate])
            if accepts:
                headers.append((b"sec-websocket-extensions", accepts))
                extensions.append(deflate)
        headers.append((b"sec-websocket-accept", generate_accept_token(key.encode())))
        headers += [(b"upgrade", b"WebSocket"), (b"connection", b"Upgrade")]
        headers += self._response_headers
        head = handshake.send(h11.InformationalResponse(status_code=101, headers=headers))
        trailing = handshake.trailing_data[0]
        self._h11 = None
        self._ws = wsproto.connection.Connection(
            wsproto.connection.ConnectionType.SERVER, extensions
        )
        self._state = _State.OPEN
        self.status = 101
        if trailing:  # frames the client sent before our 101 (none do, but they are its)
            self._feed(trailing)
        if self._ping_interval > 0:
            self._ping_at = trio.current_time() + self._ping_interval
        if not await self._write(head):
            self._gone(CloseReason.ABNORMAL_CLOSURE)

    async def refuse(self, status: int, reason: str, *, keep_quiet: bool = False) -> None:
        """Answer the upgrade with ``status`` and ``reason`` as plain text (§4.1); the
        connection closes after it. ``keep_quiet``: hypercorn's bare answer (no body,
        ``connection: close``) for a malformed upgrade or a handler that failed."""
        handshake = self._h11
        if self._state is not _State.HANDSHAKE or handshake is None:
            raise RuntimeError("refuse() after the handshake was answered")
        if keep_quiet:
            body = b""
            headers = [(b"content-length", b"0"), (b"connection", b"close")]
        else:
            body = reason.encode()
            headers = [(b"content-type", b"text/plain"),
                       (b"content-length", str(len(body)).encode())]  # fmt: skip
        await self.refuse_with(status, headers + self._response_headers, body)

    async def refuse_with(
        self, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        """Answer the upgrade with any final HTTP response (the access limits' 429)."""
        handshake = self._h11
        if self._state is not _State.HANDSHAKE or handshake is None:
            raise RuntimeError("refuse() after the handshake was answered")
        data = handshake.send(h11.Response(status_code=status, headers=headers))
        if body:
            data += handshake.send(h11.Data(data=body))
        data += handshake.send(h11.EndOfMessage())
        self._h11 = None
        self._state = _State.CLOSED
        self.status = status
        await self._write(data)

    # -- frames -----------------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The peer's next message: ``str`` for text, ``bytes`` for binary. Answers its
        Pings, and sends our keep-alive Pings while it waits.

        Raises:
            RobotClosed: the peer closed the socket or the connection dropped (also after
                our own Close: the rest of the peer's frames are not for the handler).
        """
        pending = self._pending
        while True:
            while pending:
                event = pending[0]
                if isinstance(event, Message):
                    pending.popleft()
                    if self._state is not _State.OPEN:
                        continue  # after our Close (a 1009 too): not for the handler
                    message = self._assemble(event)
                    if message is not None:
                        return message
                    if self._size > self._max_message:
                        await self._too_big()
                elif isinstance(event, Ping):
                    await self._send_event(event.response())
                    pending.popleft()
                elif isinstance(event, CloseConnection):
                    ws = self._ws
                    assert ws is not None
                    if ws.state is wsproto.connection.ConnectionState.REMOTE_CLOSING:
                        await self._send_event(event.response())
                    pending.popleft()
                    self._gone(event.code)
                else:  # Pong
                    pending.popleft()
            if self._state is _State.CLOSED:
                raise RobotClosed("robot closed first")
            if self._ws is None:
                raise RuntimeError("receive() before accept()")
            data = await self._read()
            if not data:
                self._gone(CloseReason.ABNORMAL_CLOSURE)
                continue
            self._feed(data)

    def _feed(self, data: bytes | None) -> None:
        ws = self._ws
        assert ws is not None
        try:
            ws.receive_data(data)
        except LocalProtocolError:  # data after the peer's Close: nobody reads it
            return
        self._pending.extend(ws.events())

    def _assemble(self, event: Message[Any]) -> str | bytes | None:
        """A whole message; None while its fragments arrive, or when it is over the cap
        (``_size`` then says so)."""
        parts = self._parts
        if parts is None:
            if event.message_finished:  # one frame: the usual case
                data = event.data
                self._size = len(data)
                if self._size > self._max_message:
                    return None
                if isinstance(event, BytesMessage):
                    self.bytes_in += self._size
                    return bytes(data)
                self.bytes_in += _utf8(data)
                return str(data)
            parts = self._parts = []
            self._size = 0
        self._size += len(event.data)
        if self._size > self._max_message:
            self._parts = None  # dropped whole (hypercorn kept the half: a crash later)
            return None
        parts.append(event.data)
        if not event.message_finished:
            return None
        self._parts = None
        if isinstance(event, TextMessage):
            text = "".join(parts)
            self.bytes_in += _utf8(text)
            return text
        joined = b"".join(parts)
        self.bytes_in += len(joined)
        return joined

    async def _too_big(self) -> None:
        """A message over the cap: close with 1009, then read on until the peer's Close."""
        self._size = 0
        if self._state is _State.OPEN:
            await self.close(CloseReason.MESSAGE_TOO_BIG)

    async def _read(self) -> bytes:
        """The next bytes; sends our keep-alive Ping when it is due while we wait. The wait is
        put under the Ping's deadline only when it can matter: not when the socket's own
        deadline comes first (a hub socket after its final frame)."""
        receive_some = self._stream.receive_some
        while True:
            ping_at = self._ping_at
            if ping_at == math.inf or ping_at >= trio.current_effective_deadline():
                try:
                    return bytes(await receive_some(MAX_RECV))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return b""
            with trio.move_on_at(self._ping_at):
                try:
                    return bytes(await receive_some(MAX_RECV))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return b""
            self._ping_at = trio.current_time() + self._ping_interval
            await self.ping()

    def _gone(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = int(code)
        self._state = _State.CLOSED
        self._ping_at = math.inf

    async def send(self, frame: str | bytes) -> None:
        """Send one message. Once the peer has closed or the connection broke, messages are
        dropped (as ASGI servers drop them): the reader learns of it from :meth:`receive`.

        Raises:
            trio.ClosedResourceError: we closed the socket (or never accepted it).
        """
        state = self._state
        if state is not _State.OPEN:
            if state is _State.CLOSED and self.status == 101:
                return
            raise trio.ClosedResourceError("the websocket is closed")
        ws = self._ws
        assert ws is not None
        if isinstance(frame, str):
            data = ws.send(TextMessage(data=frame))
            self.bytes_out += _utf8(frame)
        else:
            data = ws.send(BytesMessage(data=frame))
            self.bytes_out += len(frame)
        if not await self._write(data):
            self._gone(CloseReason.ABNORMAL_CLOSURE)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a Close frame (nothing when the socket is not open: refused, closing, or
        closed by the peer); the connection closes when the handler returns."""
        if self._state is not _State.OPEN:
            return
        if self.close_code is None:
            self.close_code = int(code)
        self._state = _State.CLOSING
        self._ping_at = math.inf
        await self._send_event(CloseConnection(code=code, reason=reason or None))

    async def ping(self) -> bool:
        """Send one Ping frame if the socket is open (False, and nothing sent, if not)."""
        if self._state is not _State.OPEN:
            return False
        return await self._send_event(Ping())

    async def _send_event(self, event: Event) -> bool:
        ws = self._ws
        assert ws is not None
        try:
            data = ws.send(event)
        except LocalProtocolError:  # e.g. a Pong after our own Close
            return False
        return await self._write(data)

    async def _write(self, data: bytes) -> bool:
        """Write ``data`` whole, after any write on its way; False if the connection is
        broken or closed. Writers take turns in arrival order; the parking lot exists only
        while one waits (idle sockets keep none, and an uncontended write takes no lock)."""
        if self._writing:
            lot = self._waiters
            if lot is None:
                lot = self._waiters = trio.lowlevel.ParkingLot()
            await lot.park()  # the writer before us hands its turn over: _writing stays set
        else:
            self._writing = True
        try:
            return await self._send_whole(data)
        finally:
            lot = self._waiters
            if lot:  # someone waits: the turn passes to the first
                lot.unpark()
            else:
                self._waiters = None
                self._writing = False

    async def _send_whole(self, data: bytes) -> bool:
        """Send ``data``; a cancel never cuts a frame in half. On a TCP stream the first
        ``send`` is tried directly: it is cancellable only before any byte left, and a frame
        that fits the kernel's buffer (nearly every one) needs nothing more, so the usual
        write enters no cancel scope (docs/hub.md). What is left, and any write on another
        stream (TLS), is sent shielded."""
        stream = self._stream
        try:
            if isinstance(stream, trio.SocketStream):
                sent = await stream.socket.send(data)
                if sent == len(data):
                    return True
                data = data[sent:]
            with trio.CancelScope(shield=True):
                await stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return False
        return True


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class SocketAccess:
    """The access middleware's websocket work for the edge's own sockets: the same limits
    and the same log line (jibo_cloud/access.py; its ASGI half serves every other request).
    """

    __slots__ = ("middleware",)

    def __init__(self, middleware: access.AccessMiddleware) -> None:
        self.middleware = middleware

    def client(self, sock: WebSocket) -> str:
        """The client address by the one rule (:mod:`jibo_cloud.clientaddr`)."""
        forwarding = self.middleware.forwarding
        if not forwarding.trust_forwarded:
            return choose_client(sock.peer, None, trust_forwarded=False)
        return choose_client(
            sock.peer,
            joined_forwarded_for(sock.raw_headers),
            trust_forwarded=True,
            trusted_proxies=forwarding.trusted_proxies,
        )


async def serve_native(
    handler: SocketHandler, sock: WebSocket, socket_access: SocketAccess | None
) -> None:
    """Run one native websocket: the access checks, the route's handler, the access line.

    Never raises but for cancellation: a handler's bug is logged and closes this socket
    only (1011, or 500 before the upgrade).
    """
    middleware = socket_access.middleware if socket_access is not None else None
    started = trio.current_time()
    record = entry = None
    if middleware is not None and socket_access is not None:
        record = access.RequestRecord(socket_access.client(sock), middleware.limits)
        # The middleware's own entry and verdict, so the line is the one it writes for
        # every other socket and request.
        scope = {"type": "websocket", "path": sock.path}
        entry = middleware.entry(scope, record, middleware.now_ms())
        wait = middleware.limits.admit_handshake(record.client, started)
        if wait:
            headers, body = access.throttled_answer(middleware.limits, record.client, started, wait)
            await sock.refuse_with(429, headers, body)
            entry.update({"in": 0, "out": 0})
            middleware.finish(entry, record, 429, started)
            return
    token = access.serving(record) if record is not None else None
    try:
        await _run_handler(handler, sock)
    except Exception:
        log.exception("socket handler failed; closed that socket only")
        if sock._state is _State.HANDSHAKE:
            await sock.refuse(500, "", keep_quiet=True)
        else:
            await sock.close(CloseReason.INTERNAL_ERROR)
    finally:
        if token is not None:
            access.served(token)
        if middleware is not None and record is not None and entry is not None:
            entry.update({"in": sock.bytes_in, "out": sock.bytes_out})
            if sock.close_code is not None:
                entry["close"] = sock.close_code
            middleware.finish(entry, record, sock.status or 500, started)


async def _run_handler(handler: SocketHandler, sock: WebSocket) -> None:
    try:
        await handler(sock)
    except HandshakeRejected as rejected:
        if sock._state is not _State.HANDSHAKE:
            raise  # a refusal after the upgrade is a bug: below, as any other
        await sock.refuse(rejected.status, rejected.reason)
    except RobotClosed:
        pass  # a handler that lets the peer's close end it


def response_headers(config: hypercorn.config.Config) -> list[tuple[bytes, bytes]]:
    """The headers hypercorn adds to every HTTP/1.1 answer (``date``, ``server``)."""
    return config.response_headers("h11")
