"""The notification socket: ``wss://api-socket.jibo.com/{robotToken}`` (PROTOCOL.md §3).

- The upgrade is accepted only for a robot token we issued (``NewRobotToken``) that is neither
  expired nor revoked; anything else is refused with HTTP 401 before the upgrade.
- We send nothing unsolicited: a made-up greeting crashed the robot's notification manager.
  Keep-alive is protocol-level pings (hypercorn's ``websocket_ping_interval``), which every
  websocket stack understands; frames the robot sends are read and dropped.
- :meth:`NotificationHub.notify` queues a notification for a robot and delivers it at once if
  the robot is connected, else when it next connects (queues are bounded and in memory).

Memory: 10,000 robots each hold one of these all day, so a socket costs one task, one cancel
scope and a small record; sending is done by short tasks started only when there is something
to deliver.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import secrets
import weakref
from typing import Any

import attrs
import trio

from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.runtime import Runtime
from jibo_cloud.wsio import QuartSocket

log = logging.getLogger(__name__)

#: PROTOCOL.md §3: the robot expects traffic or pings within ~120 s; ping well inside that.
PING_INTERVAL_SECONDS = 30.0
#: Robot tokens live a week; the robot asks for a new one on every reconnect anyway.
ROBOT_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000
#: Undelivered notifications kept per robot (oldest dropped first).
MAX_QUEUED = 100
REJECT_REASON = "Authorization is required"


def hash_token(token: str) -> str:
    """Tokens are stored as their sha-256, so a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_robot_token() -> str:
    return secrets.token_urlsafe(32)


@attrs.define(eq=False)
class _Connection:
    sock: QuartSocket
    robot_name: str
    account_id: str | None
    nursery: trio.Nursery
    send_lock: trio.Lock = attrs.field(factory=trio.Lock)

    async def deliver(self, frame: str) -> None:
        async with self.send_lock:
            await self.sock.send(frame)


@attrs.define(eq=False)
class NotificationHub:
    """Open notification sockets by robot, and the notifications waiting for them."""

    runtime: Runtime
    _connections: dict[str, set[_Connection]] = attrs.field(factory=dict)
    #: Sessions per robot, counted from "recorded open" to "recorded closed" (what
    #: is_connected reports; delivery uses _connections, which a dying socket leaves first).
    _present: collections.Counter[str] = attrs.field(factory=collections.Counter)
    _queued: dict[str, collections.deque[str]] = attrs.field(factory=dict)
    _changed: trio.Event = attrs.field(factory=trio.Event)

    def _signal(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_connected(self, robot_name: str, connected: bool = True) -> None:
        """Return once the robot's connection state is ``connected`` (for callers and tests)."""
        while self.is_connected(robot_name) != connected:
            await self._changed.wait()

    @property
    def open_sockets(self) -> int:
        return sum(len(c) for c in self._connections.values())

    def is_connected(self, robot_name: str) -> bool:
        return self._present[robot_name] > 0

    def accounts_connected(self) -> set[str]:
        return {c.account_id for conns in self._connections.values() for c in conns
                if c.account_id}  # fmt: skip

    def notify(self, robot_name: str, message: dict[str, Any]) -> bool:
        """Send ``message`` (JSON) to the robot now, or queue it; True if it was sent now."""
        frame = json.dumps(message, separators=(",", ":"))
        conns = self._connections.get(robot_name)
        if not conns:
            queue = self._queued.setdefault(robot_name, collections.deque(maxlen=MAX_QUEUED))
            queue.append(frame)
            return False
        for conn in conns:
            conn.nursery.start_soon(conn.deliver, frame)
        return True

    async def handle(self, sock: QuartSocket) -> None:
        """The ``token_handler`` of :class:`jibo_cloud.app.SocketRouter`.

        Raises:
            HandshakeRejected: 401 for a token we did not issue (or one expired/revoked),
                503 when storage is down (the robot retries in ~15 s).
        """
        token = sock.path.lstrip("/")
        storage = self.runtime.storage
        try:
            record = await storage.find_robot_token(hash_token(token), self.runtime.now_ms())
        except StorageUnavailable:
            raise HandshakeRejected(503, "Service Unavailable") from None
        if record is None:
            raise HandshakeRejected(401, REJECT_REASON)
        await sock.accept()
        session_id = secrets.token_hex(12)
        await self._record(storage.open_session(session_id, record.robot_name, "notification",
                                                self.runtime.now_ms()))  # fmt: skip
        self._present[record.robot_name] += 1
        try:
            await self._serve(sock, record.robot_name, record.account_id)
        finally:
            with trio.move_on_after(2, shield=True):  # bounded: the socket is already gone
                await self._record(storage.close_session(session_id, self.runtime.now_ms()))
            # After the bookkeeping, so a waiter on is_connected sees the session closed.
            self._present[record.robot_name] -= 1
            if self._present[record.robot_name] <= 0:
                del self._present[record.robot_name]
            self._signal()

    @staticmethod
    async def _record(write: Any) -> None:
        """Session bookkeeping is best effort: a database hiccup must not drop the socket."""
        try:
            await write
        except StorageUnavailable:
            log.warning("notification session not recorded: storage unavailable")

    async def _serve(self, sock: QuartSocket, robot_name: str, account_id: str | None) -> None:
        async with trio.open_nursery() as nursery:
            conn = _Connection(sock, robot_name, account_id, nursery)
            self._connections.setdefault(robot_name, set()).add(conn)
            self._signal()
            try:
                for frame in self._queued.pop(robot_name, ()):
                    nursery.start_soon(conn.deliver, frame)
                while True:
                    await sock.receive()  # PROTOCOL.md §3: nothing the robot sends needs an answer
            finally:
                conns = self._connections.get(robot_name, set())
                conns.discard(conn)
                if not conns:
                    self._connections.pop(robot_name, None)


# Other components (hub, skills, operators) reach a server's hub through its runtime. Runtime
# has no field for it yet, so :func:`open_hub` records it here, keyed by the runtime's id;
# entries vanish with their hub (weak values), so servers never see each other's hubs.
_HUBS: weakref.WeakValueDictionary[int, NotificationHub] = weakref.WeakValueDictionary()


def open_hub(runtime: Runtime) -> NotificationHub:
    """The notification hub of ``runtime``, created on first use."""
    hub = _HUBS.get(id(runtime))
    if hub is None or hub.runtime is not runtime:
        hub = _HUBS[id(runtime)] = NotificationHub(runtime)
    return hub


def hub_for(runtime: Runtime) -> NotificationHub | None:
    """The hub serving ``runtime``'s notification sockets, if the REST routes are installed."""
    hub = _HUBS.get(id(runtime))
    return hub if hub is not None and hub.runtime is runtime else None
