"""The notification hub: one per server process, a field of the runtime
(:attr:`jibo_cloud.runtime.Runtime.notifications`).

It ties the pieces together: :class:`~jibo_cloud.notify.registry.SocketRegistry` (which
sockets are here), :class:`~jibo_cloud.notify.sessions.SessionLog` (their rows in the
storage), :class:`~jibo_cloud.notify.delivery.Delivery` (sending or queueing) and the
transport (:mod:`jibo_cloud.notify.transport`). It owns the token check before an upgrade,
the life of one accepted socket (:meth:`NotificationHub.hold`) and closing them all at
shutdown.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import attrs
import trio

from jibo_cloud.diagnostics import note_notification_refusal
from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.notify import transport
from jibo_cloud.notify.delivery import Delivery
from jibo_cloud.notify.registry import Connection, SendText, SocketRegistry
from jibo_cloud.notify.sessions import SessionLog
from jibo_cloud.notify.tokens import REJECT_REASON, hash_token, token_key
from jibo_cloud.storage.records import RobotToken

if TYPE_CHECKING:
    from jibo_cloud.runtime import Runtime

log = logging.getLogger("jibo_cloud.notify")

#: RFC 6455 "going away": the server is shutting down (the robot reconnects ~15 s later).
CLOSE_GOING_AWAY = 1001
#: How long closing every notification socket at shutdown may take (a peer that does not
#: read cannot hold the shutdown; the server's grace ends its connection anyway).
CLOSE_ALL_SECONDS = 2.0
_CAP_REASONS = {
    "token": ("token's socket cap", "Too many sockets for this token"),
    "robot": ("robot's socket cap", "Too many sockets for this robot"),
}


def _new_registry() -> SocketRegistry:
    return SocketRegistry()


@attrs.define(eq=False)
class NotificationHub:
    """Open notification sockets by robot, and delivery of the notifications queued for them
    in the storage."""

    runtime: Runtime
    registry: SocketRegistry = attrs.field(factory=_new_registry)
    sessions: SessionLog = attrs.field(
        default=attrs.Factory(lambda self: SessionLog(self.runtime), takes_self=True)
    )
    delivery: Delivery = attrs.field(
        default=attrs.Factory(
            lambda self: Delivery(self.runtime, self.registry, self.sessions), takes_self=True
        )
    )

    #: The transport, as a method (``hub.serve_socket(sock)``: the edge's websocket).
    serve_socket = transport.serve_socket

    # -- what the rest of the server asks ---------------------------------------------------

    async def notify(self, robot_name: str, message: dict[str, Any]) -> bool:
        """See :meth:`jibo_cloud.notify.delivery.Delivery.notify`."""
        return await self.delivery.notify(robot_name, message)

    async def wait_connected(self, robot_name: str, connected: bool = True) -> None:
        """Return once the robot's connection state in this process is ``connected`` (for
        callers and tests)."""
        await self.registry.wait_connected(robot_name, connected)

    @property
    def open_sockets(self) -> int:
        return self.registry.open_sockets

    def is_connected(self, robot_name: str) -> bool:
        """Is the robot's socket in this process (its session recorded)? Other processes:
        :meth:`jibo_cloud.storage.Storage.account_connected`."""
        return self.registry.is_connected(robot_name)

    def accounts_connected(self) -> set[str]:
        """Accounts with a robot on a socket in this process (not the others: see
        :meth:`is_connected`)."""
        return self.registry.accounts_connected()

    async def serve_polling(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """See :meth:`jibo_cloud.notify.delivery.Delivery.serve_polling`."""
        await self.delivery.serve_polling(task_status=task_status)

    def stop_polling(self) -> None:
        self.delivery.stop_polling()

    async def poll_once(self, path: str = "queue") -> None:
        await self.delivery.poll_once(path)

    # -- shutdown ---------------------------------------------------------------------------

    async def serve_shutdown(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """When the server starts shutting down (``runtime.shutting_down``), close every
        notification socket at once with 1001 "going away" (idle sockets must not wait out
        the grace period). Run it in the nursery that serves the sockets."""
        task_status.started()
        await self.runtime.shutting_down.wait()
        await self.close_all(CLOSE_GOING_AWAY)

    async def close_all(self, code: int = CLOSE_GOING_AWAY) -> int:
        """Close every socket this process holds with ``code``; returns how many. Bounded by
        :data:`CLOSE_ALL_SECONDS`. Each socket's own task then ends when the robot answers the
        close (or when the server drops the connection)."""
        conns = self.registry.all_connections()

        async def close(conn: Connection) -> None:
            try:
                await conn.deliver(code)
            except Exception as exc:  # the peer may be gone already; closing is best effort
                log.debug("closing a notification socket failed: %r", exc)

        with trio.move_on_after(CLOSE_ALL_SECONDS):
            async with trio.open_nursery() as nursery:
                for conn in conns:
                    nursery.start_soon(close, conn)
        if conns:
            log.info("closed %d notification sockets: server shutting down", len(conns))
        return len(conns)

    # -- one socket -------------------------------------------------------------------------

    async def check_token(self, path: str) -> RobotToken:
        """The token record for ``/{token}``.

        Raises:
            HandshakeRejected: 401 for a token we did not issue (or one expired/revoked),
                503 when storage is down (the robot retries in ~15 s).
        """
        if self.runtime.shutting_down.is_set():
            raise HandshakeRejected(503, "Service Unavailable")
        token = path.lstrip("/")
        try:
            record = await self.runtime.storage.find_robot_token(
                hash_token(token), self.runtime.now_ms()
            )
        except StorageUnavailable:
            raise HandshakeRejected(503, "Service Unavailable") from None
        if record is None:
            raise HandshakeRejected(401, REJECT_REASON)
        return record

    def admit(self, record: RobotToken) -> int:
        """Count one more socket for the record's token and robot; returns the token's key
        for :meth:`release`.

        Raises:
            HandshakeRejected: 429 when either cap is reached (nothing is counted then).
        """
        config = self.runtime.config
        key = token_key(record.token_hash)
        cap = self.registry.admit(
            key,
            record.robot_name,
            per_token=config.max_sockets_per_token,
            per_robot=config.max_sockets_per_robot,
        )
        if cap is not None:
            note, reason = _CAP_REASONS[cap]
            note_notification_refusal(self.runtime, record.robot_name, 429, note)
            raise HandshakeRejected(429, reason)
        return key

    def release(self, key: int, robot_name: str) -> None:
        self.registry.release(key, robot_name)

    async def hold(
        self, robot_name: str, account_id: str | None, send_text: SendText,
        until_closed: Coroutine[Any, Any, None], key: int,
    ) -> None:  # fmt: skip
        """Hold one accepted socket until it closes: bookkeeping, presence, deliveries.

        ``until_closed`` (a coroutine, not yet started) returns when the socket closes; it
        is closed unstarted if the socket ends before it runs. ``key`` is the socket's
        :meth:`admit`; it is released as soon as the socket is gone, before its session row
        is written (a reconnecting robot must not find its own dead socket counted)."""
        session_id = secrets.token_hex(12)
        conn = Connection(send_text, robot_name, account_id)
        # Registered before the session is written, so a notify() from now on sends at once.
        self.registry.add(conn)
        present = False
        try:
            queued = await self.sessions.add(
                ("open", session_id, robot_name, "notification", self.runtime.now_ms())
            )
            self.registry.mark_present(robot_name)
            present = True
            if queued:
                await self.delivery.send_queued(queued)
            del queued  # an idle socket's frame keeps nothing it does not need (memory)
            if self.runtime.shutting_down.is_set():  # opened while close_all ran
                await conn.deliver(CLOSE_GOING_AWAY)
            await until_closed
        finally:
            until_closed.close()  # no-op once it ran; else no "never awaited" warning
            self.registry.remove(conn)
            self.release(key, robot_name)
            with trio.move_on_after(2, shield=True):  # bounded: the socket is already gone
                await self.sessions.add(("close", session_id, "", "", self.runtime.now_ms()))
            # After the bookkeeping, so a waiter on is_connected sees the session closed.
            if present:
                self.registry.mark_absent(robot_name)
