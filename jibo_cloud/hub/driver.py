"""The transaction driver: one task owns a transaction machine for one hub socket.

Shape (STYLE.md "Several tasks driving one state machine", trio-websocket's ``_reader_task``)::

    reader task ──robot frames──┐
    service call tasks ─replies─┼──► one event queue ──► the driver task ──► machine
    inline answers ─────────────┤                            │
    timers: deadlines ──────────┘ (a cancel scope's deadline  └─► outputs, in order:
                                   around the driver's wait)      frames, calls, records

- The driver is the only caller of the machine. Every event on the queue is a small
  function of ``now_ms`` that feeds the machine and returns its outputs; the driver performs
  them in the order produced before it takes the next event, so two machine calls' outputs
  never interleave.
- Timers are deadlines, not tasks: ``StartTimer`` records a deadline, and the driver waits for
  the next event under a cancel scope whose deadline is the earliest one; when it passes, the
  due timers fire in deadline order (the machine ignores stale ones). A due timer goes
  before events already queued; queued events are taken without waiting.
- Service calls (parser, skill, recogniser result, history I/O) run as tasks in the socket's
  nursery, each under its own ``trio.fail_after`` (:data:`CALL_TIMEOUT_SECONDS`), and queue
  their answer. In-process work with no I/O (the memory history, feeding the recogniser,
  the embedded parser's template parse, a built-in skill's ``answer_now``) is done inline;
  an inline answer is queued like a task's.
- A machine that raises is failed for good (``STOP``, :func:`protocol.transaction.guarded`):
  the driver logs the traceback, answers ``ERROR {code: GENERAL}`` with the transaction's
  ``transID`` (:func:`jibo_cloud.hub.session.report_crash`) and drops every later event.

The transaction-specific part (which outputs are service calls and how to perform them) is
a :class:`Performer`: :class:`jibo_cloud.hub.listen.ListenPerformer` and
:class:`jibo_cloud.hub.proactive.ProactivePerformer`.
"""

from __future__ import annotations

import collections
import functools
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs
import trio

from jibo_cloud.errors import RobotClosed
from jibo_cloud.hub.session import ROBOT_CLOSED_FIRST, HubSocket, report_crash
from jibo_cloud.logs import pop_trace, push_trace
from protocol.codec import decode_frame, to_json
from protocol.envelope import RobotMessage
from protocol.errors import DecodeError, RemoteProtocolError
from protocol.transaction import Forward, Send, StartTimer

log = logging.getLogger(__name__)

#: One event: given ``now_ms``, feed the machine and return its outputs.
Event = Callable[[int], Sequence[Any]]


class Machine(Protocol):
    """What the driver needs of a transaction machine (listen and proactive both are)."""

    @property
    def trans_id(self) -> str | None: ...

    @property
    def finished(self) -> bool: ...

    def receive(self, msg: RobotMessage, *, now_ms: int) -> Sequence[Any]: ...

    def fail(self, exc: RemoteProtocolError, *, now_ms: int) -> Sequence[Any]: ...

    def timer_fired(self, name: str, *, now_ms: int) -> Sequence[Any]: ...


class Performer(Protocol):
    """Performs the outputs that are not frames or timers (service calls, records)."""

    def audio(self, chunk: bytes) -> Event | None:
        """The event for a binary frame, or None to drop it."""

    async def perform(self, driver: TransactionDriver, output: Any) -> None: ...

    async def aclose(self) -> None:
        """Release what the transaction holds (a recogniser session); bounded."""


