"""The connection runner: one hub socket under structured concurrency (PROTOCOL.md §4.5).

Shape (STYLE.md "The connection runner")::

    with trio.move_on_after(MAX_SOCKET_SECONDS) as socket_scope:       # §4.5: 3-minute cap
        async with trio.open_nursery() as nursery:                      # one nursery per socket
            nursery.start_soon(watch_shutdown)                          # grace, then 1001
            await run_transaction(hub)                                  # pumps frames
    close with the recorded code (bounded, shielded)

- Every frame goes through :meth:`HubSocket.send_frame`, the single writer: it takes the
  lock, adds ``timings.total`` when missing, drops frames after the first ``final: true``
  (counted in ``dropped_after_final``) and, on that first final frame, moves the socket's
  deadline to :data:`CLOSE_AFTER_FINAL_SECONDS` from now (``min`` keeps the 3-minute cap).
- Frames larger than ``config.max_text_frame`` / ``config.max_binary_frame`` close the
  socket with 1009.
- A crash inside a transaction becomes a final ``ERROR {code: GENERAL}`` for that robot only;
  the exception is logged with its traceback and never reaches other sockets.
- Graceful shutdown (``runtime.shutting_down``): a socket with a transaction in flight gets
  until ``0.8 * config.grace_seconds`` to finish (hypercorn cancels everything at
  ``grace_seconds``, so ours must come first), a socket without one is closed at once; both
  close with 1001. Each socket's nursery holds its own watcher task: a shared watcher would
  save a spawn per turn (~0.1 ms, inside the benchmark's noise) at the price of state shared
  across sockets and a task that outlives them (STYLE.md: no app-wide tasks).
- The robot closing first: quart-trio cancels the handler; nothing is left running.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import trio

from jibo_cloud.config import Config
from jibo_cloud.wsio import QuartSocket
from protocol.errors import ErrorCode

log = logging.getLogger(__name__)

#: §4.5: a socket lives at most 3 minutes.
MAX_SOCKET_SECONDS = 180.0
#: §4.5: after the first final frame the socket is closed 2 seconds later.
CLOSE_AFTER_FINAL_SECONDS = 2.0
#: §4.4: each parser, skill or history call gets 10 seconds.
CALL_TIMEOUT_SECONDS = 10.0
#: Bounded cleanup: sending the close frame may take this long at most.
CLOSE_CLEANUP_SECONDS = 1.0
#: Share of ``config.grace_seconds`` a transaction may use after shutdown starts.
GRACE_SHARE = 0.8

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class SocketClosed(Exception):
    """The transport broke while writing; the socket is finished."""


class FrameTooLarge(Exception):
    """The robot sent a frame over the configured cap (close 1009)."""


#: One encoder for every frame: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(obj: Mapping[str, Any]) -> str:
    return _ENCODER.encode(obj)


@attrs.define
class HubSocket:
    """One accepted hub socket: the single reader and the single writer."""

    sock: QuartSocket
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
    close_code: int = CLOSE_NORMAL
    end_reason: str = ""

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
        text = _dumps(frame)
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

    async def send_error(self, message: str, code: ErrorCode | None = ErrorCode.GENERAL) -> None:
        data: dict[str, Any] = {"message": message}
        if code is not None:
            data["code"] = code.value
        frame = {
            "type": "ERROR",
            "msgID": new_id(),
            "ts": self.now_ms(),
            "data": data,
            "final": True,
        }
        await self.send_frame(frame)

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


def new_id() -> str:
    """A fresh ``msgID`` (the I/O layer makes ids; protocol code gets this factory)."""
    return str(uuid.uuid4())


TransactionRunner = Callable[[HubSocket], Awaitable[None]]


async def serve_socket(
    sock: QuartSocket,
    config: Config,
    shutting_down: trio.Event,
    run_transaction: TransactionRunner,
    *,
    now_ms: Callable[[], int],
) -> HubSocket:
    """Run one accepted hub socket to its end and close it. Returns the finished socket.

    ``run_transaction`` pumps the robot's frames for as long as it likes (usually forever:
    frames after the final one are dropped); the socket's deadline ends it. Cancellation
    from outside (the robot closed, or the server is going down) propagates after the close
    frame was attempted.
    """
    scope = trio.CancelScope(deadline=trio.current_time() + MAX_SOCKET_SECONDS)
    hub = HubSocket(sock=sock, config=config, scope=scope, now_ms=now_ms)
    ended_here = False
    try:
        with scope:
            async with trio.open_nursery() as nursery:
                # The socket's own watcher: shutdown reaches each socket through its nursery,
                # so nothing outlives the socket and no registry is shared between sockets.
                nursery.start_soon(_watch_shutdown, hub, shutting_down)
                try:
                    await run_transaction(hub)
                except* FrameTooLarge as group:
                    hub.close_code = CLOSE_TOO_BIG
                    hub.end_reason = f"frame over the cap: {group.exceptions[0]}"
                    scope.cancel()
                except* SocketClosed:
                    hub.end_reason = "transport closed while writing"
                    scope.cancel()
                except* Exception as group:
                    # A bug in one transaction: that robot gets an ERROR, nobody else notices.
                    log.error(
                        "transaction crashed", exc_info=(type(group), group, group.__traceback__)
                    )
                    await _report_crash(hub)
                # Frames are pumped until the deadline; a runner that returns early waits here.
                await trio.sleep_forever()
        ended_here = True
        if scope.cancelled_caught and not hub.end_reason:
            hub.end_reason = "3-minute socket cap" if math.isfinite(scope.deadline) else "ended"
    finally:
        log.info(
            "hub socket closing %s: %s (frames sent %d, dropped after final %d)",
            hub.close_code,
            hub.end_reason if ended_here else "robot closed first (or the server cancelled)",
            hub.frames_sent,
            hub.dropped_after_final,
        )
        with trio.move_on_after(CLOSE_CLEANUP_SECONDS, shield=True):
            await _close(hub)
    return hub


async def _report_crash(hub: HubSocket) -> None:
    if hub.final_sent:
        hub.close_soon(0, reason="transaction crashed after final")
        return
    try:
        await hub.send_error("Internal error while handling the transaction")
    except SocketClosed:
        hub.close_soon(0, reason="transaction crashed; transport closed")


async def _close(hub: HubSocket) -> None:
    try:
        await hub.sock.close(hub.close_code)
    except Exception as exc:  # the peer may be gone already; closing is best effort
        log.debug("close after end failed: %r", exc)


#: Per trio run: for each shutdown event (by id), the live sockets it must close (by id).
async def _watch_shutdown(hub: HubSocket, shutting_down: trio.Event) -> None:
    """Close ``hub`` for a graceful shutdown when ``shutting_down`` fires (now, if it has)."""
    await shutting_down.wait()
    _shut_down(hub)


def _shut_down(hub: HubSocket) -> None:
    if hub.final_sent:
        return
    hub.close_code = CLOSE_GOING_AWAY
    if hub.in_flight:
        hub.close_soon(hub.config.grace_seconds * GRACE_SHARE, reason="server shutting down")
    else:
        hub.close_soon(0, reason="server shutting down")
