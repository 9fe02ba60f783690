"""Which notification sockets this process holds, by robot, and how many each may open.

Nothing here touches the storage or the network: :class:`SocketRegistry` is the in-memory
table that delivery reads (where to send) and the socket's own task writes (open, present,
closed). Memory matters: 10,000 robots each hold one socket all day, so per socket it keeps
one small :class:`Connection` and a few counter entries.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable

import attrs
import trio

#: Sends one text frame (a ``str``) or closes the socket with a close code (an ``int``): one
#: callable per socket, not two (memory per idle socket).
SendText = Callable[[str | int], Awaitable[None]]


@attrs.define(eq=False)
class Connection:
    """One accepted notification socket, as delivery sees it."""

    send_text: SendText
    robot_name: str
    account_id: str | None
    #: Created on the first delivery: most sockets never carry one (memory, see module doc).
    send_lock: trio.Lock | None = None

    async def deliver(self, frame: str | int) -> None:
        """Send ``frame`` (text), or close with that code (an ``int``), after any frame being
        sent."""
        if self.send_lock is None:
            self.send_lock = trio.Lock()
        async with self.send_lock:
            await self.send_text(frame)


@attrs.define(eq=False)
class SocketRegistry:
    """Open sockets by robot, presence, and the per-token and per-robot socket caps."""

    #: A tuple per robot, not a set: almost every robot has one socket, and an empty set
    #: alone is 216 bytes (memory per idle socket).
    _connections: dict[str, tuple[Connection, ...]] = attrs.field(factory=dict)
    #: Sessions per robot, counted from "recorded open" to "recorded closed" (what
    #: is_connected reports; delivery uses _connections, which a dying socket leaves first).
    _present: collections.Counter[str] = attrs.field(factory=collections.Counter)
    _changed: trio.Event = attrs.field(factory=trio.Event)
    #: Sockets admitted per robot token (by :func:`~jibo_cloud.notify.tokens.token_key`) and
    #: per robot, counted from the check before the upgrade to the socket's end.
    _per_token: collections.Counter[int] = attrs.field(factory=collections.Counter)
    _per_robot: collections.Counter[str] = attrs.field(factory=collections.Counter)

    # -- where to deliver -------------------------------------------------------------------

    def sockets_of(self, robot_name: str) -> tuple[Connection, ...]:
        """The robot's sockets in this process (empty: none here)."""
        return self._connections.get(robot_name, ())

    def holds(self, robot_name: str) -> bool:
        """Does this process hold a socket of the robot (registered, maybe not yet present)?"""
        return robot_name in self._connections

    def all_connections(self) -> list[Connection]:
        return [c for group in self._connections.values() for c in group]

    @property
    def empty(self) -> bool:
        return not self._connections

    @property
    def open_sockets(self) -> int:
        return sum(len(c) for c in self._connections.values())

    def add(self, conn: Connection) -> None:
        """Register an accepted socket: deliveries from now on reach it."""
        name = conn.robot_name
        self._connections[name] = (*self._connections.get(name, ()), conn)

    def remove(self, conn: Connection) -> None:
        name = conn.robot_name
        conns = tuple(c for c in self._connections.get(name, ()) if c is not conn)
        if conns:
            self._connections[name] = conns
        else:
            self._connections.pop(name, None)

    # -- presence ---------------------------------------------------------------------------

    def _signal(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def mark_present(self, robot_name: str) -> None:
        """The robot's session is recorded open."""
        self._present[robot_name] += 1
        self._signal()

    def mark_absent(self, robot_name: str) -> None:
        """The robot's session is recorded closed."""
        self._present[robot_name] -= 1
        if self._present[robot_name] <= 0:
            del self._present[robot_name]
        self._signal()

    def is_connected(self, robot_name: str) -> bool:
        return self._present[robot_name] > 0

    async def wait_connected(self, robot_name: str, connected: bool = True) -> None:
        while self.is_connected(robot_name) != connected:
            await self._changed.wait()

    def accounts_connected(self) -> set[str]:
        return {c.account_id for conns in self._connections.values() for c in conns
                if c.account_id}  # fmt: skip

    # -- caps -------------------------------------------------------------------------------

    def admit(self, key: int, robot_name: str, *, per_token: int, per_robot: int) -> str | None:
        """Count one more socket for the token ``key`` and the robot; None when counted, else
        which cap is reached (``"token"`` or ``"robot"``; nothing is counted then)."""
        if self._per_token[key] >= per_token:
            return "token"
        if self._per_robot[robot_name] >= per_robot:
            return "robot"
        self._per_token[key] += 1
        self._per_robot[robot_name] += 1
        return None

    def release(self, key: int, robot_name: str) -> None:
        """Undo one :meth:`admit` (the socket ended)."""
        self._per_token[key] -= 1
        if self._per_token[key] <= 0:
            del self._per_token[key]
        self._per_robot[robot_name] -= 1
        if self._per_robot[robot_name] <= 0:
            del self._per_robot[robot_name]
