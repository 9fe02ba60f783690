"""SQLite's small reads run inline on the trio thread; when SQLite is busy they fall back to
a worker thread that waits with the normal busy timeout, instead of failing or blocking."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path

import pytest

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.db import Tx
from jibo_cloud.storage.sqlite import SqliteDatabase


def _rows(tx: Tx) -> list[tuple[object, ...]]:
    return tx.execute("SELECT v FROM t ORDER BY v")


def _insert(tx: Tx, value: int) -> None:
    tx.execute("INSERT INTO t VALUES (?)", (value,))


async def _with_table(path: Path) -> SqliteDatabase:
    db = SqliteDatabase(path)
    await db.run(lambda tx: tx.execute("CREATE TABLE t (v INTEGER)"))
    return db


async def test_a_small_read_sees_every_acknowledged_write(tmp_path: Path) -> None:
    db = await _with_table(tmp_path / "db.sqlite")
    try:
        for value in range(3):
            await db.run(functools.partial(_insert, value=value))
            assert await db.read(_rows, small=True) == [(v,) for v in range(value + 1)]
        assert await db.read(_rows, small=True) == await db.read(_rows)
    finally:
        await db.aclose()


async def test_a_small_read_leaves_no_transaction_open_after_an_error(tmp_path: Path) -> None:
    db = await _with_table(tmp_path / "db.sqlite")
    try:

        def broken(tx: Tx) -> None:
            tx.execute("SELECT v FROM t")
            raise KeyError("boom")

        with pytest.raises(KeyError):
            await db.read(broken, small=True)
        await db.run(lambda tx: tx.execute("INSERT INTO t VALUES (7)"))
        assert await db.read(_rows, small=True) == [(7,)]  # a fresh snapshot, not a stale one
    finally:
        await db.aclose()


async def test_a_busy_database_moves_the_small_read_to_a_worker_thread(tmp_path: Path) -> None:
    db = await _with_table(tmp_path / "db.sqlite")
    await db.run(lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
    ran_in: list[int] = []

    def busy_once(tx: Tx) -> list[tuple[object, ...]]:
        """What SQLite raises when a lock is held (WAL recovery, an exclusive locker)."""
        ran_in.append(threading.get_ident())
        if len(ran_in) == 1:
            raise sqlite3.OperationalError("database is locked")
        return _rows(tx)

    try:
        assert await db.read(busy_once, small=True) == [(1,)]
        assert await db.read(_rows, small=True) == [(1,)]  # the inline reader still works
    finally:
        await db.aclose()
    assert ran_in[0] == threading.get_ident()  # first try: inline, on the trio thread
    assert ran_in[1] != threading.get_ident()  # the retry: a worker thread that may wait


async def test_a_database_that_stays_busy_is_unavailable(tmp_path: Path) -> None:
    db = await _with_table(tmp_path / "db.sqlite")

    def always_busy(tx: Tx) -> None:
        raise sqlite3.OperationalError("database is locked")

    try:
        with pytest.raises(StorageUnavailable):
            await db.read(always_busy, small=True)
    finally:
        await db.aclose()
