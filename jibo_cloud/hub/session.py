"""The connection runner: one hub socket under structured concurrency (PROTOCOL.md §4.5).

Shape (STYLE.md "The connection runner")::

    shutting_down.call_on_set(shut_down)                                # grace, then 1001
    with trio.CancelScope(deadline=now + MAX_SOCKET_SECONDS):         # §4.5: 3-minute cap
        async with trio.open_nursery() as nursery:                      # one nursery per socket
            await run_transaction(conn, nursery)                        # the driver task
    close with the recorded code (bounded, shielded)

The transaction's reader and call tasks live in the same nursery
(:class:`jibo_cloud.hub.driver.TransactionDriver`).

- Every frame goes through :meth:`HubSocket.send_frame`, the single writer: it takes the
  lock, adds ``timings.total`` when missing, drops frames after the first ``final: true``
  (counted in ``dropped_after_final``) and, on that first final frame, moves the socket's
  deadline to :data:`CLOSE_AFTER_FINAL_SECONDS` from now (``min`` keeps the 3-minute cap).
- Frames larger than ``config.max_text_frame`` / ``config.max_binary_frame`` close the
  socket with 1009.
- A crash inside a transaction becomes a final ``ERROR {code: GENERAL}`` (with the
  transaction's ``transID``, :func:`report_crash`) for that robot only; the exception is
  logged with its traceback and never reaches other sockets.
- Graceful shutdown (``runtime.shutting_down``): a socket with a transaction in flight gets
  until ``0.8 * config.grace_seconds`` to finish (hypercorn cancels everything at
  ``grace_seconds``, so ours must come first), a socket without one is closed at once; both
  close with 1001. The socket holds a callback on the server's
  :class:`jibo_cloud.shutdown.Shutdown` while it is open (it moves the socket's deadline),
  not a watcher task: a task per socket was measured at about 1.5 % of a turn's CPU, and
  the callback outlives nothing (it is forgotten as the socket ends).
- The robot closing first: quart-trio cancels the handler; nothing is left running.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import attrs
import trio

from jibo_cloud import jsontext, metrics
from jibo_cloud.config import Config
from jibo_cloud.errors import RobotClosed, SocketClosed
from jibo_cloud.ids import new_id
from jibo_cloud.shutdown import Shutdown
from protocol.codec import to_json
from protocol.errors import ErrorCode
from protocol.transaction import CALL_TIMEOUT_MS, INTERNAL_ERROR_TEXT, error_reply

log = logging.getLogger(__name__)

#: §4.5: a socket lives at most 3 minutes.
MAX_SOCKET_SECONDS = 180.0
#: §4.5: after the first final frame the socket is closed 2 seconds later.
CLOSE_AFTER_FINAL_SECONDS = 2.0
#: §4.4: each parser, skill, recogniser-result or history call (protocol.transaction's).
CALL_TIMEOUT_SECONDS = CALL_TIMEOUT_MS / 1000
#: Bounded cleanup: sending the close frame may take this long at most.
CLOSE_CLEANUP_SECONDS = 1.0
#: Share of ``config.grace_seconds`` a transaction may use after shutdown starts.
GRACE_SHARE = 0.8

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class RobotSocket(Protocol):
    """An accepted websocket as the hub uses it: the edge's own
    :class:`jibo_cloud.edge.websocket.WebSocket` (tests use an in-memory one)."""

    async def receive(self) -> str | bytes: ...

    async def send(self, frame: str | bytes) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


#: Why a socket ended when the robot's Close (or a dropped connection) came first.
ROBOT_CLOSED_FIRST = "robot closed first"


class FrameTooLarge(Exception):
    """The robot sent a frame over the configured cap (close 1009)."""


@attrs.define
class HubSocket:
    """One accepted hub socket: the single reader and the single writer."""

    sock: RobotSocket
    config: Config
    scope: trio.CancelScope
    now_ms: Callable[[], int]
    opened_at: float = attrs.field(factory=trio.current_time)
    lock: trio.Lock = attrs.field(factory=trio.Lock)
    final_sent: bool = False
    dropped_after_final: int = 0
    frames_sent: int = 0
    #: Set by the transaction runner once the robot's first message arrived.
    in_flight: bool = False
    #: The transaction's ``transID`` once known (for the crash ERROR frame).
    trans_id: str | None = None
    close_code: int = CLOSE_NORMAL
    end_reason: str = ""
    #: The transaction type for the metrics (``listen``, ``proactive``).
    kind: str = "listen"

    def elapsed_ms(self) -> int:
        return int((trio.current_time() - self.opened_at) * 1000)

    def close_soon(self, seconds: float = CLOSE_AFTER_FINAL_SECONDS, reason: str = "") -> None:
        """Move the socket's deadline closer (never further: the 3-minute cap stays)."""
        self.scope.deadline = min(self.scope.deadline, trio.current_time() + seconds)
        if reason and not self.end_reason:
            self.end_reason = reason

    async def send_frame(self, frame: dict[str, Any]) -> bool:
        """Write one JSON frame; returns False when it was dropped (after final).

        Adds ``timings.total`` (ms since the socket opened) when the frame lacks it (§4.5).

        Raises:
            SocketClosed: the transport is gone.
        """
        if self.final_sent:
            self.dropped_after_final += 1
            return False
        timings = frame.get("timings")
        if not isinstance(timings, Mapping) or "total" not in timings:
            frame["timings"] = {**(timings or {}), "total": self.elapsed_ms()}
        if frame.get("final") is True:
            self.final_sent = True
            self.close_soon(reason="closed after final")
            self._count_final(frame)
        elif frame.get("type") == "ERROR":
            metrics.error(_error_code(frame))
        text = jsontext.dumps(frame)
        # Uncontended (the usual case) the lock is taken without the extra scheduler round
        # trip ``async with lock`` makes; the send below is the checkpoint. Still FIFO-fair:
        # acquire_nowait refuses while another writer waits.
        try:
            self.lock.acquire_nowait()
        except trio.WouldBlock:
            await self.lock.acquire()
        try:
            await self.sock.send(text)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise SocketClosed(str(exc)) from None
        finally:
            self.lock.release()
        self.frames_sent += 1
        return True

    def _count_final(self, frame: Mapping[str, Any]) -> None:
        """The transaction ended with this frame: its outcome (``ok`` or the ERROR's code)
        and the whole turn's latency (the socket's age, as ``timings.total``)."""
        outcome = "ok"
        if frame.get("type") == "ERROR":
            outcome = _error_code(frame)
            metrics.error(outcome)
        metrics.transaction_done(self.kind, outcome)
        metrics.observe_stage("total", trio.current_time() - self.opened_at)

    async def receive(self) -> str | bytes:
        """The robot's next frame, with the configured size caps (§ limits).

        Raises:
            FrameTooLarge: the frame is over its cap; the socket closes with 1009.
        """
        frame = await self.sock.receive()
        if isinstance(frame, str):
            # A str of n characters is at least n and at most 4n bytes in UTF-8.
            size = len(frame)
            if size * 4 > self.config.max_text_frame:
                size = len(frame.encode("utf-8", "surrogatepass"))
            if size > self.config.max_text_frame:
                raise FrameTooLarge(f"text frame of {size} bytes")
        elif len(frame) > self.config.max_binary_frame:
            raise FrameTooLarge(f"binary frame of {len(frame)} bytes")
        return frame


