"""The hub's sockets as bare ASGI websocket handlers, below Quart.

:func:`asgi_handler` turns a hub socket handler (the one
:class:`~jibo_cloud.hub.routes.HubRoutes` builds, taking a socket with
``accept``/``receive``/``send``/``close``) into an ASGI websocket app, with
:class:`AsgiSocket` as the socket: the same admission (a
:class:`~jibo_cloud.errors.HandshakeRejected` becomes the HTTP refusal with its plain-text
reason, PROTOCOL.md §4.1), the same runner. Quart's per-socket work (its websocket context,
the request globals, its own tasks and queues, werkzeug's URL match for the catch-all route)
is about a quarter of a turn's CPU on this stack (docs/hub.md "Where a turn's CPU goes"),
and a hub socket lives for one turn.

The robot closing first: :meth:`AsgiSocket.receive` raises :class:`RobotClosed` (where
quart-trio would cancel the handler), and nothing more is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hub.session import RobotClosed
from jibo_cloud.router import refuse_upgrade

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Mapping[str, Any], Receive, Send], Awaitable[None]]


@attrs.define(eq=False)
class AsgiSocket:
    """One hub websocket over ASGI ``receive``/``send`` (the surface of ``QuartSocket``)."""

    receive_event: Receive
    send_event: Send
    path: str
    host: str
    headers: Mapping[str, str]
    peer: str | None
    accepted: bool = False
    gone: bool = False

    @classmethod
    def of(cls, scope: Mapping[str, Any], receive: Receive, send: Send) -> AsgiSocket:
        headers = {
            bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
            for k, v in scope.get("headers", ())
        }
        client = scope.get("client")
        return cls(
            receive_event=receive,
            send_event=send,
            path=str(scope.get("path", "/")),
            host=headers.get("host", ""),
            headers=headers,
            peer=str(client[0]) if client else None,
        )

    async def accept(self) -> None:
        await self.send_event({"type": "websocket.accept"})
        self.accepted = True

    async def receive(self) -> str | bytes:
        """The robot's next frame: ``str`` for text, ``bytes`` for binary.

        Raises:
            RobotClosed: the robot closed the socket (or the connection dropped).
        """
        event = await self.receive_event()
        if event["type"] == "websocket.receive":
            text = event.get("text")
            if text is not None:
                return str(text)
            return bytes(event.get("bytes") or b"")
        self.gone = True
        raise RobotClosed("robot closed first")

    async def send(self, frame: str | bytes) -> None:
        if isinstance(frame, str):
            await self.send_event({"type": "websocket.send", "text": frame})
        else:
            await self.send_event({"type": "websocket.send", "bytes": frame})

    async def close(self, code: int, reason: str = "") -> None:
        if self.accepted and not self.gone:
            await self.send_event({"type": "websocket.close", "code": code, "reason": reason})


def asgi_handler(handle: Callable[[Any], Awaitable[None]]) -> ASGIApp:
    """The ASGI websocket app serving one hub path with ``handle`` (see the module)."""

    async def serve_hub_socket(scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        sock = AsgiSocket.of(scope, receive, send)
        try:
            await handle(sock)
        except HandshakeRejected as rejected:
            if sock.accepted:
                raise
            await refuse_upgrade(scope, send, rejected)

    return serve_hub_socket
