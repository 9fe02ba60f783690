"""Delivery of notifications to robots, wherever their socket is (PROTOCOL.md §3).

:meth:`Delivery.notify` sends at once when the robot's socket is in this process, else queues
the notification in the storage (bounded per robot), where the robot's next socket picks it
up in whichever process it opens, and where, with several server processes
(``config.workers > 1``), the process holding the robot's socket finds it within
:data:`NOTIFY_POLL_SECONDS` (:meth:`Delivery.serve_polling`). Delivery is at least once: a
notification leaves the queue only after it was sent on a socket.

On PostgreSQL, several independent servers may share the database: after queueing,
:meth:`Delivery.notify` wakes the processes holding the robot's sessions through ``LISTEN/NOTIFY``
(:mod:`jibo_cloud.storage.pubsub`), which call :meth:`Delivery.poll_once` at once; the poll
stays the fallback for a lost wake-up.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import attrs
import trio

from jibo_cloud import metrics
from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.notify.registry import SocketRegistry
from jibo_cloud.notify.sessions import SessionLog
from jibo_cloud.storage.pubsub import wake_holders
from jibo_cloud.storage.records import QueuedNotification

if TYPE_CHECKING:
    from jibo_cloud.runtime import Runtime

log = logging.getLogger("jibo_cloud.notify")

#: Undelivered notifications kept per robot (oldest dropped first).
MAX_QUEUED = 100
#: With several server processes, how often each looks for notifications queued (by another
#: process) for the robots whose sockets it holds.
NOTIFY_POLL_SECONDS = 1.0
#: Queued notifications one poll reads at most (the rest wait for the next poll).
POLL_BATCH = 1000
#: How far back a poll looks for notifications queued with no process address (PostgreSQL:
#: queued while the robot's session was being written elsewhere; that race lasts
#: milliseconds). Older ones wait for the robot's next socket.
UNADDRESSED_LOOKBACK_MS = 60_000


@attrs.define(eq=False)
class Delivery:
    """Sends notifications on the sockets of :attr:`registry`, or queues them."""

    runtime: Runtime
    registry: SocketRegistry
    sessions: SessionLog
    #: Queued notifications this process is sending now (by seq), so the socket's opening,
    #: a racing notify() and the poll never send the same row twice from one process.
    _sending: set[int] = attrs.field(factory=set)
    #: The running :meth:`serve_polling`'s scope (what :meth:`stop_polling` cancels).
    _poll_scope: trio.CancelScope | None = None

    async def notify(self, robot_name: str, message: dict[str, Any]) -> bool:
        """Send ``message`` (JSON) to the robot's sockets in this process, or queue it in the
        storage for its socket in another process (found by that process's poll) or its next
        socket anywhere.

        The caller's task does the sending (sockets keep no task of their own for it), so a
        slow robot slows only its caller. Returns True if it was sent now.

        Raises:
            StorageUnavailable: the robot's socket is not here and the storage is down (the
                notification is not kept; the caller decides whether to retry).
        """
        frame = json.dumps(message, separators=(",", ":"))
        conns = self.registry.sockets_of(robot_name)
        if conns:
            for conn in conns:
                await conn.deliver(frame)
            metrics.notification("local")
            return True
        storage = self.runtime.storage
        await storage.queue_notification(robot_name, frame, self.runtime.now_ms(), keep=MAX_QUEUED)
        # PostgreSQL: NOTIFY the servers holding the robot's socket, which read the queue now
        # rather than at their next poll (a lost wake-up costs only the poll's delay).
        try:
            await wake_holders(storage, robot_name, self.runtime.instance_id)
        except StorageUnavailable:  # it is queued: the holder's poll finds it
            log.warning("queued notification: holders not woken, storage unavailable")
        if self.registry.holds(robot_name):
            # The robot's socket opened here while we wrote, maybe after its opening batch
            # read the queue: send now rather than leave it for a later socket (or poll).
            try:
                queued = await storage.queued_notifications(robot_name)
            except StorageUnavailable:  # it is queued: not the caller's failure
                log.warning("queued notification not sent to a socket just opened: storage down")
                return False
            await self.send_queued(queued)
        return False

    async def send_queued(self, queued: list[QueuedNotification], path: str = "queue") -> None:
        """Send queued notifications on their robots' sockets here, then drop them from the
        queue. Rows this process is already sending, or whose robot has no socket here, are
        left alone (they stay queued). A row is dropped once it went out on one socket.
        ``path`` counts the sent ones in the metrics (``queue``, or ``pubsub`` when a
        ``NOTIFY`` woke this process)."""
        mine = [
            q for q in queued if q.seq not in self._sending and self.registry.holds(q.robot_name)
        ]
        # Claimed until the queue forgets them, so a racing notify() or poll skips them.
        self._sending.update(q.seq for q in mine)
        try:
            sent: list[int] = []
            for item in mine:
                delivered = False
                for conn in self.registry.sockets_of(item.robot_name):
                    try:
                        await conn.deliver(item.frame)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        continue  # that socket is going away; its own task cleans up
                    delivered = True
                if delivered:
                    sent.append(item.seq)
            for _ in sent:
                metrics.notification(path)
            if sent:
                now = self.runtime.now_ms()
                await self.sessions.add(*[("ack", str(seq), "", "", now) for seq in sent])
        finally:
            self._sending.difference_update(q.seq for q in mine)

    async def serve_polling(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Deliver what other processes queue for the robots connected here, every
        :data:`NOTIFY_POLL_SECONDS`, until :meth:`stop_polling` or a cancel; returns at once
        with a single server process on SQLite (``config.workers == 1``), where
        :meth:`notify` always knows the sockets. On PostgreSQL it always runs: independent
        servers may share the database, and the poll is the fallback for a lost
        ``LISTEN/NOTIFY`` wake-up.

        Run it for the hub's lifetime in the nursery that serves the sockets and call
        :meth:`stop_polling` once they are closed. A poll that fails because the storage is
        down is logged and retried at the next tick.
        """
        with trio.CancelScope() as scope:
            self._poll_scope = scope
            try:
                task_status.started()
                config = self.runtime.config
                if config.workers <= 1 and not config.uses_postgres:
                    return
                while True:
                    await trio.sleep(NOTIFY_POLL_SECONDS)
                    if self.registry.empty:
                        continue
                    try:
                        await self.poll_once()
                    except StorageUnavailable:
                        log.warning("notification queue not polled: storage down")
            finally:
                self._poll_scope = None

    def stop_polling(self) -> None:
        """End :meth:`serve_polling` (the server's shutdown, after its sockets closed; the
        poll never ends by itself). Idempotent; does nothing if no poll runs."""
        if self._poll_scope is not None:
            self._poll_scope.cancel()

    async def poll_once(self, path: str = "queue") -> None:
        """One poll: send what is queued for the robots whose sockets this process holds
        (``path``: ``pubsub`` when a wake-up asked for it, for the metrics).

        Rows addressed here for a robot whose socket is gone lose the address, so later
        polls do not read them again (the robot's next socket reads them by name)."""
        storage = self.runtime.storage
        queued = await storage.notifications_for_instance(
            self.runtime.instance_id, self.runtime.now_ms() - UNADDRESSED_LOOKBACK_MS, POLL_BATCH
        )
        gone = [q.seq for q in queued if not self.registry.holds(q.robot_name)]
        await self.send_queued(queued, path)
        await storage.unaddress_notifications(gone)
