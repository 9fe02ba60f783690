"""SQLite backend: stdlib ``sqlite3`` in WAL mode, the embedded default.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` fsyncs the WAL on every commit,
and :meth:`SqliteDatabase.run` commits before it returns, so a write the robot got a 200 for
survives a kill -9 (and a power cut, as far as the disk honours fsync).

One connection, one writer at a time (``CapacityLimiter(1)``): SQLite serialises writers
anyway, and a single connection avoids ``database is locked`` between our own threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.db import Row

T = TypeVar("T")


class _SqliteTx:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(sql, tuple(params))
        return self._cur.fetchall()

    def rowcount(self) -> int:
        return self._cur.rowcount


class SqliteDatabase:
    """A SQLite file opened for the server; see the module docstring for durability."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._limiter = trio.CapacityLimiter(1)

    def run_sync(self, fn: Callable[[_SqliteTx], T]) -> T:
        """Run ``fn`` in one transaction on the calling thread (CLI and worker threads)."""
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite is busy: {exc}") from None
        try:
            result = fn(_SqliteTx(cur))
            cur.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if self._conn.in_transaction:
                cur.execute("ROLLBACK")
            if "locked" in str(exc) or "busy" in str(exc):  # another process held it too long
                raise StorageUnavailable(f"SQLite is busy: {exc}") from None
            raise
        except BaseException:
            if self._conn.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return result

    async def run(self, fn: Callable[[_SqliteTx], T]) -> T:
        return await trio.to_thread.run_sync(self.run_sync, fn, limiter=self._limiter)

    async def aclose(self) -> None:
        async with self._limiter:
            self._conn.close()
