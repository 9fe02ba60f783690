"""Apply :mod:`jibo_cloud.storage.migrations` at start-up, on either backend.

All pending migrations run inside one transaction each. On PostgreSQL an advisory lock
serialises two servers starting at once; on SQLite ``BEGIN IMMEDIATE`` already does.

A database with applied migrations beyond this code's last one was written by a newer
release: start-up refuses it (:class:`~jibo_cloud.errors.NewerDatabase`, one line naming the
versions found and known and what to do) instead of running against a schema it does not know.
"""

from __future__ import annotations

import time

from jibo_cloud.errors import NewerDatabase
from jibo_cloud.storage.db import Database, Tx
from jibo_cloud.storage.migrations import CREATE_BOOKKEEPING, MIGRATIONS, pending, render

#: Any constant works; it only has to be the same in every server process.
_ADVISORY_LOCK_ID = 4_620_150_505


def _migrate(tx: Tx, dialect: str) -> list[int]:
    if dialect == "postgres":
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_ADVISORY_LOCK_ID,))
    tx.execute(CREATE_BOOKKEEPING)
    applied = {int(row[0]) for row in tx.execute("SELECT version FROM schema_migrations")}
    known = MIGRATIONS[-1].version
    newer = sorted(v for v in applied if v > known)
    if newer:
        raise NewerDatabase(newer, known)
    done: list[int] = []
    for migration in pending(applied):
        for statement in migration.statements:
            tx.execute(render(statement, dialect))
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
            (migration.version, migration.name, time.time_ns() // 1_000_000),
        )
        done.append(migration.version)
    return done


async def migrate(db: Database) -> list[int]:
    """Bring ``db`` to the latest schema; returns the versions applied now (often none).

    Raises:
        NewerDatabase: ``db`` has migrations newer than this code's (nothing is changed).
    """
    return await db.run(lambda tx: _migrate(tx, db.dialect))


async def schema_version(db: Database) -> int:
    rows = await db.run(lambda tx: tx.execute("SELECT MAX(version) FROM schema_migrations"))
    return int(rows[0][0] or 0)


#: The newest version this code knows.
LATEST_VERSION = MIGRATIONS[-1].version
