"""The small seam between the shared SQL and the two engines.

A backend is a :class:`Database`: ``await db.run(fn)`` runs ``fn(tx)`` in a worker thread,
inside one transaction that commits before ``run`` returns (so a write acknowledged to the
robot is durable) and rolls back if ``fn`` raises. ``await db.read(fn)`` is the same for
read-only work; SQLite runs those on separate reader connections, beside the one writer.
SQL is written with ``?`` placeholders; the PostgreSQL backend rewrites them to ``%s``.

Why threads: both drivers are blocking. Trio stays responsive because every call goes through
``trio.to_thread.run_sync`` behind a :class:`trio.CapacityLimiter` sized to the connections.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]


class Tx(Protocol):
    """One open transaction, used only from the worker thread that runs ``fn``."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; returns its rows (``[]`` for statements without rows)."""
        ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters (the driver's ``executemany``: one
        call for a batch, no rows returned)."""
        ...

    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        ...


class Database(Protocol):
    #: ``"sqlite"`` or ``"postgres"``; picks the DDL spelling in migrations.
    dialect: str

    async def run(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in one committed transaction.

        Raises:
            StorageUnavailable: the database cannot be reached now (retryable).
        """
        ...

    async def read(self, fn: Callable[[Tx], T]) -> T:
        """Run a read-only ``fn`` (a consistent snapshot); may run beside writes.

        Raises:
            StorageUnavailable: the database cannot be reached now (retryable).
        """
        ...

    async def aclose(self) -> None: ...


class Conflict(Exception):
    """A write broke a uniqueness or reference rule (duplicate e-mail, unknown loop …)."""


#: The driver exceptions that mean "a constraint said no" (duplicate key, bad reference).
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
# psycopg is the optional `postgres` extra; SQLite-only installs lack it.
try:
    import psycopg
except ModuleNotFoundError:
    pass
else:
    INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


class QueryBase:
    """What the query mixins share: the database, and writes that map constraint errors."""

    db: Database

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        try:
            return await self.db.run(fn)
        except INTEGRITY_ERRORS as exc:
            raise Conflict(str(exc).splitlines()[0]) from None