def _error_code(frame: Mapping[str, Any]) -> str:
    """An ERROR frame's code for the metrics (``GENERAL`` when it carries none)."""
    data = frame.get("data")
    code = data.get("code") if isinstance(data, Mapping) else None
    return str(code) if code else "GENERAL"


TransactionRunner = Callable[[HubSocket, trio.Nursery], Awaitable[None]]


async def serve_socket(
    sock: RobotSocket,
    config: Config,
    shutting_down: Shutdown,
    run_transaction: TransactionRunner,
    *,
    now_ms: Callable[[], int],
    kind: str = "listen",
) -> HubSocket:
    """Run one accepted hub socket to its end and close it. Returns the finished socket.

    ``run_transaction(conn, nursery)`` drives the transaction for as long as it likes (usually
    forever: frames after the final one are dropped), spawning its tasks into the socket's
    nursery; the socket's deadline ends it. Cancellation from outside (the robot closed, or
    the server is going down) propagates after the close frame was attempted.

    ``kind`` (``listen``, ``proactive``) labels the socket's transaction in the metrics: the
    open hub sockets, and each transaction's outcome (``cancelled`` when it began but no
    final frame went out).
    """
    scope = trio.CancelScope(deadline=trio.current_time() + MAX_SOCKET_SECONDS)
    conn = HubSocket(sock=sock, config=config, scope=scope, now_ms=now_ms, kind=kind)
    ended_here = False
    metrics.socket_opened("hub")
    # Shutdown reaches the socket through a callback held while it is open (no watcher task:
    # docs/hub.md); it only moves the socket's deadline.
    on_shutdown = functools.partial(_shut_down, conn)
    shutting_down.call_on_set(on_shutdown)
    try:
        with scope:
            try:
                async with trio.open_nursery() as nursery:
                    await run_transaction(conn, nursery)
                    if conn.end_reason != ROBOT_CLOSED_FIRST:
                        # A runner that returns early waits here for the deadline (a driver
                        # returns only once the robot closed with nothing left to do).
                        await trio.sleep_forever()
            except* FrameTooLarge as group:
                conn.close_code = CLOSE_TOO_BIG
                conn.end_reason = f"frame over the cap: {group.exceptions[0]}"
                scope.cancel()
            except* RobotClosed:
                conn.end_reason = ROBOT_CLOSED_FIRST
                scope.cancel()
            except* SocketClosed:
                conn.end_reason = "transport closed while writing"
                scope.cancel()
            except* Exception as group:
                # A bug in one transaction: that robot gets an ERROR, nobody else notices.
                log.error("transaction crashed", exc_info=(type(group), group, group.__traceback__))
                await report_crash(conn, conn.trans_id)
                await trio.sleep_forever()  # until the deadline report_crash moved
        ended_here = True
        if scope.cancelled_caught and not conn.end_reason:
            conn.end_reason = "3-minute socket cap" if math.isfinite(scope.deadline) else "ended"
    finally:
        shutting_down.forget(on_shutdown)
        metrics.socket_closed("hub")
        if conn.in_flight and not conn.final_sent:
            metrics.transaction_done(kind, "cancelled")
        log.info(
            "hub socket closing %s: %s (frames sent %d, dropped after final %d)",
            conn.close_code,
            conn.end_reason if ended_here else "robot closed first (or the server cancelled)",
            conn.frames_sent,
            conn.dropped_after_final,
        )
        if conn.end_reason != ROBOT_CLOSED_FIRST:  # its Close was answered already
            with trio.move_on_after(CLOSE_CLEANUP_SECONDS, shield=True):
                await _close(conn)
    return conn


