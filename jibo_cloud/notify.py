"""The notification socket: ``wss://api-socket.jibo.com/{robotToken}`` (PROTOCOL.md §3).

- The upgrade is accepted only for a robot token we issued (``NewRobotToken``) that is neither
  expired nor revoked; anything else is refused with HTTP 401 before the upgrade.
- We send nothing unsolicited: a made-up greeting crashed the robot's notification manager.
  Keep-alive is protocol-level pings every ``config.ping_interval`` seconds, which every
  websocket stack understands: on ``api-socket.*`` the socket's own task sends them
  (:meth:`NotificationHub.serve_asgi`), elsewhere hypercorn's ping task does. Frames the
  robot sends are read and dropped.
- :meth:`NotificationHub.notify` delivers a notification at once if the robot's socket is in
  this process, else queues it in the storage (bounded per robot), where the robot's next
  socket picks it up in whichever process it opens, and where, with several server processes
  (``config.workers > 1``), the process holding the robot's socket finds it within
  :data:`NOTIFY_POLL_SECONDS` (:meth:`NotificationHub.serve_polling`). Delivery is at least
  once: a notification leaves the queue only after it was sent on a socket.
- Presence is in the storage too: each session row names the process holding it
  (``Runtime.instance_id``), so ``GetStatus`` answers for every process
  (:meth:`~jibo_cloud.storage.Storage.account_connected`).

Memory: 10,000 robots each hold one of these all day, so an idle socket costs hypercorn's
connection task, the app task hypercorn runs it in (which also sends the pings: no ping task)
and a small record; ``api-socket.*`` sockets are served as bare ASGI, below Quart
(:meth:`NotificationHub.serve_asgi`); the caller of ``notify`` does the sending. Where the
rest goes: docs/rest.md, "Performance".
Storage round trips: opening a socket writes its session row and reads its queued
notifications in one group-committed batch (:class:`_SessionLog`), shared with every socket
opening at the same time.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import json
import logging
import math
import secrets
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import attrs
import trio

from jibo_cloud.access import note_principal
from jibo_cloud.diagnostics import note_notification_refusal
from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.hypercorn_fixes import PING_EXTENSION, PING_MESSAGE
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import QueuedNotification, RobotToken
from jibo_cloud.wsio import QuartSocket

log = logging.getLogger(__name__)

#: Robot tokens live a week; the robot asks for a new one on every reconnect anyway.
ROBOT_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000
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
REJECT_REASON = "Authorization is required"


def hash_token(token: str) -> str:
    """Tokens are stored as their sha-256, so a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def _token_key(token_hash: str) -> int:
    """A small key for counting a token's sockets (64 bits of its hash: an ``int`` costs less
    per idle socket than the 64-character hex string)."""
    return int(token_hash[:16], 16)


def new_robot_token() -> str:
    return secrets.token_urlsafe(32)


#: Sends one text frame (a ``str``) or closes the socket with a close code (an ``int``): one
#: callable per socket, not two (memory per idle socket).
SendText = Callable[[str | int], Awaitable[None]]
#: RFC 6455 "going away": the server is shutting down (the robot reconnects ~15 s later).
CLOSE_GOING_AWAY = 1001
#: How long closing every notification socket at shutdown may take (a peer that does not
#: read cannot hold the shutdown; hypercorn's grace ends its connection anyway).
CLOSE_ALL_SECONDS = 2.0
#: ``("open", session_id, robot_name, kind, now)``, ``("close", session_id, "", "", now)`` or
#: ``("ack", str(seq), "", "", now)``: see :meth:`jibo_cloud.storage.Storage.record_sessions`.
SessionEvent = tuple[str, str, str, str, int]
ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]


