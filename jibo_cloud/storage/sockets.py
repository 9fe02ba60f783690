"""Queries for the notification socket (PROTOCOL.md §3): robot tokens, the sessions every
server process records, and the notifications waiting for a robot's socket.

Shared by both backends (see :mod:`jibo_cloud.storage.db`). Each public coroutine is one
transaction.
"""

# S608: the f-strings below only splice in this module's constant column lists and "?"
# placeholders; every value goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Collection, Sequence

from jibo_cloud.storage.db import QueryBase, Row, Tx
from jibo_cloud.storage.records import QueuedNotification, RobotToken

_QUEUED = "seq, robot_name, frame, created"
#: Parameters per ``IN (...)`` list: SQLite's limit is 32,766, PostgreSQL's 65,535.
_IN_CHUNK = 500


def _queued(r: Row) -> QueuedNotification:
    return QueuedNotification(seq=int(r[0]), robot_name=r[1], frame=r[2], created=int(r[3]))


def _queued_for(tx: Tx, robot_names: Collection[str]) -> list[QueuedNotification]:
    """The notifications waiting for these robots, oldest first."""
    names = sorted(set(robot_names))
    found: list[QueuedNotification] = []
    for start in range(0, len(names), _IN_CHUNK):
        chunk = names[start : start + _IN_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        found += [_queued(r) for r in tx.execute(
            f"SELECT {_QUEUED} FROM notification_queue WHERE robot_name IN ({marks})", chunk
        )]  # fmt: skip
    return sorted(found, key=lambda q: q.seq)


class SocketQueries(QueryBase):
    """Robot tokens, notification sessions and the queue (mixed into the storage)."""

    # ---------------------------------------------------------------- robot tokens, sessions

    async def add_robot_token(self, token: RobotToken) -> None:
        t = token
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO robot_tokens (token_hash, robot_name, account_id, issued, expires,"
                " revoked) VALUES (?, ?, ?, ?, ?, ?)",
                (t.token_hash, t.robot_name, t.account_id, t.issued, t.expires, int(t.revoked)),
            )
        )

    async def find_robot_token(self, token_hash: str, now: int) -> RobotToken | None:
        """The token with this hash if it is neither expired nor revoked."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT token_hash, robot_name, issued, expires, account_id, revoked"
                " FROM robot_tokens WHERE token_hash = ? AND revoked = 0 AND expires > ?",
                (token_hash, now),
            )
        )
        if not rows:
            return None
        r = rows[0]
        return RobotToken(r[0], r[1], int(r[2]), int(r[3]), r[4], bool(r[5]))

    async def revoke_robot_tokens(self, robot_name: str) -> int:
        def fn(tx: Tx) -> int:
            tx.execute("UPDATE robot_tokens SET revoked = 1 WHERE robot_name = ? AND revoked = 0",
                       (robot_name,))  # fmt: skip
            return tx.rowcount()

        return int(await self._write(fn))

    async def open_session(self, session_id: str, robot_name: str, kind: str, now: int) -> None:
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO sessions (id, robot_name, kind, opened) VALUES (?, ?, ?, ?)",
                (session_id, robot_name, kind, now),
            )
        )

    async def close_session(self, session_id: str, now: int) -> None:
        await self._write(
            lambda tx: tx.execute("UPDATE sessions SET closed = ? WHERE id = ?", (now, session_id))
        )

    async def record_sessions(
        self, events: Sequence[tuple[str, str, str, str, int]], *, instance_id: str = ""
    ) -> dict[str, list[QueuedNotification]]:
        """Many session opens/closes in one transaction (one fsync for a whole reconnect storm).

        Each event is ``("open", id, robot_name, kind, now)``, ``("close", id, "", "", now)``
        or ``("ack", str(seq), "", "", now)`` (a queued notification was sent: drop it). Opens
        are recorded as held by ``instance_id`` (the server process, ``Runtime.instance_id``).

        Returns:
            The notifications waiting for each robot opened in this batch, oldest first
            (read in the same transaction, so a connecting socket costs no extra round trip).
        """

        def fn(tx: Tx) -> dict[str, list[QueuedNotification]]:
            opened: set[str] = set()
            for action, key, robot_name, kind, now in events:
                if action == "open":
                    tx.execute(
                        "INSERT INTO sessions (id, robot_name, kind, opened, instance_id)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (key, robot_name, kind, now, instance_id),
                    )
                    opened.add(robot_name)
                elif action == "ack":
                    tx.execute("DELETE FROM notification_queue WHERE seq = ?", (int(key),))
                else:
                    tx.execute("UPDATE sessions SET closed = ? WHERE id = ?", (now, key))
            waiting: dict[str, list[QueuedNotification]] = {}
            for queued in _queued_for(tx, opened) if opened else ():
                waiting.setdefault(queued.robot_name, []).append(queued)
            return waiting

        return await self._write(fn)

    async def close_stale_sessions(self, live_instances: Collection[str], now_ms: int) -> int:
        """Close every open session held by a process not in ``live_instances``.

        A process that dies (kill -9, a crash) leaves its sessions open; the supervisor calls
        this before spawning workers (with no live ones) and after a worker dies (with the
        survivors), and a lone server at start-up with its own id. Returns how many closed.
        """
        live = sorted(set(live_instances))

        def fn(tx: Tx) -> int:
            if not live:
                tx.execute("UPDATE sessions SET closed = ? WHERE closed IS NULL", (now_ms,))
                return tx.rowcount()
            marks = ", ".join("?" for _ in live)
            tx.execute(
                f"UPDATE sessions SET closed = ? WHERE closed IS NULL"
                f" AND instance_id NOT IN ({marks})",
                (now_ms, *live),
            )
            return tx.rowcount()

        return int(await self._write(fn))

    async def account_connected(self, account_id: str) -> bool:
        """Is a robot of this account on an open notification session, in any process?"""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT 1 FROM robots r JOIN sessions s ON s.robot_name = r.name"
                " WHERE r.account_id = ? AND s.closed IS NULL AND s.kind = 'notification'"
                " LIMIT 1",
                (account_id,),
            )
        )
        return bool(rows)

    # ---------------------------------------------------------------- notification queue

    async def queue_notification(self, robot_name: str, frame: str, now: int, *, keep: int) -> None:
        """Keep ``frame`` for the robot's socket; only its newest ``keep`` stay queued.

        The row is addressed to the process holding the robot's open session, if any
        (:meth:`notifications_for_instance`); any socket of the robot that opens later reads
        it by name (:meth:`record_sessions`)."""

        def fn(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO notification_queue (robot_name, frame, created, instance_id)"
                " VALUES (?, ?, ?, COALESCE((SELECT instance_id FROM sessions WHERE"
                " robot_name = ? AND closed IS NULL ORDER BY opened DESC LIMIT 1), ''))",
                (robot_name, frame, now, robot_name),
            )
            tx.execute(
                "DELETE FROM notification_queue WHERE robot_name = ? AND seq <= (SELECT seq"
                " FROM notification_queue WHERE robot_name = ? ORDER BY seq DESC LIMIT 1"
                " OFFSET ?)",
                (robot_name, robot_name, keep),
            )

        await self._write(fn)

    async def queued_notifications(self, robot_name: str) -> list[QueuedNotification]:
        """What waits for one robot, oldest first."""
        return await self.db.read(lambda tx: _queued_for(tx, (robot_name,)))

    async def notifications_for_instance(
        self, instance_id: str, since: int, limit: int
    ) -> list[QueuedNotification]:
        """One server process's poll: what waits for robots whose socket it holds, oldest
        first, at most ``limit``.

        That is the rows addressed to ``instance_id`` when they were queued, plus rows
        queued since ``since`` (epoch ms) with no address for robots whose open session it
        holds now: on PostgreSQL a robot's session and a notification for it can be written
        at the same moment without either transaction seeing the other. Older unaddressed
        rows (robots that were offline) are never scanned; their robot's next socket reads
        them by name.
        """

        # No ORDER BY ... LIMIT in the SQL: with it, SQLite's planner walks the whole
        # queue in seq order (~5 ms per poll at 100,000 queued rows) instead of searching
        # the (instance_id, created) index (~0.1 ms); both parts are small by construction.
        def fn(tx: Tx) -> list[Row]:
            addressed = tx.execute(
                f"SELECT {_QUEUED} FROM notification_queue WHERE instance_id = ?",
                (instance_id,),
            )
            recent = tx.execute(
                f"SELECT {_QUEUED} FROM notification_queue q WHERE q.instance_id = ''"
                " AND q.created >= ? AND EXISTS (SELECT 1 FROM sessions s WHERE"
                " s.robot_name = q.robot_name AND s.closed IS NULL AND s.instance_id = ?)",
                (since, instance_id),
            )
            return sorted(addressed + recent, key=lambda r: int(r[0]))[:limit]

        return [_queued(r) for r in await self.db.read(fn)]

    async def unaddress_notifications(self, seqs: Collection[int]) -> None:
        """Drop the process address of queued notifications whose robot's socket is gone
        from that process (they wait for the robot's next socket, read by name)."""
        ordered = sorted(set(seqs))

        def fn(tx: Tx) -> None:
            for start in range(0, len(ordered), _IN_CHUNK):
                chunk = ordered[start : start + _IN_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                tx.execute(
                    f"UPDATE notification_queue SET instance_id = '' WHERE seq IN ({marks})",
                    chunk,
                )

        if ordered:
            await self._write(fn)

    async def delete_notifications(self, seqs: Collection[int]) -> None:
        """Drop queued notifications that were sent (unknown ``seq`` values are ignored)."""
        ordered = sorted(set(seqs))

        def fn(tx: Tx) -> None:
            for start in range(0, len(ordered), _IN_CHUNK):
                chunk = ordered[start : start + _IN_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                tx.execute(f"DELETE FROM notification_queue WHERE seq IN ({marks})", chunk)

        if ordered:
            await self._write(fn)

    async def sessions_of(self, robot_name: str) -> list[tuple[str, str, int, int | None]]:
        """``(id, kind, opened, closed)`` of the robot's socket sessions, oldest first."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT id, kind, opened, closed FROM sessions WHERE robot_name = ?"
                " ORDER BY opened, id",
                (robot_name,),
            )
        )
        return [(r[0], r[1], int(r[2]), None if r[3] is None else int(r[3])) for r in rows]
