"""Durable storage: one interface, two backends with the same schema (docs/storage.md).

- :class:`Storage` is the interface the REST services, the notification socket and the CLI
  use: typed queries over :mod:`jibo_cloud.storage.records`, each one transaction.
- :func:`open_storage` picks the backend from the configuration: SQLite in the data directory
  (the embedded default) or PostgreSQL when ``database_url`` is ``postgresql://…``, and runs
  the pending migrations before returning.
- :class:`BlobStore` keeps the binary bodies (media, uploads, backups, update packages).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from jibo_cloud.config import Config
from jibo_cloud.errors import MissingExtra
from jibo_cloud.storage.blobs import BlobStore, StoredBlob
from jibo_cloud.storage.content import ContentQueries
from jibo_cloud.storage.db import Conflict, Database
from jibo_cloud.storage.diagnostics import DiagnosticsQueries
from jibo_cloud.storage.hosts import HostQueries
from jibo_cloud.storage.identity import IdentityQueries
from jibo_cloud.storage.portal import PortalQueries
from jibo_cloud.storage.principals import PrincipalQueries
from jibo_cloud.storage.records import KeyPair
from jibo_cloud.storage.schema import migrate, schema_version
from jibo_cloud.storage.sockets import SocketQueries
from jibo_cloud.storage.sqlite import SqliteDatabase

#: How long a key pair read from the database is reused (ms), and how many are kept.
KEY_CACHE_MS = 30_000
KEY_CACHE_SIZE = 10_000

__all__ = [
    "BlobStore",
    "Conflict",
    "Storage",
    "StoredBlob",
    "connect_storage",
    "open_database",
    "open_storage",
]


class Storage(
    IdentityQueries, SocketQueries, ContentQueries, HostQueries, PrincipalQueries,
    DiagnosticsQueries, PortalQueries,
):  # fmt: skip
    """Every query the server needs, over one :class:`~jibo_cloud.storage.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._key_cache: dict[str, tuple[KeyPair, int]] = {}

    async def cached_key_pair(self, access_key_id: str, now_ms: int) -> KeyPair | None:
        """:meth:`get_key_pair`, remembered for :data:`KEY_CACHE_MS` (every REST call needs
        it). Misses are not remembered, so a key added by ``robot add`` works at once; a removed
        key stops working within the cache time."""
        hit = self._key_cache.get(access_key_id)
        if hit is not None and hit[1] > now_ms:
            return hit[0]
        key = await self.get_key_pair(access_key_id)
        if key is not None:
            if len(self._key_cache) >= KEY_CACHE_SIZE:
                self._key_cache.clear()
            self._key_cache[access_key_id] = (key, now_ms + KEY_CACHE_MS)
        return key

    @property
    def dialect(self) -> str:
        return self.db.dialect

    async def schema_version(self) -> int:
        return await schema_version(self.db)

    async def aclose(self) -> None:
        await self.db.aclose()


async def open_database(config: Config, *, schema: str | None = None) -> Database:
    """Connect the configured backend (no migrations). ``schema``: PostgreSQL only (tests)."""
    if config.uses_postgres:
        # psycopg is the `postgres` extra, imported only when used.
        try:
            from jibo_cloud.storage.postgres import PostgresDatabase
        except ModuleNotFoundError as exc:
            if exc.name not in ("psycopg", "psycopg_pool"):
                raise
            raise MissingExtra("postgres", "a postgresql:// database needs psycopg") from None
        pg = PostgresDatabase(config.database_url, schema=schema)
        await trio.to_thread.run_sync(pg.open_sync)
        return pg
    path = config.sqlite_path
    assert path is not None  # load_config guarantees sqlite:/// or postgresql://
    return await trio.to_thread.run_sync(SqliteDatabase, path)


async def connect_storage(config: Config, *, schema: str | None = None) -> Storage:
    """The configured storage, migrated; the caller must ``await storage.aclose()``.

    :func:`open_storage` is the context-manager form; this one suits ``open_runtime``.
    """
    db = await open_database(config, schema=schema)
    storage = Storage(db)
    try:
        await migrate(db)
    except BaseException:
        with trio.move_on_after(5, shield=True):
            await storage.aclose()
        raise
    return storage


@asynccontextmanager
async def open_storage(config: Config, *, schema: str | None = None) -> AsyncIterator[Storage]:
    """The configured storage, migrated to the latest schema; closed on exit.

    Raises:
        StorageUnavailable: PostgreSQL cannot be reached at start-up.
    """
    storage = await connect_storage(config, schema=schema)
    try:
        yield storage
    finally:
        with trio.move_on_after(5, shield=True):
            await storage.aclose()