@attrs.define(eq=False)
class _Connection:
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
class _SessionLog:
    """Group commit for session bookkeeping: the first socket to arrive writes everything
    queued so far in one transaction while later ones wait for the batch holding theirs, so
    10,000 robots reconnecting at once cost a handful of fsyncs, not 10,000. The same
    transaction reads the notifications queued for every robot opened in it.

    Best effort: a batch that cannot be written (storage down, shutdown) is logged and
    dropped; nobody waits for it forever. (Its queued notifications stay queued.)
    """

    runtime: Runtime
    _pending: list[SessionEvent] = attrs.field(factory=list)
    #: Set when the batch after the running one is done (what new arrivals wait for).
    _batch_done: trio.Event = attrs.field(factory=trio.Event)
    _flushing: bool = False
    _next_seq: int = 0
    #: Every event with a sequence number below this is written (or given up).
    _flushed: int = 0
    #: Queued notifications read for an "open" event, by session id, until its socket takes them.
    _waiting: dict[str, list[QueuedNotification]] = attrs.field(factory=dict)

    async def add(self, *events: SessionEvent) -> list[QueuedNotification]:
        """Write ``events`` (in the next batch); return what waits for an opened robot."""
        self._pending.extend(events)
        self._next_seq += len(events)
        seq = self._next_seq - 1
        try:
            while self._flushing:
                await self._batch_done.wait()
                if self._flushed > seq:
                    return self._waiting.pop(events[0][1], [])
            await self._flush()
            return self._waiting.pop(events[0][1], [])
        finally:
            self._waiting.pop(events[0][1], None)  # cancelled: the rows stay queued

    async def _flush(self) -> None:
        self._flushing = True
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                upto = self._next_seq
                done, self._batch_done = self._batch_done, trio.Event()
                try:
                    waiting = await self.runtime.storage.record_sessions(
                        batch, instance_id=self.runtime.instance_id
                    )
                except StorageUnavailable:
                    log.warning("%d notification session events not recorded: storage down",
                                len(batch))  # fmt: skip
                else:
                    for action, session_id, robot_name, _, _ in batch:
                        if action == "open" and robot_name in waiting:
                            self._waiting[session_id] = waiting[robot_name]
                finally:
                    self._flushed = upto
                    done.set()
        finally:
            self._flushing = False
            # Wake whoever waits on a batch nobody will write now: one of them takes over.
            self._batch_done.set()
            self._batch_done = trio.Event()


