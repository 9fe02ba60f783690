"""PostgreSQL backend: psycopg 3 and psycopg_pool in worker threads.

Chosen by ``JIBO_DATABASE_URL=postgresql://…``. Calls run in ``trio.to_thread.run_sync``
behind a :class:`trio.CapacityLimiter` as wide as the pool, so trio never blocks.

Outages: every connection is checked when it leaves the pool (a dead one, e.g. after
``pg_terminate_backend`` or a restart, is replaced), and a request waits at most
:data:`FAIL_FAST_SECONDS` for a connection. The check is the transaction's own ``BEGIN``
(connections are in autocommit mode and each call opens its transaction explicitly): if
``BEGIN`` fails, nothing ran, so the call moves to another connection and the dead one is
dropped by the pool. That is one round trip per call less than a separate liveness query.
While PostgreSQL is down requests therefore fail fast with :class:`StorageUnavailable` (the
REST layer answers a retryable 503), and the pool reconnects by itself when it returns. A
commit that fails is reported as unavailable, never as success, so nothing acknowledged is
lost.

Reads (:meth:`PostgresDatabase.read`) skip ``BEGIN``/``COMMIT`` altogether (see
:meth:`PostgresDatabase.read_sync` for why that changes nothing they can see).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
import psycopg_pool
import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.metrics import timed_storage
from jibo_cloud.storage.db import Row

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Longest a request waits for a database connection before answering "unavailable".
FAIL_FAST_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 2
POOL_SIZE = 8
#: Shown in ``pg_stat_activity``, so an operator can tell (and tests can find) our sessions.
APPLICATION_NAME = "jibo-cloud"


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders → ``%s`` (our SQL never contains a literal ``?`` or ``%``)."""
    return sql.replace("?", "%s")


class _PgTx:
    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(_pg_sql(sql), tuple(params))
        if self._cur.description is None:
            return []
        return self._cur.fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(_pg_sql(sql), rows)

    def rowcount(self) -> int:
        return self._cur.rowcount


def _in_transaction(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any],
                    fn: Callable[[_PgTx], T]) -> T:  # fmt: skip
    """``fn`` after ``BEGIN``, then ``COMMIT`` (a failed commit raises: never a silent loss)."""
    try:
        result = fn(_PgTx(cur))
    except BaseException:
        if not conn.broken:
            with contextlib.suppress(psycopg.Error):  # keep fn's error, not the rollback's
                conn.rollback()
        raise
    cur.execute("COMMIT")
    return result


def _unavailable(exc: Exception, what: str) -> StorageUnavailable:
    """What the REST layer answers 503 for: no connection in time, or one that failed."""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return StorageUnavailable("PostgreSQL is not reachable")
    log.warning("PostgreSQL %s failed: %s", what, type(exc).__name__)
    return StorageUnavailable("PostgreSQL connection failed")


class PostgresDatabase:
    """A connection pool to one PostgreSQL database (optionally one schema of it)."""

    dialect = "postgres"

    def __init__(self, url: str, *, schema: str | None = None, size: int = POOL_SIZE) -> None:
        kwargs: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": APPLICATION_NAME,
            "autocommit": True,  # run_sync sends BEGIN itself: it doubles as the health check
        }
        if schema is not None:
            kwargs["options"] = f"-c search_path={schema}"
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=size,
            kwargs=kwargs,
            open=False,
            timeout=FAIL_FAST_SECONDS,
            reconnect_timeout=3600,
            name="jibo-cloud",
        )
        self._limiter = trio.CapacityLimiter(size)
        self._size = size

    def open_sync(self) -> None:
        """Open the pool and wait for one connection (fails clearly if unreachable)."""
        self._pool.open(wait=False)
        try:
            self._pool.wait(timeout=CONNECT_TIMEOUT_SECONDS + 3)
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            raise StorageUnavailable("PostgreSQL is not reachable") from None

    def run_sync(self, fn: Callable[[_PgTx], T]) -> T:
        try:
            for _ in range(self._size):  # at worst every pooled connection died at once
                with self._pool.connection() as conn, conn.cursor() as cur:
                    try:
                        cur.execute("BEGIN")
                    except psycopg.OperationalError:
                        continue  # a dead connection, nothing ran: the pool drops it
                    return _in_transaction(conn, cur, fn)
            with self._pool.connection() as conn, conn.cursor() as cur:
                cur.execute("BEGIN")  # a fresh connection; if this fails, so be it
                return _in_transaction(conn, cur, fn)
        except (psycopg_pool.PoolTimeout, psycopg.OperationalError) as exc:
            raise _unavailable(exc, "operation") from None

    async def run(self, fn: Callable[[_PgTx], T]) -> T:
        with timed_storage("postgres", "write"):
            return await trio.to_thread.run_sync(self.run_sync, fn, limiter=self._limiter)

    def read_sync(self, fn: Callable[[_PgTx], T]) -> T:
        """Run the read-only ``fn`` without ``BEGIN``/``COMMIT``: one round trip per statement.

        Why this is the same as a transaction: PostgreSQL's default isolation, READ COMMITTED,
        takes a fresh snapshot for every statement even inside a transaction, so a read-only
        transaction sees exactly what its statements see one by one in autocommit mode. Reads
        are safe to repeat, so a connection found dead by any statement sends the whole read
        to another connection.
        """
        try:
            for _ in range(self._size + 1):  # at worst every pooled connection died at once
                with self._pool.connection() as conn, conn.cursor() as cur:
                    try:
                        return fn(_PgTx(cur))
                    except psycopg.OperationalError:
                        if not conn.broken:
                            raise
                        # A dead connection (the pool drops it): the read runs again.
            raise StorageUnavailable("PostgreSQL connection failed")
        except (psycopg_pool.PoolTimeout, psycopg.OperationalError) as exc:
            raise _unavailable(exc, "read") from None

    async def read(self, fn: Callable[[_PgTx], T]) -> T:
        with timed_storage("postgres", "read"):
            return await trio.to_thread.run_sync(self.read_sync, fn, limiter=self._limiter)

    async def aclose(self) -> None:
        await trio.to_thread.run_sync(self._pool.close)
