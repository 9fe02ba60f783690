"""Group-committed session bookkeeping of the notification sockets (open, close, ack).

Each socket's opening and closing is a row in the storage (presence for ``GetStatus`` in
every process, and which process holds a robot's socket); each delivered queued notification
is an ``ack`` that removes it from the queue. :class:`SessionLog` batches those writes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import attrs
import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.records import QueuedNotification

if TYPE_CHECKING:
    from jibo_cloud.runtime import Runtime

log = logging.getLogger("jibo_cloud.notify")

#: ``("open", session_id, robot_name, kind, now)``, ``("close", session_id, "", "", now)`` or
#: ``("ack", str(seq), "", "", now)``: see :meth:`jibo_cloud.storage.Storage.record_sessions`.
SessionEvent = tuple[str, str, str, str, int]


@attrs.define(eq=False)
class SessionLog:
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