@attrs.define(eq=False)
class NotificationHub:
    """Open notification sockets by robot, and delivery of the notifications queued for them
    in the storage."""

    runtime: Runtime
    #: A tuple per robot, not a set: almost every robot has one socket, and an empty set
    #: alone is 216 bytes (memory per idle socket, issue 4).
    _connections: dict[str, tuple[_Connection, ...]] = attrs.field(factory=dict)
    #: Sessions per robot, counted from "recorded open" to "recorded closed" (what
    #: is_connected reports; delivery uses _connections, which a dying socket leaves first).
    _present: collections.Counter[str] = attrs.field(factory=collections.Counter)
    #: Queued notifications this process is sending now (by seq), so the socket's opening,
    #: a racing notify() and the poll never send the same row twice from one process.
    _sending: set[int] = attrs.field(factory=set)
    _changed: trio.Event = attrs.field(factory=trio.Event)
    #: The running :meth:`serve_polling`'s scope (what :meth:`stop_polling` cancels).
    _poll_scope: trio.CancelScope | None = None
    _sessions: _SessionLog = attrs.field(
        default=attrs.Factory(lambda self: _SessionLog(self.runtime), takes_self=True)
    )
    #: Sockets admitted per robot token (by :func:`_token_key`) and per robot, counted from
    #: the check before the upgrade to the socket's end (``config.max_sockets_per_token`` /
    #: ``max_sockets_per_robot``; issue 17: 3,000 sockets were opened on one token).
    _per_token: collections.Counter[int] = attrs.field(factory=collections.Counter)
    _per_robot: collections.Counter[str] = attrs.field(factory=collections.Counter)

    def _signal(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_connected(self, robot_name: str, connected: bool = True) -> None:
        """Return once the robot's connection state in this process is ``connected`` (for
        callers and tests)."""
        while self.is_connected(robot_name) != connected:
            await self._changed.wait()

    @property
    def open_sockets(self) -> int:
        return sum(len(c) for c in self._connections.values())

    def is_connected(self, robot_name: str) -> bool:
        """Is the robot's socket in this process (its session recorded)? Other processes:
        :meth:`jibo_cloud.storage.Storage.account_connected`."""
        return self._present[robot_name] > 0

    def accounts_connected(self) -> set[str]:
        """Accounts with a robot on a socket in this process (not the others: see
        :meth:`is_connected`)."""
        return {c.account_id for conns in self._connections.values() for c in conns
                if c.account_id}  # fmt: skip

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
        conns = self._connections.get(robot_name, ())
        if conns:
            for conn in conns:
                await conn.deliver(frame)
            return True
        storage = self.runtime.storage
        await storage.queue_notification(robot_name, frame, self.runtime.now_ms(), keep=MAX_QUEUED)
        if robot_name in self._connections:
            # The robot's socket opened here while we wrote, maybe after its opening batch
            # read the queue: send now rather than leave it for a later socket (or poll).
            try:
                queued = await storage.queued_notifications(robot_name)
            except StorageUnavailable:  # it is queued: not the caller's failure
                log.warning("queued notification not sent to a socket just opened: storage down")
                return False
            await self._send_queued(queued)
        return False

    async def _send_queued(self, queued: list[QueuedNotification]) -> None:
        """Send queued notifications on their robots' sockets here, then drop them from the
        queue. Rows this process is already sending, or whose robot has no socket here, are
        left alone (they stay queued). A row is dropped once it went out on one socket."""
        mine = [
            q for q in queued if q.seq not in self._sending and q.robot_name in self._connections
        ]
        # Claimed until the queue forgets them, so a racing notify() or poll skips them.
        self._sending.update(q.seq for q in mine)
        try:
            sent: list[int] = []
            for item in mine:
                delivered = False
                for conn in self._connections.get(item.robot_name, ()):
                    try:
                        await conn.deliver(item.frame)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        continue  # that socket is going away; its own task cleans up
                    delivered = True
                if delivered:
                    sent.append(item.seq)
            if sent:
                now = self.runtime.now_ms()
                await self._sessions.add(*[("ack", str(seq), "", "", now) for seq in sent])
        finally:
            self._sending.difference_update(q.seq for q in mine)

    async def serve_polling(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Deliver what other processes queue for the robots connected here, every
        :data:`NOTIFY_POLL_SECONDS`, until :meth:`stop_polling` or a cancel; returns at once
        with a single server process (``config.workers == 1``), where :meth:`notify` always
        knows the sockets.

        Run it for the hub's lifetime in the nursery that serves the sockets
        (``await nursery.start(hub.serve_polling)``) and call :meth:`stop_polling` once they
        are closed. A poll that fails because the storage is down is logged and retried at
        the next tick.
        """
        with trio.CancelScope() as scope:
            self._poll_scope = scope
            try:
                task_status.started()
                if self.runtime.config.workers <= 1:
                    return
                while True:
                    await trio.sleep(NOTIFY_POLL_SECONDS)
                    if not self._connections:
                        continue
                    try:
                        await self.poll_once()
                    except StorageUnavailable:
                        log.warning("notification queue not polled: storage down")
            finally:
                self._poll_scope = None

    async def serve_shutdown(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """When the server starts shutting down (``runtime.shutting_down``), close every
        notification socket at once with 1001 "going away" (issue 21: idle sockets must not
        wait out the grace period). Run it in the nursery that serves the sockets."""
        task_status.started()
        await self.runtime.shutting_down.wait()
        await self.close_all(CLOSE_GOING_AWAY)

    async def close_all(self, code: int = CLOSE_GOING_AWAY) -> int:
        """Close every socket this process holds with ``code``; returns how many. Bounded by
        :data:`CLOSE_ALL_SECONDS`. Each socket's own task then ends when the robot answers the
        close (or when hypercorn drops the connection)."""
        conns = [c for group in self._connections.values() for c in group]

        async def close(conn: _Connection) -> None:
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

    def stop_polling(self) -> None:
        """End :meth:`serve_polling` (the server's shutdown, after its sockets closed; the
        poll never ends by itself). Idempotent; does nothing if no poll runs."""
        if self._poll_scope is not None:
            self._poll_scope.cancel()

    async def poll_once(self) -> None:
        """One poll: send what is queued for the robots whose sockets this process holds.

        Rows addressed here for a robot whose socket is gone lose the address, so later
        polls do not read them again (the robot's next socket reads them by name)."""
        storage = self.runtime.storage
        queued = await storage.notifications_for_instance(
            self.runtime.instance_id, self.runtime.now_ms() - UNADDRESSED_LOOKBACK_MS, POLL_BATCH
        )
        gone = [q.seq for q in queued if q.robot_name not in self._connections]
        await self._send_queued(queued)
        await storage.unaddress_notifications(gone)

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
        return record  # type: ignore[no-any-return]

    def _admit(self, record: RobotToken) -> int:
        """Count one more socket for the record's token and robot; returns the token's key
        for :meth:`_release`.

        Raises:
            HandshakeRejected: 429 when either cap is reached (nothing is counted then).
        """
        config = self.runtime.config
        key = _token_key(record.token_hash)
        if self._per_token[key] >= config.max_sockets_per_token:
            note_notification_refusal(self.runtime, record.robot_name, 429, "token's socket cap")
            raise HandshakeRejected(429, "Too many sockets for this token")
        if self._per_robot[record.robot_name] >= config.max_sockets_per_robot:
            note_notification_refusal(self.runtime, record.robot_name, 429, "robot's socket cap")
            raise HandshakeRejected(429, "Too many sockets for this robot")
        self._per_token[key] += 1
        self._per_robot[record.robot_name] += 1
        return key

    def _release(self, key: int, robot_name: str) -> None:
        self._per_token[key] -= 1
        if self._per_token[key] <= 0:
            del self._per_token[key]
        self._per_robot[robot_name] -= 1
        if self._per_robot[robot_name] <= 0:
            del self._per_robot[robot_name]

    async def handle(self, sock: QuartSocket) -> None:
        """The ``token_handler`` of :class:`jibo_cloud.app.SocketRouter` (hosts other than
        ``api-socket.*``, e.g. a bare IP; ``api-socket.*`` is served by :meth:`serve_asgi`)."""
        record = await self.check_token(sock.path)
        note_principal(f"robot:{record.robot_name}")
        key = self._admit(record)
        try:
            await sock.accept()

            async def until_closed() -> None:
                while True:
                    await sock.receive()  # §3: nothing the robot sends needs an answer

            send_text = functools.partial(_quart_send_text, sock)
            await self._run(record.robot_name, record.account_id, send_text, until_closed())
        finally:
            self._release(key, record.robot_name)

    async def serve_asgi(
        self, scope: Mapping[str, Any], receive: ASGIReceive, send: ASGISend
    ) -> None:
        """The notification socket as a bare ASGI websocket, below Quart.

        Every booted robot holds one all day; Quart's websocket machinery costs ~17 KiB per
        socket on top of hypercorn's ~22 KiB, which puts 10,000 sockets over budget, so
        :func:`jibo_cloud.rest.routes.register` routes ``api-socket.*`` here directly.

        Keep-alive: under hypercorn with :mod:`jibo_cloud.hypercorn_fixes` (the
        :data:`~jibo_cloud.hypercorn_fixes.PING_EXTENSION` extension), this task sends the
        Ping every ``config.ping_interval`` seconds, the first one interval after the
        accept, as hypercorn would, instead of hypercorn keeping a ping task per socket
        (~3.4 KiB each). Elsewhere the server's own pings (if any) are left alone.
        """
        await receive()  # websocket.connect
        try:
            record = await self.check_token(str(scope.get("path", "/")))
            note_principal(f"robot:{record.robot_name}")
            key = self._admit(record)
        except HandshakeRejected as rejected:
            log.info("socket refused: %s %s", rejected.status, rejected.reason)
            await _deny(scope, send, rejected)
            return
        # An idle socket's frames keep only what they need (issue 4: memory per socket).
        robot_name, account_id = record.robot_name, record.account_id
        del record
        try:
            await self._accept_and_hold(scope, receive, send, robot_name, account_id)
        finally:
            self._release(key, robot_name)

    async def _accept_and_hold(
        self, scope: Mapping[str, Any], receive: ASGIReceive, send: ASGISend, robot_name: str,
        account_id: str | None,
    ) -> None:  # fmt: skip
        interval = self.runtime.config.ping_interval
        if PING_EXTENSION in scope.get("extensions", {}) and interval > 0:
            await send({"type": "websocket.accept", PING_EXTENSION: "app"})
            first_ping = trio.current_time() + interval
        else:
            await send({"type": "websocket.accept"})
            first_ping = math.inf
        await self._run(
            robot_name, account_id, functools.partial(_asgi_send_text, send),
            _hold_asgi(receive, send, first_ping, interval),
        )  # fmt: skip

    async def _run(
        self, robot_name: str, account_id: str | None, send_text: SendText,
        until_closed: Coroutine[Any, Any, None],
    ) -> None:  # fmt: skip
        """Hold one accepted socket until it closes: bookkeeping, presence, deliveries.

        ``until_closed`` (a coroutine, not yet started) returns when the socket closes; it
        is closed unstarted if the socket ends before it runs."""
        session_id = secrets.token_hex(12)
        conn = _Connection(send_text, robot_name, account_id)
        # Registered before the session is written, so a notify() from now on sends at once.
        self._connections[robot_name] = (*self._connections.get(robot_name, ()), conn)
        present = False
        try:
            queued = await self._sessions.add(
                ("open", session_id, robot_name, "notification", self.runtime.now_ms())
            )
            self._present[robot_name] += 1
            present = True
            self._signal()
            if queued:
                await self._send_queued(queued)
            del queued  # an idle socket's frame keeps nothing it does not need (memory)
            if self.runtime.shutting_down.is_set():  # opened while close_all ran
                await conn.deliver(CLOSE_GOING_AWAY)
            await until_closed
        finally:
            until_closed.close()  # no-op once it ran; else no "never awaited" warning
            conns = tuple(c for c in self._connections.get(robot_name, ()) if c is not conn)
            if conns:
                self._connections[robot_name] = conns
            else:
                self._connections.pop(robot_name, None)
            with trio.move_on_after(2, shield=True):  # bounded: the socket is already gone
                await self._sessions.add(("close", session_id, "", "", self.runtime.now_ms()))
            # After the bookkeeping, so a waiter on is_connected sees the session closed.
            if present:
                self._present[robot_name] -= 1
                if self._present[robot_name] <= 0:
                    del self._present[robot_name]
                self._signal()


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
    and send a keep-alive Ping at ``first_ping``, then every ``interval`` seconds
    (:meth:`NotificationHub.serve_asgi`). A module-level coroutine rather than a closure:
    no function object and cells per idle socket."""
    ping_at = first_ping
    while True:
        with trio.move_on_at(ping_at):
            while (await receive())["type"] != "websocket.disconnect":
                pass
            return
        await send({"type": PING_MESSAGE})  # a no-op once the socket is closing
        ping_at = trio.current_time() + interval


async def _deny(scope: Mapping[str, Any], send: ASGISend, rejected: HandshakeRejected) -> None:
    """Refuse the upgrade with the HTTP status and plain-text reason (as app.py does)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = rejected.reason.encode()
    await send({
        "type": "websocket.http.response.start", "status": rejected.status,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "websocket.http.response.body", "body": body})


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
