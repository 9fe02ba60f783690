"""SQLite backend: stdlib ``sqlite3`` in WAL mode, the embedded default.

Durability: ``journal_mode=WAL`` with ``synchronous=FULL`` fsyncs the WAL on every commit,
and :meth:`SqliteDatabase.run` commits before it returns, so a write the robot got a 200 for
survives a kill -9 (and a power cut, as far as the disk honours fsync).

One writer connection, one write at a time (``CapacityLimiter(1)``): SQLite serialises
writers anyway, and a single writer avoids ``database is locked`` between our own threads.
Reads (:meth:`SqliteDatabase.read`) use a few ``query_only`` reader connections, which WAL
lets run beside the writer: a read never waits behind another request's fsync. A read
starts its snapshot after every commit already acknowledged, so robots read their writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.metrics import timed_storage
from jibo_cloud.storage.db import Row
from jibo_cloud.storage.files import chmod_private, create_private_file, make_private_dir

T = TypeVar("T")
#: Reader connections (reads run beside the single writer in WAL mode).
READERS = 4


class _SqliteTx:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(sql, tuple(params))
        return self._cur.fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql, rows)

    def rowcount(self) -> int:
        return self._cur.rowcount


class SqliteDatabase:
    """A SQLite file opened for the server; see the module docstring for durability."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        # The file holds SigV4 secrets and e-mail addresses: private before SQLite opens it
        # (SQLite gives its -wal and -shm files the database file's mode), whatever the umask;
        # the chmods fix files an older release created 0644.
        make_private_dir(path.parent)
        create_private_file(path)
        for suffix in ("-wal", "-shm"):
            chmod_private(path.with_name(path.name + suffix))
        self.path = path
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._limiter = trio.CapacityLimiter(1)
        self._readers: list[sqlite3.Connection] = []
        self._read_limiter = trio.CapacityLimiter(READERS)

    def _reader(self) -> sqlite3.Connection:
        """A free reader connection (at most READERS exist: the limiter guarantees one is free
        or may be created)."""
        if self._readers:
            return self._readers.pop()
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA query_only=ON")
        return conn

    def read_sync(self, fn: Callable[[_SqliteTx], T]) -> T:
        conn = self._reader()
        cur = conn.cursor()
        try:
            cur.execute("BEGIN")
            try:
                return fn(_SqliteTx(cur))
            finally:
                if conn.in_transaction:
                    cur.execute("ROLLBACK")  # nothing to keep: the reader is query_only
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StorageUnavailable(f"SQLite is busy: {exc}") from None
            raise
        finally:
            self._readers.append(conn)

    async def read(self, fn: Callable[[_SqliteTx], T]) -> T:
        with timed_storage("sqlite", "read"):
            return await trio.to_thread.run_sync(self.read_sync, fn, limiter=self._read_limiter)

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
        with timed_storage("sqlite", "write"):
            return await trio.to_thread.run_sync(self.run_sync, fn, limiter=self._limiter)

    async def aclose(self) -> None:
        async with self._limiter:
            self._conn.close()
        for _ in range(READERS):  # wait until no read is running, then close the readers
            await self._read_limiter.acquire_on_behalf_of(object())
        for conn in self._readers:
            conn.close()
        self._readers.clear()
