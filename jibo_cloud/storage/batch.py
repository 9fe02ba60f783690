"""Fire-and-forget rows written in batches by one short-lived background task.

Some facts must never slow the request or socket that produced them, and losing a few under
overload is acceptable (robot diagnostics, the Voice history's turns). Writing each in its own
transaction costs a task, two thread hand-offs and a commit (on SQLite a sync to disk) per
fact: at a few hundred hub turns a second that was an eighth of a turn's CPU and more than
the disk kept up with (docs/hub.md). So the producer only appends to a bounded in-memory
list (:meth:`Batch.add`, synchronous, never raises), and one trio *system task* per batch
writes whatever is pending in one call, again until nothing is left, then ends: no task
lives while nothing is pending, and none outlives the process's ``trio.run``.

A system task's escaping error would end the whole process, so a failed write is logged
and its rows dropped (best effort by design), and so is any other error (a bug here is never
worth a crashed server).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import attrs
import trio

from jibo_cloud.errors import StorageUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


@attrs.define(eq=False)
class Batch(Generic[T]):
    """One kind of pending rows of one storage object (so of one process and server)."""

    #: What the rows are, for log lines ("voice turns").
    what: str
    #: Writes a batch in one transaction. Raises StorageUnavailable when it cannot.
    write: Callable[[list[T]], Awaitable[object]]
    #: Rows waiting at most; beyond it new rows are dropped and counted.
    limit: int
    #: Seconds the writer waits before each write, so a busy server writes one transaction
    #: per interval instead of one per row (0: write at once).
    delay: float = 0.0
    pending: list[T] = attrs.field(factory=list)
    writing: bool = False
    dropped: int = 0

    def add(self, row: T) -> bool:
        """Keep ``row`` for the writer (started if none runs); False when it was dropped
        (the batch is full). Outside ``trio.run`` the row waits for the next :meth:`flush`."""
        if len(self.pending) >= self.limit:
            self.dropped += 1
            return False
        self.pending.append(row)
        if not self.writing:
            try:
                trio.lowlevel.spawn_system_task(self._run, name=f"jibo-cloud {self.what} writer")
            except RuntimeError:  # not inside trio.run: kept for an explicit flush
                return True
            self.writing = True
        return True

    async def flush(self) -> int:
        """Write what is pending now; returns how many rows were taken.

        Raises:
            StorageUnavailable: the storage cannot be reached (those rows are dropped).
        """
        rows, self.pending = self.pending, []
        if rows:
            await self.write(rows)
        return len(rows)

    async def _run(self) -> None:
        """The writer: batches until nothing is pending, then ends."""
        try:
            while self.pending:
                if self.delay:
                    await trio.sleep(self.delay)
                try:
                    await self.flush()
                except StorageUnavailable as exc:
                    log.warning("%s not recorded: storage unavailable: %s", self.what, exc)
                except Exception:
                    log.exception("%s not recorded", self.what)
                if self.dropped:
                    log.warning("%d %s not recorded (too many at once)", self.dropped, self.what)
                    self.dropped = 0
        finally:
            self.writing = False
