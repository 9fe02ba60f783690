"""One accepted connection, served with hypercorn's protocol classes: our copy of hypercorn's
``TCPServer`` (hypercorn 0.17/0.18 ``hypercorn/trio/tcp_server.py``), with what we need to differ.

- **Isolation.** hypercorn runs every connection in the listener's nursery, so an exception
  escaping one connection's protocol code ends the whole server (the half-filled websocket
  buffer did: docs/upstream-hypercorn.md). :meth:`Connection.run` logs it and closes that
  connection only; cancellation still propagates, so graceful shutdown is unchanged.
- **TLS handshakes.** A failed handshake is one rate-limited WARNING line with the client's
  address and OpenSSL's reason (:mod:`.handshakes`); hypercorn drops it silently.
- **One write per small answer.** hypercorn writes a response's head, each body chunk and the
  (for a Content-Length body, empty) end of message separately. Here a final response's head
  is held and written with the next write (its first body chunk, or the end of the message),
  and empty writes are skipped: a robot's REST answer is one ``send()``, not three trips
  through the send lock (``python -m bench boot``, "floor").
- **No read timer without a read timeout.** hypercorn wraps every read in
  ``fail_after(read_timeout or inf)``: a scope that can never fire, held by every idle socket
  for its whole life (~1 KiB each). Without a ``read_timeout`` (our configuration) reads are
  bare.
- **Websockets of our own** (:mod:`.websocket`): when the connection's first request is a
  websocket upgrade to a path the router serves natively (the hub's and the notification
  socket), the connection serves it itself (wsproto, in this task, keep-alive Pings
  included) and hypercorn's protocol classes never see it. Everything else (the request
  bytes read so far, then the rest) goes to hypercorn as before; the router accepts no
  websocket through ASGI (it refuses them), so hypercorn never switches a connection to
  websocket.
"""

from __future__ import annotations

import contextlib
import logging
from math import inf
from typing import Any
from urllib.parse import unquote

import h11
import hypercorn.config
import trio
from hypercorn.events import Closed, Event, RawData, Updated
from hypercorn.protocol import ProtocolWrapper
from hypercorn.trio.task_group import TaskGroup
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    ConnectionState,
    Scope,
)
from hypercorn.utils import parse_socket_addr

from jibo_cloud.edge.handshakes import HandshakeLog, handshake_failure_reason
from jibo_cloud.edge.websocket import (
    SocketAccess,
    WebSocket,
    is_valid_upgrade,
    is_websocket_upgrade,
    serve_native,
)
from jibo_cloud.router import Router

log = logging.getLogger("jibo_cloud.edge")

#: The most one read takes from the socket (hypercorn's value).
MAX_RECV = 2**16

Stream = trio.SocketStream | trio.SSLStream[trio.SocketStream]


class NativeSockets:
    """What a connection needs to serve websockets itself: the router (which paths, which
    handler) and the access middleware's websocket half. One per server."""

    __slots__ = ("access", "router", "waiting")

    def __init__(self, router: Router, socket_access: SocketAccess | None) -> None:
        self.router = router
        self.access = socket_access
        #: The read scopes of connections waiting for their first request: cancelled when
        #: the server shuts down (an idle connection closes at once, as hypercorn's do).
        self.waiting: set[trio.CancelScope] = set()

    def shut_down(self) -> None:
        for scope in self.waiting:
            scope.cancel()


