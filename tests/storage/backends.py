"""Open a fresh storage on either backend for one test (parametrized: sqlite, postgres).

PostgreSQL isolation: each test gets its own schema (``t_<random>``), dropped afterwards,
so tests never see each other's rows and can run against a shared server.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import trio

from jibo_cloud.storage import Storage, open_storage
from tests.support import env
from tests.support.server import test_config

BACKENDS = ["sqlite", "postgres"]


def _execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A new empty PostgreSQL schema for one test; dropped on exit.

    Both statements run in a worker thread: DROP SCHEMA waits for every transaction still
    holding the schema, and one may belong to a server thread whose traffic goes through a
    relay on this very trio loop (tests/e2e/test_durability.py); run on the loop, the wait
    blocked the relay and hung the suite (seen in CI on 2026-12-07)."""
    name = f"t_{secrets.token_hex(6)}"
    await trio.to_thread.run_sync(_execute, url, f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(_execute, url, f"DROP SCHEMA {name} CASCADE")


@asynccontextmanager
async def open_test_storage(backend: str, tmp_path: Path) -> AsyncIterator[Storage]:
    if backend == "sqlite":
        async with open_storage(test_config(tmp_path / "data")) as storage:
            yield storage
        return
    url = env.postgres_url()
    async with fresh_schema(url) as schema:
        config = test_config(tmp_path / "data", database_url=url)
        async with open_storage(config, schema=schema) as storage:
            yield storage
