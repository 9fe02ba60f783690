"""Queries for who is who: accounts, key pairs, robots, loops, members, tokens, sessions,
and the notifications waiting for a robot's socket.

Shared by both backends (see :mod:`jibo_cloud.storage.db`). Each public coroutine is one
transaction. Rows become records in the ``_row_*`` helpers, the one place that knows the
column order.
"""

# S608: the f-strings below only splice in this module's constant column lists and "?"
# placeholders; every value goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from jibo_cloud.storage.db import QueryBase, Row, Tx
from jibo_cloud.storage.records import (
    Account,
    KeyPair,
    Loop,
    LoopMember,
    QueuedNotification,
    Robot,
    RobotToken,
)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_ACCOUNT = "id, email, first_name, last_name, extra, created, updated"
_ROBOT = "name, robot_id, serial, account_id, payload, calibration, created, updated"
_LOOP = "id, name, owner_id, robot_id, robot_name, is_suspended, created, updated"
_MEMBER = "id, loop_id, account_id, status, type, extra, created"
_QUEUED = "seq, robot_name, frame, created"
#: Parameters per ``IN (...)`` list: SQLite's limit is 32,766, PostgreSQL's 65,535.
_IN_CHUNK = 500


def _account(r: Row) -> Account:
    return Account(
        id=r[0], email=r[1], first_name=r[2], last_name=r[3], extra=json.loads(r[4]),
        created=int(r[5]), updated=int(r[6]),
    )  # fmt: skip


def _robot(r: Row) -> Robot:
    return Robot(
        name=r[0], robot_id=r[1], serial=r[2], account_id=r[3], payload=json.loads(r[4]),
        calibration=json.loads(r[5]), created=int(r[6]), updated=int(r[7]),
    )  # fmt: skip


def _loop(r: Row) -> Loop:
    return Loop(
        id=r[0], name=r[1], owner_id=r[2], robot_id=r[3], robot_name=r[4],
        is_suspended=bool(r[5]), created=int(r[6]), updated=int(r[7]),
    )  # fmt: skip


def _member(r: Row) -> LoopMember:
    return LoopMember(
        id=r[0], loop_id=r[1], account_id=r[2], status=r[3], type=r[4],
        extra=json.loads(r[5]), created=int(r[6]),
    )  # fmt: skip


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


def _insert_account(tx: Tx, a: Account) -> None:
    tx.execute(
        f"INSERT INTO accounts ({_ACCOUNT}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (a.id, a.email, a.first_name, a.last_name, dumps(a.extra), a.created, a.updated),
    )


def _insert_key(tx: Tx, k: KeyPair) -> None:
    tx.execute(
        "INSERT INTO key_pairs (access_key_id, secret_access_key, account_id, robot_name, created)"
        " VALUES (?, ?, ?, ?, ?)",
        (k.access_key_id, k.secret_access_key, k.account_id, k.robot_name, k.created),
    )


def _upsert_robot(tx: Tx, r: Robot) -> None:
    tx.execute(
        f"INSERT INTO robots ({_ROBOT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET robot_id = excluded.robot_id,"
        " serial = excluded.serial, account_id = excluded.account_id,"
        " payload = excluded.payload, calibration = excluded.calibration,"
        " updated = excluded.updated",
        (r.name, r.robot_id, r.serial, r.account_id, dumps(r.payload), dumps(r.calibration),
         r.created, r.updated),
    )  # fmt: skip


def _upsert_loop(tx: Tx, lp: Loop) -> None:
    tx.execute(
        f"INSERT INTO loops ({_LOOP}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id,"
        " robot_id = excluded.robot_id, robot_name = excluded.robot_name,"
        " is_suspended = excluded.is_suspended, updated = excluded.updated",
        (lp.id, lp.name, lp.owner_id, lp.robot_id, lp.robot_name, int(lp.is_suspended),
         lp.created, lp.updated),
    )  # fmt: skip


def _upsert_member(tx: Tx, m: LoopMember) -> None:
    tx.execute(
        f"INSERT INTO loop_members ({_MEMBER}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, type = excluded.type,"
        " extra = excluded.extra",
        (m.id, m.loop_id, m.account_id, m.status, m.type, dumps(m.extra), m.created),
    )


