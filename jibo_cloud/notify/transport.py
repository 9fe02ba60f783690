"""The notification socket's transports: bare ASGI below Quart (:func:`serve_asgi`, every
notification socket the router sends here) and Quart's websocket (:func:`serve_quart`).

Both do the same: check the token before the upgrade (401/429/503 with a plain-text reason),
accept, then hold the socket in :meth:`NotificationHub.hold` until the robot closes, dropping
what it sends (PROTOCOL.md §3: nothing needs an answer) and never sending anything
unsolicited (a made-up greeting crashed the robot's notification manager).

Memory: every booted robot holds one of these all day, so the bare ASGI path keeps only the
frames it needs while idle, and sends its own keep-alive pings from the same task (no ping
task per socket); see docs/rest.md "Performance".
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from jibo_cloud.access import note_principal
from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hypercorn_fixes import PING_EXTENSION, PING_MESSAGE
from jibo_cloud.wsio import QuartSocket

if TYPE_CHECKING:
    from jibo_cloud.notify.hub import NotificationHub

log = logging.getLogger("jibo_cloud.notify")

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]


async def serve_asgi(
    hub: NotificationHub, scope: Mapping[str, Any], receive: ASGIReceive, send: ASGISend
) -> None:
    """The notification socket as a bare ASGI websocket, below Quart.

    Every booted robot holds one all day; Quart's websocket machinery costs ~17 KiB per
    socket on top of hypercorn's, which puts 10,000 sockets over budget.

    Keep-alive: where the server offers :data:`PING_EXTENSION`, this task sends the Ping
    every ``config.ping_interval`` seconds, the first one interval after the accept, instead
    of the server keeping a ping task per socket. Elsewhere the server's own pings (if any)
    are left alone.
    """
    await receive()  # websocket.connect
    try:
        record = await hub.check_token(str(scope.get("path", "/")))
        note_principal(f"robot:{record.robot_name}")
        key = hub.admit(record)
    except HandshakeRejected as rejected:
        log.info("socket refused: %s %s", rejected.status, rejected.reason)
        await _deny(scope, send, rejected)
        return
    # An idle socket's frames keep only what they need (memory per socket).
    robot_name, account_id = record.robot_name, record.account_id
    del record
    try:
        await _accept_and_hold(hub, scope, receive, send, robot_name, account_id)
    finally:
        hub.release(key, robot_name)


async def _accept_and_hold(
    hub: NotificationHub, scope: Mapping[str, Any], receive: ASGIReceive, send: ASGISend,
    robot_name: str, account_id: str | None,
) -> None:  # fmt: skip
    interval = hub.runtime.config.ping_interval
    if PING_EXTENSION in scope.get("extensions", {}) and interval > 0:
        await send({"type": "websocket.accept", PING_EXTENSION: "app"})
        first_ping = trio.current_time() + interval
    else:
        await send({"type": "websocket.accept"})
        first_ping = math.inf
    await hub.hold(
        robot_name, account_id, functools.partial(_asgi_send_text, send),
        _hold_asgi(receive, send, first_ping, interval),
    )  # fmt: skip


async def serve_quart(hub: NotificationHub, sock: QuartSocket) -> None:
    """The notification socket through Quart's websocket (a handler of the router)."""
    record = await hub.check_token(sock.path)
    note_principal(f"robot:{record.robot_name}")
    key = hub.admit(record)
    try:
        await sock.accept()

        async def until_closed() -> None:
            while True:
                await sock.receive()  # §3: nothing the robot sends needs an answer

        send_text = functools.partial(_quart_send_text, sock)
        await hub.hold(record.robot_name, record.account_id, send_text, until_closed())
    finally:
        hub.release(key, record.robot_name)


async def _asgi_send_text(send: ASGISend, frame: str | int) -> None:
    if isinstance(frame, int):  # a close code
        await send({"type": "websocket.close", "code": frame})
    else:
        await send({"type": "websocket.send", "text": frame})


async def _quart_send_text(sock: QuartSocket, frame: str | int) -> None:
    if isinstance(frame, int):  # a close code
        await sock.close(frame)
    else:
        await sock.send(frame)


async def _hold_asgi(
    receive: ASGIReceive, send: ASGISend, first_ping: float, interval: float
) -> None:
    """Until the robot closes: drop what it sends (PROTOCOL.md §3: nothing needs an answer)
    and send a keep-alive Ping at ``first_ping``, then every ``interval`` seconds. A
    module-level coroutine rather than a closure: no function object and cells per idle
    socket."""
    ping_at = first_ping
    while True:
        with trio.move_on_at(ping_at):
            while (await receive())["type"] != "websocket.disconnect":
                pass
            return
        await send({"type": PING_MESSAGE})  # a no-op once the socket is closing
        ping_at = trio.current_time() + interval


async def _deny(scope: Mapping[str, Any], send: ASGISend, rejected: HandshakeRejected) -> None:
    """Refuse the upgrade with the HTTP status and plain-text reason (as the router does)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = rejected.reason.encode()
    await send({
        "type": "websocket.http.response.start", "status": rejected.status,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "websocket.http.response.body", "body": body})
