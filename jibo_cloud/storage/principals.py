"""Queries for the principals beyond robots and owners: operator keys and adoptable robot keys.

- Operator key pairs (``jibo-cloud operator key``) sign REST calls only an operator may make
  (publishing updates, creating accounts). They belong to no account.
- Pending keys: with ``unknown_sigv4_keys = pending``, every access key id this server does
  not know is recorded (the robot name the request claimed, the client address, first/last
  seen, a count) and refused until an operator approves it (``jibo-cloud robot approve``),
  which binds it to exactly one robot, or denies it. Counting goes on after a decision so the
  operator sees a denied robot still knocking.

Shared by both backends; each public coroutine is one transaction.
"""

# S608: the f-strings below only splice in this module's constant column list; every value
# goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

import attrs

from jibo_cloud.storage.db import QueryBase, Row, Tx

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
#: Longest claimed robot name and address kept (they come from request headers).
MAX_TEXT = 128


@attrs.frozen
class OperatorKey:
    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    created: int
    label: str = ""


@attrs.frozen
class PendingKey:
    """An access key id seen from a robot whose secret this server does not know."""

    access_key_id: str
    status: str
    claimed_robot: str
    address: str
    first_seen: int
    last_seen: int
    count: int
    #: The robot an operator bound the key to (``approved`` only).
    robot_name: str | None = None
    decided: int | None = None


_PENDING = (
    "access_key_id, status, claimed_robot, address, first_seen, last_seen, count, robot_name,"
    " decided"
)


def _pending(r: Row) -> PendingKey:
    return PendingKey(
        access_key_id=r[0], status=r[1], claimed_robot=r[2], address=r[3],
        first_seen=int(r[4]), last_seen=int(r[5]), count=int(r[6]), robot_name=r[7],
        decided=None if r[8] is None else int(r[8]),
    )  # fmt: skip


def _clip(value: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in value)[:MAX_TEXT]


class PrincipalQueries(QueryBase):
    """Operator keys and pending robot keys (mixed into the storage)."""

    # ---------------------------------------------------------------- operator keys

    async def add_operator_key(self, key: OperatorKey) -> None:
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO operator_keys (access_key_id, secret_access_key, label, created)"
                " VALUES (?, ?, ?, ?)",
                (key.access_key_id, key.secret_access_key, key.label, key.created),
            )
        )

    async def get_operator_key(self, access_key_id: str) -> OperatorKey | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT access_key_id, secret_access_key, created, label FROM operator_keys"
                " WHERE access_key_id = ?",
                (access_key_id,),
            )
        )
        return OperatorKey(rows[0][0], rows[0][1], int(rows[0][2]), rows[0][3]) if rows else None

    async def list_operator_keys(self) -> list[OperatorKey]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT access_key_id, secret_access_key, created, label FROM operator_keys"
                " ORDER BY created, access_key_id"
            )
        )
        return [OperatorKey(r[0], r[1], int(r[2]), r[3]) for r in rows]

    async def remove_operator_key(self, access_key_id: str) -> bool:
        def fn(tx: Tx) -> bool:
            tx.execute("DELETE FROM operator_keys WHERE access_key_id = ?", (access_key_id,))
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    # ---------------------------------------------------------------- pending robot keys

    async def note_unknown_key(
        self, access_key_id: str, *, claimed_robot: str, address: str, now: int
    ) -> PendingKey:
        """Record one request signed with ``access_key_id`` (new row or count + 1); returns
        the row as it now is (its status says whether an operator decided already)."""
        claimed, addr = _clip(claimed_robot), _clip(address)

        def fn(tx: Tx) -> PendingKey:
            tx.execute(
                f"INSERT INTO pending_keys ({_PENDING}) VALUES (?, ?, ?, ?, ?, ?, 1, NULL, NULL)"
                " ON CONFLICT (access_key_id) DO UPDATE SET last_seen = excluded.last_seen,"
                " count = pending_keys.count + 1,"
                " claimed_robot = CASE WHEN excluded.claimed_robot = ''"
                " THEN pending_keys.claimed_robot ELSE excluded.claimed_robot END,"
                " address = excluded.address",
                (access_key_id, PENDING, claimed, addr, now, now),
            )
            rows = tx.execute(
                f"SELECT {_PENDING} FROM pending_keys WHERE access_key_id = ?", (access_key_id,)
            )
            return _pending(rows[0])

        result: PendingKey = await self._write(fn)
        return result

    async def get_pending_key(self, access_key_id: str) -> PendingKey | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_PENDING} FROM pending_keys WHERE access_key_id = ?", (access_key_id,)
            )
        )
        return _pending(rows[0]) if rows else None

    async def list_pending_keys(self) -> list[PendingKey]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_PENDING} FROM pending_keys ORDER BY first_seen, access_key_id"
            )
        )
        return [_pending(r) for r in rows]

    async def approve_key(self, access_key_id: str, robot_name: str, *, now: int) -> None:
        """Bind ``access_key_id`` to ``robot_name`` (creating the row if the key was never
        seen: an operator may approve a key id read from the robot ahead of its first call)."""
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO pending_keys ({_PENDING}) VALUES (?, ?, '', '', ?, ?, 0, ?, ?)"
                " ON CONFLICT (access_key_id) DO UPDATE SET status = excluded.status,"
                " robot_name = excluded.robot_name, decided = excluded.decided",
                (access_key_id, APPROVED, now, now, robot_name, now),
            )
        )

    async def deny_key(self, access_key_id: str, *, now: int) -> bool:
        """Refuse ``access_key_id`` (an approved key loses its robot); False if never seen."""

        def fn(tx: Tx) -> bool:
            tx.execute(
                "UPDATE pending_keys SET status = ?, robot_name = NULL, decided = ?"
                " WHERE access_key_id = ?",
                (DENIED, now, access_key_id),
            )
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    async def any_adopted_key(self) -> bool:
        """Whether any approved (unverifiable) key exists: ``serve`` warns about them."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT 1 FROM pending_keys WHERE status = ? LIMIT 1", (APPROVED,)
            )
        )
        return bool(rows)