async def report_crash(conn: HubSocket, trans_id: str | None) -> None:
    """Our side failed: the robot gets the final ``ERROR {code: GENERAL}`` (once; after a
    final frame the socket just closes now)."""
    if conn.final_sent:
        conn.close_soon(0, reason="transaction crashed after final")
        return
    frame = error_reply(
        INTERNAL_ERROR_TEXT,
        ErrorCode.GENERAL,
        msg_id=new_id(),
        ts=conn.now_ms(),
        trans_id=trans_id,
        total_ms=None,
    )
    try:
        await conn.send_frame(to_json(frame))
    except SocketClosed:
        conn.close_soon(0, reason="transaction crashed; transport closed")


async def _close(conn: HubSocket) -> None:
    try:
        await conn.sock.close(conn.close_code)
    except Exception as exc:  # the peer may be gone already; closing is best effort
        log.debug("close after end failed: %r", exc)


def _shut_down(conn: HubSocket) -> None:
    """A graceful shutdown started: 1001, now for an idle socket, after the grace share for
    one with a transaction in flight; nothing for one past its final frame."""
    if conn.final_sent:
        return
    conn.close_code = CLOSE_GOING_AWAY
    if conn.in_flight:
        conn.close_soon(conn.config.grace_seconds * GRACE_SHARE, reason="server shutting down")
    else:
        conn.close_soon(0, reason="server shutting down")
