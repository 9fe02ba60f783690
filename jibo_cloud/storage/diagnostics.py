"""What ``jibo-cloud doctor`` knows about each robot: its last failures and when it
last succeeded, kept in the storage so every server process contributes and the CLI reads them.

- A *failure* is a REST call or a socket handshake of an identified robot that was refused or
  failed: where (``rest``, ``hub``, ``notification``), which step (the ``X-Amz-Target`` or the
  socket path), the status, the error code and a short reason (redacted, e-mail addresses
  masked, clipped: never a body, a token or a transcript). Only the newest
  :data:`MAX_FAILURES_PER_ROBOT` are kept per robot. ``verified=False`` marks a failure whose
  robot was named by credentials that did not verify (a SigV4 key whose signature failed, a
  hub token whose signature did not check): a clock-skewed robot looks exactly like that, and
  so does a stranger who knows its access key id, so doctor says which it is.
- An *activity* is a robot's last success of a kind: ``boot`` (``NewRobotToken``, the first
  call of every boot and reconnect, PROTOCOL.md §2.3), ``rest`` (any call) and ``hub`` (an
  admitted hub socket). The notification socket's are its session rows (:mod:`.sockets`).

Writing never slows or breaks the request that noticed it: the request calls a synchronous
``note_*`` method that only puts the fact in a small in-memory batch (bounded:
:data:`MAX_PENDING` failures and as many successes; a success is noted at most once per
:data:`ACTIVITY_EVERY_MS` per robot and kind), and a short-lived trio *system task* per batch
writes it in one transaction, then ends (:class:`jibo_cloud.storage.batch.Batch`, which the
Voice history's turns use too). A failed write is logged and dropped: diagnostics are best
effort by design.
"""

# S608: the f-strings below only splice in this module's constant column list.
# ruff: noqa: S608

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import attrs

from jibo_cloud.logs import redact
from jibo_cloud.storage.batch import Batch
from jibo_cloud.storage.db import QueryBase, Row, Tx

log = logging.getLogger(__name__)

REST = "rest"
HUB = "hub"
NOTIFICATION = "notification"
BOOT = "boot"
#: Failures kept per robot (older ones are deleted as new ones arrive).
MAX_FAILURES_PER_ROBOT = 20
#: Facts waiting to be written in one process; beyond this new ones are dropped (and counted).
MAX_PENDING = 256
#: A robot's success of one kind is written at most this often (ms) by one process.
ACTIVITY_EVERY_MS = 60_000
#: (robot, kind) pairs whose last noting one process remembers for the throttle.
MAX_THROTTLED = 100_000
#: Longest reason and step kept.
MAX_TEXT = 200
_EMAIL = re.compile(r"[^\s@'\"]+@[^\s@'\"]+\.[A-Za-z]{2,}")
_COLUMNS = "robot_name, at, channel, step, status, code, detail, verified"


@attrs.frozen
class RobotFailure:
    """One failed REST call or socket handshake of a robot."""

    robot_name: str
    at: int
    channel: str
    step: str
    status: int
    code: str
    detail: str = ""
    #: False when the credentials naming the robot did not verify (see the module doc).
    verified: bool = True


@attrs.frozen
class FailureNote:
    """What a request path hands over: the failure, and how to find its robot (a name known
    to be registered, or an access key id / claimed name the writer looks up)."""

    channel: str
    step: str
    status: int
    code: str
    detail: str
    at: int
    robot_name: str | None = None
    access_key_id: str | None = None
    claimed_robot: str | None = None
    verified: bool = True


def clean_text(value: str) -> str:
    """``value`` safe to keep: secrets redacted, e-mail addresses masked, printable, clipped."""
    text = _EMAIL.sub("[email]", redact(value))
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:MAX_TEXT]


def _failure(r: Row) -> RobotFailure:
    return RobotFailure(
        robot_name=r[0], at=int(r[1]), channel=r[2], step=r[3], status=int(r[4]), code=r[5],
        detail=r[6], verified=bool(r[7]),
    )  # fmt: skip


@attrs.define
class _Pending:
    """One process's unwritten facts (see the module doc)."""

    failures: Batch[FailureNote]
    #: (robot, kind, at, detail) rows: the newest of a robot's kind wins as they are written.
    activity: Batch[tuple[str, str, int, str]]
    #: (robot, kind) -> when this process last queued it (the throttle).
    noted: dict[tuple[str, str], int] = attrs.field(factory=dict)


