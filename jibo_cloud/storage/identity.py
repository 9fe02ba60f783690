"""Queries for who is who: accounts, key pairs, robots, loops and members.

(Robot tokens, notification sessions and the notification queue: :mod:`.sockets`.)

Shared by both backends (see :mod:`jibo_cloud.storage.db`). Each public coroutine is one
transaction. Rows become records in the ``_row_*`` helpers, the one place that knows the
column order.
"""

# S608: the f-strings below only splice in this module's constant column lists and "?"
# placeholders; every value goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jibo_cloud.storage.db import QueryBase, Row, Tx
from jibo_cloud.storage.records import (
    Account,
    KeyPair,
    Loop,
    LoopMember,
    Robot,
)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_ACCOUNT = "id, email, first_name, last_name, extra, created, updated"
_ROBOT = "name, robot_id, serial, account_id, payload, calibration, created, updated"
_LOOP = "id, name, owner_id, robot_id, robot_name, is_suspended, created, updated"
_MEMBER = "id, loop_id, account_id, status, type, extra, created"


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