class Connection:
    """Serve one accepted stream until it closes (see the module docstring).

    Slotted: 10,000 idle notification sockets each keep one.
    """

    __slots__ = (
        "_half_close",
        "_held",
        "app",
        "config",
        "context",
        "handshakes",
        "idle_scope",
        "native",
        "protocol",
        "send_lock",
        "state",
        "stream",
        "task_group",
    )

    def __init__(
        self,
        app: ASGIFramework,
        config: hypercorn.config.Config,
        context: WorkerContext,
        state: ConnectionState,
        handshakes: HandshakeLog,
        stream: Stream,
        native: NativeSockets | None = None,
    ) -> None:
        self.app = app
        self.native = native
        self.config = config
        self.context = context
        self.state = state
        self.handshakes = handshakes
        self.stream = stream
        self.protocol: ProtocolWrapper
        self.task_group: TaskGroup
        #: Held while a write is on its way; None while nobody writes or waits (see _send).
        self.send_lock: trio.Lock | None = None
        #: The running idle timer's scope (None: busy, e.g. an open websocket).
        self.idle_scope: trio.CancelScope | None = None
        self._held = b""
        #: Send our FIN before closing, so the peer reads all of an HTTP answer (a close
        #: with unread input would reset the connection); not after a websocket's closing
        #: handshake, where nothing is left to read (the shutdown call failed on every hub
        #: turn whose robot had already gone: an exception and a scope per turn).
        self._half_close = True

    async def run(self) -> None:
        """Handshake (TLS), then feed what arrives to hypercorn's protocol until the
        connection closes. Never raises but for cancellation; the stream is closed on return.
        """
        stream = self.stream
        if isinstance(stream, trio.SSLStream):
            try:
                with trio.fail_after(self.config.ssl_handshake_timeout):
                    await stream.do_handshake()
            except (trio.BrokenResourceError, trio.TooSlowError) as exc:
                peer = _peer_address(stream.transport_stream.socket)
                self.handshakes.failed(peer, handshake_failure_reason(exc))
                await trio.aclose_forcefully(stream)
                return
            alpn_protocol = stream.selected_alpn_protocol() or "http/1.1"
            sock = stream.transport_stream.socket
            ssl = True
        else:
            alpn_protocol = "http/1.1"
            sock = stream.socket
            ssl = False
        try:
            client = parse_socket_addr(sock.family, sock.getpeername())
            server = parse_socket_addr(sock.family, sock.getsockname())
            first = b""
            if self.native is not None:
                first = await self._first_request(client)
                if not first:  # served here, or gone
                    return
            async with TaskGroup() as task_group:
                self.task_group = task_group
                self.protocol = ProtocolWrapper(
                    self._call_app, self.config, self.context, task_group, self.state,
                    ssl, client, server, self.protocol_send, alpn_protocol,
                )  # fmt: skip
                await self.protocol.initiate()
                self._restart_idle_timer()
                if first:
                    data, first = first, b""  # not kept by an idle socket's frame
                    await self.protocol.handle(RawData(data))
                    del data
                await self._read_data()
        except OSError:
            pass  # the peer is gone
        except Exception:
            # One connection's bug (hypercorn's or ours): that connection only.
            log.exception("a connection failed in the HTTP layer; closed that connection only")
        finally:
            await self._close()

    async def _first_request(self, client: tuple[str, int] | None) -> bytes:
        """Read until the first request shows what it is. Returns the bytes read, for
        hypercorn, unless the request was a websocket this connection served itself or the
        connection ended first (b"")."""
        native = self.native
        assert native is not None
        receive_some = self.stream.receive_some
        data = b""
        scope = trio.CancelScope(deadline=trio.current_time() + (self.config.keep_alive_timeout
                                                                  or inf))  # fmt: skip
        native.waiting.add(scope)
        try:
            with scope:
                while True:
                    try:
                        chunk = await receive_some(MAX_RECV)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        return b""
                    if not chunk:
                        return b""
                    data += chunk
                    verdict = _upgrade_head(data, self.config.h11_max_incomplete_size)
                    if verdict is not _MORE:
                        break
        finally:
            native.waiting.discard(scope)
        if scope.cancelled_caught:
            return b""  # no complete request in time, or the server is shutting down
        if verdict is _NOT_OURS:
            return data
        handshake = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
        )
        try:
            handshake.receive_data(data)
            request = handshake.next_event()
        except h11.RemoteProtocolError:
            return data  # hypercorn answers it (400)
        if not isinstance(request, h11.Request) or not is_websocket_upgrade(request):
            return data
        raw_path = request.target.partition(b"?")[0]
        try:
            path = unquote(raw_path.decode("ascii"))
        except UnicodeDecodeError:
            return data
        host = ""
        for name, value in request.headers:
            if name == b"host":
                host = value.decode("latin-1")
        route = native.router.native_socket(host, path)
        if route is None or route.socket is None:
            return data
        interval = native.router.ping_interval if route.keep_alive else 0.0
        sock = WebSocket(
            self.stream, handshake, request, path, str(client[0]) if client else None,
            max_message=self.config.websocket_max_message_size, ping_interval=interval,
            response_headers=self.config.response_headers("h11"),
        )  # fmt: skip
        if not is_valid_upgrade(request, sock.headers):
            await sock.refuse(400, "", keep_quiet=True)
        else:
            await serve_native(route.socket, sock, native.access)
            if sock.close_code is not None:  # Close frames exchanged, or the peer dropped
                self._half_close = False
        return b""

    async def _call_app(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable,
        sync_spawn: Any, call_soon: Any,
    ) -> None:  # fmt: skip
        """hypercorn's app call (its ``AppWrapper`` shape) of our ASGI app."""
        await self.app(scope, receive, send)

    async def protocol_send(self, event: Event) -> None:
        """What hypercorn's protocol sends us: bytes to write, a close, or idle/busy."""
        if isinstance(event, RawData):
            await self._write(event.data)
        elif isinstance(event, Closed):
            await self._close()
            await self.protocol.handle(Closed())
        elif isinstance(event, Updated):
            if event.idle:
                self._restart_idle_timer()
            elif self.idle_scope is not None:
                self.idle_scope.cancel()
                self.idle_scope = None

    async def _write(self, data: bytes) -> None:
        if not self._held and data.startswith(b"HTTP/1.1 ") and data[9:10] != b"1":
            self._held = data  # a final answer's head: goes out with what follows
            return
        if self._held:
            data, self._held = self._held + data, b""
        if data and not await self._send(data):
            await self.protocol.handle(Closed())

    async def _send(self, data: bytes) -> bool:
        """Write ``data`` whole (shielded: a cancel never cuts it in half), after any write on
        its way; False if the stream is broken or closed.

        The lock exists only while a write is on its way or waited for: 10,000 idle sockets
        keep none (a ``trio.Lock`` is ~0.3 KiB)."""
        lock = self.send_lock
        if lock is None:
            lock = self.send_lock = trio.Lock()
        try:
            async with lock:
                with trio.CancelScope(shield=True):
                    await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        except trio.BusyResourceError:
            # _close's send_eof (not under the lock: a stuck write must not hold up a close)
            # is on its way: the connection is closing, so this write is as good as closed.
            return False
        finally:
            if self.send_lock is lock and not lock.locked() and not lock.statistics().tasks_waiting:
                self.send_lock = None
        return True

    async def _read_data(self) -> None:
        read_timeout = self.config.read_timeout
        receive_some = self.stream.receive_some
        while True:
            try:
                if read_timeout:
                    with trio.fail_after(read_timeout):
                        data = await receive_some(MAX_RECV)
                else:
                    data = await receive_some(MAX_RECV)
            except (trio.ClosedResourceError, trio.BrokenResourceError, trio.TooSlowError):
                break
            await self.protocol.handle(RawData(bytes(data)))
            if not data:
                break
        await self.protocol.handle(Closed())

    async def _close(self) -> None:
        if self._half_close and isinstance(self.stream, trio.SocketStream):
            gone = (trio.BrokenResourceError, trio.BusyResourceError, trio.ClosedResourceError)
            with contextlib.suppress(*gone):
                await self.stream.send_eof()
        await self.stream.aclose()

    def _restart_idle_timer(self) -> None:
        """Close the connection if no request (or no next keep-alive request) arrives within
        ``keep_alive_timeout``, or at once when the server shuts down. A scope we cancel,
        not hypercorn's ``TrioSingleTask`` (a lock and a dict more per connection, for life).
        """
        if self.idle_scope is not None:
            self.idle_scope.cancel()
        self.idle_scope = trio.CancelScope()
        self.task_group.spawn(self._idle_timeout, self.idle_scope)

    async def _idle_timeout(self, scope: trio.CancelScope) -> None:
        with scope:
            with trio.move_on_after(self.config.keep_alive_timeout or inf):
                await self.context.terminated.wait()
            with trio.CancelScope(shield=True):
                await self.protocol.handle(Closed())
                await self.stream.aclose()


#: What :func:`_upgrade_head` says of the bytes read so far.
_MORE = "more"  # a GET whose head is not complete yet
_NOT_OURS = "hypercorn"  # anything but a websocket upgrade: hypercorn serves it
_UPGRADE = "upgrade"  # a complete head naming websocket: parse it


def _upgrade_head(data: bytes, limit: int) -> str:
    """A cheap look at a connection's first bytes: only a ``GET`` whose head mentions
    ``websocket`` is parsed here; everything else goes to hypercorn untouched."""
    if not data.startswith(b"GET "):
        return _MORE if len(data) < 4 and b"GET ".startswith(data) else _NOT_OURS
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return _MORE if len(data) <= limit else _NOT_OURS
    return _UPGRADE if b"websocket" in data[:end].lower() else _NOT_OURS


def _peer_address(sock: trio.socket.SocketType) -> str:
    try:
        peer = sock.getpeername()
    except OSError:
        return "an unknown address"
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)
