"""The notification socket's transport: a websocket the server's edge serves itself
(:func:`serve_socket`, routed by :mod:`jibo_cloud.router` to
:mod:`jibo_cloud.edge.websocket`: no ASGI, no Quart).

It checks the token before the upgrade (a :class:`HandshakeRejected`: 401/429/503 with a
plain-text reason), accepts, then holds the socket in :meth:`NotificationHub.hold` until the
robot closes, dropping what it sends (PROTOCOL.md §3: nothing needs an answer) and never
sending anything unsolicited (a made-up greeting crashed the robot's notification manager).

Memory: every booted robot holds one of these all day, so it keeps only the frames it needs
while idle; the keep-alive Pings go out from the same task, while it waits in the socket's
``receive`` (the route's ``keep_alive``; no ping task per socket). See docs/rest.md
"Performance".
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from jibo_cloud import metrics
from jibo_cloud.access import note_principal
from jibo_cloud.errors import HandshakeRejected, RobotClosed
from jibo_cloud.logs import trace_fields

if TYPE_CHECKING:
    from jibo_cloud.notify.hub import NotificationHub

log = logging.getLogger("jibo_cloud.notify")


async def serve_socket(hub: NotificationHub, sock: Any) -> None:
    """One notification socket, on the edge's :class:`~jibo_cloud.edge.websocket.WebSocket`
    (or any socket with its ``accept``/``receive``/``send``/``close`` and ``path``).

    Raises:
        HandshakeRejected: the token is refused (before the upgrade).
    """
    try:
        record = await hub.check_token(str(sock.path))
        note_principal(f"robot:{record.robot_name}")
        key = hub.admit(record)
    except HandshakeRejected as rejected:
        log.info("socket refused: %s %s", rejected.status, rejected.reason)
        raise
    # An idle socket's frames keep only what they need (memory per socket).
    robot_name, account_id = record.robot_name, record.account_id
    del record
    await _accept_and_hold(hub, sock, robot_name, account_id, key)


async def _accept_and_hold(
    hub: NotificationHub, sock: Any, robot_name: str, account_id: str | None, key: int
) -> None:
    try:
        await sock.accept()
    except BaseException:
        hub.release(key, robot_name)  # from here on, hold() releases it
        raise
    metrics.socket_opened("notification")
    try:
        with trace_fields(kind="notification", robot_id=robot_name):
            await hub.hold(
                robot_name, account_id, functools.partial(_send, sock), _until_closed(sock), key
            )
    finally:
        metrics.socket_closed("notification")


async def _send(sock: Any, frame: str | int) -> None:
    if isinstance(frame, int):  # a close code
        await sock.close(frame)
    else:
        await sock.send(frame)


async def _until_closed(sock: Any) -> None:
    """Until the robot closes: drop what it sends (PROTOCOL.md §3: nothing needs an answer).
    A module-level coroutine rather than a closure: no function object and cells per idle
    socket."""
    try:
        while True:
            await sock.receive()
    except RobotClosed:
        return
