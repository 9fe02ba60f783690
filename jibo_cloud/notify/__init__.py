"""The notification socket: ``wss://api-socket.jibo.com/{robotToken}`` (PROTOCOL.md §3).

- The upgrade is accepted only for a robot token we issued (``NewRobotToken``) that is neither
  expired nor revoked; anything else is refused with HTTP 401 before the upgrade.
- We send nothing unsolicited: a made-up greeting crashed the robot's notification manager.
  Keep-alive is protocol-level pings every ``config.ping_interval`` seconds. Frames the robot
  sends are read and dropped.
- Delivery is at once when the robot's socket is in this process, else through the storage's
  queue (found by the robot's next socket, or by the process holding it).
- Presence is in the storage too: each session row names the process holding it
  (``Runtime.instance_id``), so ``GetStatus`` answers for every process.

The package, one job per module:

- :mod:`.tokens`: robot tokens (made, hashed, counted).
- :mod:`.registry`: the sockets this process holds, presence, per-token and per-robot caps.
- :mod:`.sessions`: group-committed session rows (open, close, ack).
- :mod:`.delivery`: send now or queue; the poll across processes (the seam for other
  cross-process wake-ups).
- :mod:`.transport`: the socket itself, a websocket the edge serves (no ASGI, no Quart).
- :mod:`.hub`: :class:`NotificationHub`, which ties them together; one per runtime
  (:attr:`jibo_cloud.runtime.Runtime.notifications`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jibo_cloud.notify.delivery import MAX_QUEUED, NOTIFY_POLL_SECONDS, POLL_BATCH, Delivery
from jibo_cloud.notify.hub import CLOSE_ALL_SECONDS, CLOSE_GOING_AWAY, NotificationHub
from jibo_cloud.notify.registry import Connection, SocketRegistry
from jibo_cloud.notify.sessions import SessionEvent, SessionLog
from jibo_cloud.notify.tokens import (
    REJECT_REASON,
    ROBOT_TOKEN_TTL_MS,
    hash_token,
    new_robot_token,
)

if TYPE_CHECKING:
    from jibo_cloud.runtime import Runtime

#: The name the storage tests use for the session log.
_SessionLog = SessionLog


def hub_for(runtime: Runtime) -> NotificationHub:
    """The hub serving ``runtime``'s notification sockets (its field, for callers that
    only hold the runtime)."""
    return runtime.notifications


__all__ = [
    "CLOSE_ALL_SECONDS",
    "CLOSE_GOING_AWAY",
    "MAX_QUEUED",
    "NOTIFY_POLL_SECONDS",
    "POLL_BATCH",
    "REJECT_REASON",
    "ROBOT_TOKEN_TTL_MS",
    "Connection",
    "Delivery",
    "NotificationHub",
    "SessionEvent",
    "SessionLog",
    "SocketRegistry",
    "hash_token",
    "hub_for",
    "new_robot_token",
]
