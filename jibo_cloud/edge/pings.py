"""Keep-alive pings for websockets, sent by whoever already waits on the socket.

hypercorn pings each websocket from a task of its own, spawned at accept: ~3.4 KiB per idle
socket, and a first Ping at accept that races a client closing at once (trio-websocket then
fails answering it in the closing state). We turn hypercorn's pings off
(``websocket_ping_interval = None``) and offer instead, in every websocket scope our
connections serve, ``scope["extensions"][PING_EXTENSION]``: a :class:`Pinger` whose
:meth:`~Pinger.ping` writes one Ping frame if the socket is open (accepted, no Close frame
sent). A handler that waits on the socket anyway (the notification socket) pings from that
same task at its own deadlines; the router runs :func:`ping_every` beside any other
websocket handler, the first Ping one interval after the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import trio

#: The key, in a websocket scope's ``extensions``, of the socket's :class:`Pinger`.
PING_EXTENSION = "jibo_cloud.ping"


class Pinger(Protocol):
    async def ping(self) -> bool:
        """Send one Ping frame now if the websocket is open; False when it is not (not yet
        accepted, closing or closed), and nothing is sent then."""
        ...


def pinger_of(scope: Mapping[str, Any]) -> Pinger | None:
    """The scope's :class:`Pinger`, or None when the server offers none (another server, a
    test client)."""
    extensions = scope.get("extensions")
    if not isinstance(extensions, dict):
        return None
    pinger = extensions.get(PING_EXTENSION)
    return pinger if hasattr(pinger, "ping") else None


async def ping_every(pinger: Pinger, interval: float) -> None:
    """Ping every ``interval`` seconds, the first one interval from now, until cancelled.

    Run it beside the socket's handler and cancel it when the handler returns; a Ping due
    before the accept or after the close is skipped (:meth:`Pinger.ping` says so).
    """
    while True:
        await trio.sleep(interval)
        await pinger.ping()