@attrs.define
class TransactionDriver:
    """One socket's transaction: the reader task, the event queue, the deadlines.

    Args:
        sock: the socket (its single writer and reader).
        machine: the listen or proactive machine; only this driver calls it.
        performer: the transaction's service calls.
        nursery: the socket's nursery (the reader and call tasks live in it).
        now_ms: the injected wall clock for the machine.
    """

    sock: HubSocket
    machine: Machine
    performer: Performer
    nursery: trio.Nursery
    now_ms: Callable[[], int]
    deadlines: dict[str, float] = attrs.field(factory=dict)
    failed: bool = False
    #: The log contexts with the transaction's ``transID`` once the machine knows it (the
    #: tasks started after that log it); undone when :meth:`run` ends.
    _traces: list[Any] = attrs.field(factory=list, init=False)
    #: Events not taken yet, in arrival order: unbounded, so a task's answer never waits
    #: for the driver (it is one event). A deque and a parking lot rather than a memory
    #: channel: trio builds a typing alias each time it opens a channel, once per turn here.
    _queue: collections.deque[Event] = attrs.field(factory=collections.deque, init=False)
    _wakeup: trio.lowlevel.ParkingLot = attrs.field(factory=trio.lowlevel.ParkingLot, init=False)
    #: The driver waits for an event (set just before the wait, cleared when it loops).
    _parked: bool = attrs.field(default=False, init=False)
    #: The robot closed once nothing was left to do: the driver returns (:meth:`_read_robot`).
    _robot_gone: bool = attrs.field(default=False, init=False)

    def post(self, event: Event) -> None:
        """Queue an event (from a reader or call task, or an inline answer)."""
        self._queue.append(event)
        if self._wakeup:
            self._wakeup.unpark()

    async def run(self) -> None:
        """Drive the transaction until the socket's deadline (or the robot) ends it."""
        try:
            await self._run()
        finally:
            while self._traces:
                pop_trace(self._traces.pop())

    async def _run(self) -> None:
        self.nursery.start_soon(self._read_robot)
        queue = self._queue
        while True:
            self._parked = False
            if self._robot_gone:
                return
            deadline = min(self.deadlines.values()) if self.deadlines else math.inf
            if deadline <= trio.current_time():
                # A due timer goes before any waiting event.
                if not self.failed:
                    await self._fire_due_timers()
            elif queue:
                # Waiting events (robot frames read together, an answer made inline) are taken
                # without a wait: no scheduler round trip, no cancel scope (docs/hub.md).
                event = queue.popleft()
                if not self.failed:
                    await self.feed(event)
            elif deadline == math.inf:
                self._parked = True
                await self._wakeup.park()
            else:
                self._parked = True
                with trio.CancelScope(deadline=deadline):
                    await self._wakeup.park()

    async def feed(self, event: Event) -> None:
        """Feed one event to the machine and perform its outputs (driver task only)."""
        try:
            outputs = event(self.now_ms())
        except Exception:
            # The machine is failed for good (STOP); the robot gets the protocol's ERROR.
            # Its timers go with it (none may fire into a failed machine).
            self.failed = True
            self.deadlines.clear()
            log.exception("transaction machine failed")
            await report_crash(self.sock, self.machine.trans_id)
            return
        trans_id = self.machine.trans_id
        if trans_id != self.sock.trans_id:
            self.sock.trans_id = trans_id
            if trans_id:
                self._traces.append(push_trace(trans_id=trans_id))
        if outputs:
            await self.apply(outputs)
        if self.machine.finished and self.deadlines:
            self.deadlines.clear()  # after the final frame no timer matters: no more scopes

    async def apply(self, outputs: Sequence[Any]) -> None:
        """Perform the machine's outputs in the order it produced them."""
        sock = self.sock
        for out in outputs:
            if isinstance(out, Send):
                await sock.send_frame(to_json(out.message))
            elif isinstance(out, Forward):
                frame = dict(out.reply)
                frame["final"] = out.final
                frame["timings"] = dict(out.timings)
                await sock.send_frame(frame)
            elif isinstance(out, StartTimer):
                self.deadlines[out.name] = trio.current_time() + out.ms / 1000
            else:
                await self.performer.perform(self, out)

    async def _fire_due_timers(self) -> None:
        now = trio.current_time()
        due = sorted((when, name) for name, when in self.deadlines.items() if when <= now)
        machine = self.machine
        for _, name in due:
            del self.deadlines[name]
            await self.feed(functools.partial(_fire, machine, name))

    async def _read_robot(self) -> None:
        """The reader task: robot frames onto the queue, in arrival order."""
        sock, machine, post = self.sock, self.machine, self.post
        while True:
            try:
                frame = await sock.receive()
            except RobotClosed:
                if not self._idle():
                    raise  # into the nursery: it cancels what is still running
                # The usual end of a turn: the robot closed after the final frame. Nothing
                # is left to cancel, so the socket ends without an exception through the
                # nursery (no exception group to split; docs/hub.md).
                sock.end_reason = ROBOT_CLOSED_FIRST
                self._robot_gone = True
                self._wakeup.unpark()
                return
            sock.in_flight = True
            if isinstance(frame, bytes):
                event = self.performer.audio(frame)
                if event is not None:
                    post(event)
                continue

            def on_frame(now_ms: int, text: str = frame) -> Sequence[Any]:
                try:
                    msg = decode_frame(text)
                    return machine.receive(msg, now_ms=now_ms)
                except (DecodeError, RemoteProtocolError) as exc:
                    return machine.fail(exc, now_ms=now_ms)

            post(on_frame)

    def _idle(self) -> bool:
        """Nothing left to do but wait: the machine is done, the driver waits with nothing
        queued, and no call task runs (the reader is the nursery's only child)."""
        return (
            self._parked
            and not self._queue
            and (self.machine.finished or self.failed)
            and len(self.nursery.child_tasks) == 1
        )


def _fire(machine: Machine, name: str, now_ms: int) -> Sequence[Any]:
    return machine.timer_fired(name, now_ms=now_ms)
