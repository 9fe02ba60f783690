"""A database written by a newer jibo-cloud is refused at start-up, on SQLite and PostgreSQL.

An older release started on it would run against a schema it does not know; ``migrate``
raises :class:`~jibo_cloud.errors.NewerDatabase` and ``jibo-cloud serve`` exits 1 with one
line naming the versions found and known and what to do.
"""

from __future__ import annotations

import os
import sys

import pytest
import trio

from jibo_cloud.config import load_config
from jibo_cloud.errors import NewerDatabase
from jibo_cloud.storage import open_storage
from jibo_cloud.storage.migrations import MIGRATIONS
from tests.support.server import REPO, TEST_SECRET

KNOWN = MIGRATIONS[-1].version


def _config(store_args: list[str]):  # type: ignore[no-untyped-def]
    flags = dict(zip(store_args[::2], store_args[1::2], strict=True))
    return load_config(data_dir=flags["--data-dir"], database_url=flags.get("--database-url"))


async def _add_future_migrations(store_args: list[str], *versions: int) -> None:
    """Migrate the store as this code knows it, then record migrations from a newer release."""
    async with open_storage(_config(store_args)) as storage:
        for version in versions:
            await storage.db.run(
                lambda tx, v=version: tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)",
                    (v, f"from_a_newer_release_{v}", 0),
                )
            )


async def test_migrate_refuses_a_newer_database(store_args: list[str]) -> None:
    await _add_future_migrations(store_args, KNOWN + 1, KNOWN + 3)
    with pytest.raises(NewerDatabase) as caught:
        async with open_storage(_config(store_args)):
            pytest.fail("a newer database was opened")
    assert caught.value.found == [KNOWN + 1, KNOWN + 3]
    assert caught.value.known == KNOWN
    text = str(caught.value)
    assert f"{KNOWN + 1}, {KNOWN + 3}" in text
    assert f"up to {KNOWN}" in text
    assert "Upgrade jibo-cloud" in text
    assert "restore the backup" in text


async def test_the_same_database_still_opens(store_args: list[str]) -> None:
    await _add_future_migrations(store_args)  # none newer: only this code's own migrations
    async with open_storage(_config(store_args)) as storage:
        assert await storage.schema_version() == KNOWN


async def test_serve_exits_1_with_one_line(store_args: list[str]) -> None:
    await _add_future_migrations(store_args, KNOWN + 1)
    env = {**os.environ, "JIBO_TOKEN_SECRET": TEST_SECRET, "PYTHONUNBUFFERED": "1"}
    with trio.fail_after(60):  # a server that started would never exit by itself
        done = await trio.run_process(
            [sys.executable, "-m", "jibo_cloud", "serve", "--port", "0", *store_args],
            cwd=REPO, env=env, capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert b"listening on" not in done.stdout
    refusal = [line for line in stderr.splitlines() if "schema migration" in line]
    assert refusal == [
        f"jibo-cloud serve: the database has schema migration(s) {KNOWN + 1} but this "
        f"jibo-cloud knows migrations up to {KNOWN} only: it was used by a newer jibo-cloud. "
        "Upgrade jibo-cloud, or restore the backup taken before the upgrade"
    ]
