"""The notification socket's transport: a bare ASGI websocket handler of the router, below
Quart (:func:`serve_asgi`).

It checks the token before the upgrade (401/429/503 with a plain-text reason), accepts,
then holds the socket in :meth:`NotificationHub.hold` until the robot closes, dropping
what it sends (PROTOCOL.md §3: nothing needs an answer) and never sending anything
unsolicited (a made-up greeting crashed the robot's notification manager).

Memory: every booted robot holds one of these all day, so it keeps only the frames it needs
while idle, and sends its own keep-alive pings from the same task through the server's
:class:`~jibo_cloud.edge.pings.Pinger` (no ping task per socket); see docs/rest.md
"Performance".
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio

from jibo_cloud import metrics
from jibo_cloud.access import note_principal
from jibo_cloud.edge.pings import Pinger, pinger_of
from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.logs import trace_fields
from jibo_cloud.router import refuse_upgrade

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

    Keep-alive: where the server offers a :class:`~jibo_cloud.edge.pings.Pinger` (our
    serve loop always does), this task sends the Ping every ``config.ping_interval``
    seconds, the first one interval after the accept, instead of a ping task per socket.
    """
    await receive()  # websocket.connect
    try:
        record = await hub.check_token(str(scope.get("path", "/")))
        note_principal(f"robot:{record.robot_name}")
        key = hub.admit(record)
    except HandshakeRejected as rejected:
        log.info("socket refused: %s %s", rejected.status, rejected.reason)
        await refuse_upgrade(scope, send, rejected)
        return
    # An idle socket's frames keep only what they need (memory per socket).
    robot_name, account_id = record.robot_name, record.account_id
    del record
    await _accept_and_hold(hub, scope, receive, send, robot_name, account_id, key)


async def _accept_and_hold(
    hub: NotificationHub, scope: Mapping[str, Any], receive: ASGIReceive, send: ASGISend,
    robot_name: str, account_id: str | None, key: int,
) -> None:  # fmt: skip
    interval = hub.runtime.config.ping_interval
    pinger = pinger_of(scope)
    try:
        await send({"type": "websocket.accept"})
    except BaseException:
        hub.release(key, robot_name)  # from here on, hold() releases it
        raise
    first_ping = trio.current_time() + interval if pinger is not None and interval > 0 else math.inf
    metrics.socket_opened("notification")
    try:
        with trace_fields(kind="notification", robot_id=robot_name):
            await hub.hold(
                robot_name, account_id, functools.partial(_asgi_send_text, send),
                _hold_asgi(receive, pinger, first_ping, interval), key,
            )  # fmt: skip
    finally:
        metrics.socket_closed("notification")


async def _asgi_send_text(send: ASGISend, frame: str | int) -> None:
    if isinstance(frame, int):  # a close code
        await send({"type": "websocket.close", "code": frame})
    else:
        await send({"type": "websocket.send", "text": frame})


async def _hold_asgi(
    receive: ASGIReceive, pinger: Pinger | None, first_ping: float, interval: float
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
        if pinger is not None:
            await pinger.ping()  # nothing once the socket is closing
        ping_at = trio.current_time() + interval