class IdentityQueries(QueryBase):
    """Accounts, keys, robots, loops, tokens and sessions (mixed into the storage)."""

    # ---------------------------------------------------------------- accounts and keys

    async def create_account(self, account: Account) -> None:
        await self._write(lambda tx: _insert_account(tx, account))

    async def update_account(self, account: Account) -> None:
        a = account
        await self._write(
            lambda tx: tx.execute(
                "UPDATE accounts SET email = ?, first_name = ?, last_name = ?, extra = ?,"
                " updated = ? WHERE id = ?",
                (a.email, a.first_name, a.last_name, dumps(a.extra), a.updated, a.id),
            )
        )

    async def get_account(self, account_id: str) -> Account | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_ACCOUNT} FROM accounts WHERE id = ?", (account_id,))
        )
        return _account(rows[0]) if rows else None

    async def find_account_by_email(self, email: str) -> Account | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_ACCOUNT} FROM accounts WHERE lower(email) = lower(?)", (email,)
            )
        )
        return _account(rows[0]) if rows else None

    async def list_accounts(self, ids: Sequence[str]) -> list[Account]:
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_ACCOUNT} FROM accounts WHERE id IN ({marks}) ORDER BY created, id",
                tuple(ids),
            )
        )
        return [_account(r) for r in rows]

    async def add_key_pair(self, key: KeyPair) -> None:
        await self._write(lambda tx: _insert_key(tx, key))

    async def get_key_pair(self, access_key_id: str) -> KeyPair | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT access_key_id, secret_access_key, account_id, robot_name, created"
                " FROM key_pairs WHERE access_key_id = ?",
                (access_key_id,),
            )
        )
        if not rows:
            return None
        r = rows[0]
        return KeyPair(
            access_key_id=r[0], secret_access_key=r[1], account_id=r[2], robot_name=r[3],
            created=int(r[4]),
        )  # fmt: skip

    async def key_pairs_of(self, account_id: str) -> list[KeyPair]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT access_key_id, secret_access_key, account_id, robot_name, created"
                " FROM key_pairs WHERE account_id = ? ORDER BY created",
                (account_id,),
            )
        )
        return [KeyPair(r[0], r[1], r[2], int(r[4]), r[3]) for r in rows]

    # ---------------------------------------------------------------- robots

    async def put_robot(self, robot: Robot) -> None:
        await self._write(lambda tx: _upsert_robot(tx, robot))

    async def get_robot(self, name: str) -> Robot | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_ROBOT} FROM robots WHERE name = ?", (name,))
        )
        return _robot(rows[0]) if rows else None

    async def find_robot(self, key: str) -> Robot | None:
        """A robot by friendly name, 24-hex id or serial (the ids robots send vary)."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_ROBOT} FROM robots WHERE name = ? OR robot_id = ? OR serial = ?"
                " ORDER BY created LIMIT 1",
                (key, key, key),
            )
        )
        return _robot(rows[0]) if rows else None

    async def list_robots(self, account_id: str | None = None) -> list[Robot]:
        where, params = ("WHERE account_id = ?", (account_id,)) if account_id else ("", ())
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_ROBOT} FROM robots {where} ORDER BY created", params)
        )
        return [_robot(r) for r in rows]

    async def update_robot_payload(self, name: str, payload: dict[str, Any], now: int) -> bool:
        """Replace the robot's payload and keep the old one in its history; False if unknown."""

        def fn(tx: Tx) -> bool:
            tx.execute(
                "UPDATE robots SET payload = ?, updated = ? WHERE name = ?",
                (dumps(payload), now, name),
            )
            if tx.rowcount() == 0:
                return False
            tx.execute(
                "INSERT INTO robot_history (robot_name, payload, created) VALUES (?, ?, ?)",
                (name, dumps(payload), now),
            )
            return True

        return bool(await self._write(fn))

    async def robot_history(self, name: str) -> list[tuple[dict[str, Any], int]]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT payload, created FROM robot_history WHERE robot_name = ? ORDER BY seq",
                (name,),
            )
        )
        return [(json.loads(r[0]), int(r[1])) for r in rows]

    async def remove_robot(self, name: str) -> bool:
        def fn(tx: Tx) -> bool:
            tx.execute("UPDATE loops SET robot_id = NULL, robot_name = NULL WHERE robot_name = ?",
                       (name,))  # fmt: skip
            tx.execute("UPDATE robot_tokens SET revoked = 1 WHERE robot_name = ?", (name,))
            tx.execute("DELETE FROM robots WHERE name = ?", (name,))
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    # ---------------------------------------------------------------- provisioning

    async def provision(
        self,
        *,
        account: Account,
        robot: Robot,
        loop: Loop,
        member: LoopMember,
        key: KeyPair | None,
        record: dict[str, Any],
    ) -> None:
        """Create (or reuse) the owner account, then the robot, loop, membership and key,
        all in one transaction: a half-provisioned robot never exists."""

        def fn(tx: Tx) -> None:
            found = tx.execute("SELECT id FROM accounts WHERE lower(email) = lower(?)",
                               (account.email,))  # fmt: skip
            if not found:
                _insert_account(tx, account)
            _upsert_robot(tx, robot)
            _upsert_loop(tx, loop)
            _upsert_member(tx, member)
            if key is not None:
                _insert_key(tx, key)
            tx.execute(
                "INSERT INTO documents (kind, scope, key, value, updated) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, scope, key) DO UPDATE SET value = excluded.value,"
                " updated = excluded.updated",
                ("provisioning", "robot", robot.name, dumps(record), robot.updated),
            )

        await self._write(fn)

    # ---------------------------------------------------------------- loops and members

    async def put_loop(self, loop: Loop) -> None:
        await self._write(lambda tx: _upsert_loop(tx, loop))

    async def get_loop(self, loop_id: str) -> Loop | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_LOOP} FROM loops WHERE id = ?", (loop_id,))
        )
        return _loop(rows[0]) if rows else None

    async def loops_of(self, account_id: str) -> list[Loop]:
        """Loops the account owns or belongs to, oldest first."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_LOOP} FROM loops WHERE owner_id = ? OR id IN"
                " (SELECT loop_id FROM loop_members WHERE account_id = ?)"
                " ORDER BY created, id",
                (account_id, account_id),
            )
        )
        return [_loop(r) for r in rows]

    async def loops_with_members(
        self, account_id: str
    ) -> list[tuple[Loop, list[LoopMember], dict[str, Account]]]:
        """The account's loops, each with its members and their accounts, in one transaction
        (``ListLoops`` is on every boot: one round trip instead of three per loop)."""

        def fn(tx: Tx) -> list[tuple[Loop, list[LoopMember], dict[str, Account]]]:
            loops = [_loop(r) for r in tx.execute(
                f"SELECT {_LOOP} FROM loops WHERE owner_id = ? OR id IN"
                " (SELECT loop_id FROM loop_members WHERE account_id = ?) ORDER BY created, id",
                (account_id, account_id),
            )]  # fmt: skip
            out = []
            for loop in loops:
                members = [_member(r) for r in tx.execute(
                    f"SELECT {_MEMBER} FROM loop_members WHERE loop_id = ? ORDER BY created, id",
                    (loop.id,),
                )]  # fmt: skip
                accounts = {
                    r[0]: _account(r) for r in tx.execute(
                        f"SELECT {_ACCOUNT} FROM accounts WHERE id IN"
                        " (SELECT account_id FROM loop_members WHERE loop_id = ?)",
                        (loop.id,),
                    )
                }  # fmt: skip
                out.append((loop, members, accounts))
            return out

        return await self.db.read(fn)

    async def put_member(self, member: LoopMember) -> None:
        await self._write(lambda tx: _upsert_member(tx, member))

    async def members_of(self, loop_id: str) -> list[LoopMember]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_MEMBER} FROM loop_members WHERE loop_id = ? ORDER BY created, id",
                (loop_id,),
            )
        )
        return [_member(r) for r in rows]

    async def remove_member(self, loop_id: str, member_id: str) -> bool:
        def fn(tx: Tx) -> bool:
            tx.execute("DELETE FROM loop_members WHERE loop_id = ? AND id = ?",
                       (loop_id, member_id))  # fmt: skip
            return tx.rowcount() > 0

        return bool(await self._write(fn))

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