class DiagnosticsQueries(QueryBase):
    """Robot failures and last successes (mixed into the storage)."""

    #: Created on first use, per storage object (so per process and per server).
    _diagnostics: _Pending | None = None

    # ---------------------------------------------------------------- queries

    async def record_diagnostics(
        self,
        failures: Sequence[RobotFailure],
        activity: Sequence[tuple[str, str, int, str]] = (),
    ) -> None:
        """Store ``failures`` (trimming each robot to :data:`MAX_FAILURES_PER_ROBOT`) and
        ``activity`` rows ``(robot_name, kind, at, detail)`` (newest wins), in one transaction."""

        def fn(tx: Tx) -> None:
            for f in failures:
                tx.execute(
                    f"INSERT INTO robot_failures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (f.robot_name, f.at, f.channel, clean_text(f.step), f.status,
                     clean_text(f.code), clean_text(f.detail), int(f.verified)),
                )  # fmt: skip
            for name in sorted({f.robot_name for f in failures}):
                tx.execute(
                    "DELETE FROM robot_failures WHERE robot_name = ? AND seq <= (SELECT seq FROM"
                    " robot_failures WHERE robot_name = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (name, name, MAX_FAILURES_PER_ROBOT),
                )
            for name, kind, at, detail in activity:
                tx.execute(
                    "INSERT INTO robot_activity (robot_name, kind, at, detail) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (robot_name, kind) DO UPDATE SET at = excluded.at,"
                    " detail = excluded.detail WHERE excluded.at >= robot_activity.at",
                    (name, kind, at, clean_text(detail)),
                )

        if failures or activity:
            await self._write(fn)

    async def robot_failures(self, robot_name: str) -> list[RobotFailure]:
        """The robot's kept failures, newest first."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_COLUMNS} FROM robot_failures WHERE robot_name = ? ORDER BY seq DESC",
                (robot_name,),
            )
        )
        return [_failure(r) for r in rows]

    async def robot_activity(self, robot_name: str) -> dict[str, tuple[int, str]]:
        """The robot's last success per kind: ``{kind: (at, detail)}``."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT kind, at, detail FROM robot_activity WHERE robot_name = ?", (robot_name,)
            )
        )
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    # ---------------------------------------------------------------- fire and forget

    def note_robot_failure(self, note: FailureNote) -> None:
        """Keep ``note`` for the background writer; returns at once, never raises."""
        self._pending_diagnostics().failures.add(note)

    def note_robot_activity(self, robot_name: str, kind: str, at: int, detail: str = "") -> None:
        """Keep a robot's success (throttled per robot and kind); returns at once."""
        pending = self._pending_diagnostics()
        key = (robot_name, kind)
        if at - pending.noted.get(key, -ACTIVITY_EVERY_MS) < ACTIVITY_EVERY_MS:
            return
        if len(pending.noted) >= MAX_THROTTLED:
            pending.noted.clear()  # a few extra writes, never unbounded memory
        if pending.activity.add((robot_name, kind, at, detail)):
            pending.noted[key] = at

    async def flush_diagnostics(self) -> None:
        """Write what is pending now (tests and doctor may; the writer tasks do).

        Raises:
            StorageUnavailable: the storage cannot be reached (the batch is dropped).
        """
        pending = self._pending_diagnostics()
        await pending.failures.flush()
        await pending.activity.flush()

    async def _write_failures(self, notes: list[FailureNote]) -> None:
        failures = [f for note in notes if (f := await self._resolve(note)) is not None]
        await self.record_diagnostics(failures)

    async def _write_activity(self, rows: list[tuple[str, str, int, str]]) -> None:
        await self.record_diagnostics((), rows)

    async def _resolve(self, note: FailureNote) -> RobotFailure | None:
        """The failure with its registered robot, or None if no registered robot is meant."""
        name = note.robot_name
        if name is None and note.access_key_id:
            key = await self.get_key_pair(note.access_key_id)  # type: ignore[attr-defined]
            name = key.robot_name if key is not None else None
        elif name is None and note.claimed_robot:
            robot = await self.get_robot(note.claimed_robot)  # type: ignore[attr-defined]
            name = robot.name if robot is not None else None
        if name is None:
            return None
        return RobotFailure(
            robot_name=name, at=note.at, channel=note.channel, step=note.step,
            status=note.status, code=note.code, detail=note.detail, verified=note.verified,
        )  # fmt: skip

    def _pending_diagnostics(self) -> _Pending:
        if self._diagnostics is None:
            self._diagnostics = _Pending(
                failures=Batch("robot diagnostics", self._write_failures, MAX_PENDING),
                activity=Batch("robot diagnostics", self._write_activity, MAX_PENDING),
            )
        return self._diagnostics
