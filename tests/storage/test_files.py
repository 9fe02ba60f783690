"""The data folder's permissions and leftovers.

The audit found the data folder 0755 and the SQLite files (plaintext SigV4 secrets, e-mails)
and photos 0644; removed media and replaced blobs stayed on disk. Modes are checked under
umask 0, so only the code's explicit modes can make them private.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
import trio

from jibo_cloud.storage import BlobStore, Storage
from jibo_cloud.storage.files import OpenDataDir, prepare_data_dir, sweep_partial_blobs
from jibo_cloud.storage.records import Backup, KeyRequest, Media, Upload
from jibo_cloud.storage.sqlite import SqliteDatabase
from tests.support.server import REPO, TEST_SECRET, start_server
from tests.support.server import test_config as make_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def test_the_data_folder_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    config = make_config(tmp_path / "a" / "data")
    with umask(0):
        prepare_data_dir(config)
    assert mode(config.data_dir) == 0o700


@pytest.mark.parametrize("bits", [0o755, 0o750, 0o701, 0o720])
def test_an_open_data_folder_is_refused(tmp_path: Path, bits: int) -> None:
    config = make_config(tmp_path / "data")
    config.data_dir.mkdir()
    os.chmod(config.data_dir, bits)
    with pytest.raises(OpenDataDir, match=f"chmod 700 {config.data_dir}"):
        prepare_data_dir(config)
    assert "JIBO_ALLOW_OPEN_DATA_DIR=true" in str(OpenDataDir(config.data_dir, bits))
    assert mode(config.data_dir) == bits  # the operator's folder is not changed behind them


def test_an_allowed_open_data_folder_starts_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path / "data", allow_open_data_dir=True)
    config.data_dir.mkdir()
    os.chmod(config.data_dir, 0o755)  # noqa: S103 - the open folder under test
    with caplog.at_level(logging.WARNING):
        prepare_data_dir(config)
    assert any("open to other users" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_an_open_data_folder_in_one_line(tmp_path: Path, workers: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)  # noqa: S103 - the open folder under test
    env = {**os.environ, "JIBO_TOKEN_SECRET": TEST_SECRET}
    env.pop("JIBO_ALLOW_OPEN_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "serve", "--port", "0", "--data-dir", str(data),
         "--workers", workers],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert f"chmod 700 {data}" in output
    assert "Traceback" not in output
    assert "Traceback" not in output
    assert [line for line in output.splitlines() if "chmod 700" in line] == [
        f"jibo-cloud serve: {OpenDataDir(data, 0o755)}"
    ]
    assert not (data / "jibo.sqlite3").exists()  # refused before anything was written


def test_sqlite_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "db" / "jibo.sqlite3"
    with umask(0):
        db = SqliteDatabase(path)
        db.run_sync(lambda tx: tx.execute("CREATE TABLE t (x INTEGER)"))
        db.read_sync(lambda tx: tx.execute("SELECT * FROM t"))
    names = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    assert [mode(p) for p in names] == [0o600] * 3
    assert mode(path.parent) == 0o700
    trio.run(db.aclose)
    # Files an older release created 0644 are made private when the database is opened.
    for p in names:
        if p.exists():
            os.chmod(p, 0o644)
    SqliteDatabase(path)
    assert [mode(p) for p in names if p.exists()] == [0o600] * len([p for p in names if p.exists()])


async def test_blobs_and_their_folders_are_private(tmp_path: Path) -> None:
    with umask(0):
        blobs = BlobStore(tmp_path / "blobs")
        stored = await blobs.write(blobs.new_key("media"), b"photo")
        async with await blobs.open_writer("upload") as writer:
            assert mode(writer.temp_path) == 0o600
            await writer.write(b"body")
            streamed = await writer.commit()
    for key in (stored.key, streamed.key):
        path = blobs.path_of(key)
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
    assert mode(blobs.root) == 0o700


async def test_an_abandoned_writer_leaves_no_file(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")

    async def interrupted() -> None:
        async with await blobs.open_writer("upload") as writer:
            await writer.write(b"x" * 1000)
            raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        await interrupted()
    assert [p for p in blobs.root.rglob("*") if p.is_file()] == []


def test_partial_blob_files_are_swept(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    (root / "upload").mkdir(parents=True)
    old = root / "upload" / ".abc.1234.tmp"
    fresh = root / "upload" / ".def.5678.tmp"
    blob = root / "upload" / "abc"
    for path in (old, fresh, blob):
        path.write_bytes(b"x")
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    os.utime(blob, (long_ago, long_ago))
    assert sweep_partial_blobs(root, older_than_s=90) == 1
    assert not old.exists()
    assert fresh.exists()  # maybe another worker's upload in progress
    assert blob.exists()


async def test_the_server_sweeps_partial_blobs_at_start(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    partial = tmp_path / "data" / "blobs" / "upload" / ".crashed.0000.tmp"
    partial.parent.mkdir(parents=True, mode=0o700)
    os.chmod(tmp_path / "data", 0o700)
    os.chmod(tmp_path / "data" / "blobs", 0o700)
    partial.write_bytes(b"half a backup")
    long_ago = time.time() - 3600
    os.utime(partial, (long_ago, long_ago))
    server = await start_server(nursery, tmp_path / "data")
    assert not partial.exists()
    assert mode(tmp_path / "data" / "jibo.sqlite3") == 0o600
    server.stop()


# ------------------------------------------------------------------ storage (both backends)


def _media(path: str, key: str, length: int, account: str = "acct1") -> Media:
    return Media(path=path, loop_id="loop1", account_id=account, blob_key=key, length=length,
                 sha256="s", created=1)  # fmt: skip


async def test_replaced_and_removed_blob_keys_are_returned(storage: Storage) -> None:
    assert await storage.put_media(_media("p1", "media/a", 10)) is None
    assert await storage.put_media(_media("p1", "media/a", 10)) is None  # same blob
    assert await storage.put_media(_media("p1", "media/b", 20)) == "media/a"
    assert await storage.put_media(_media("p2", "media/c", 5)) is None
    assert sorted(await storage.mark_media_deleted(["p1", "p2", "nope"])) == ["media/b", "media/c"]
    assert await storage.mark_media_deleted(["p1"]) == []  # already removed
    await storage.add_backup(Backup(id="b1", loop_id="loop1", account_id="acct1", created=1))
    assert await storage.complete_backup("b1", blob_key="backup/1", length=7, sha256="s",
                                         now=2) is None  # fmt: skip
    assert await storage.complete_backup("b1", blob_key="backup/2", length=9, sha256="s",
                                         now=3) == "backup/1"  # fmt: skip
    await storage.add_upload(Upload(id="u1", kind="binary", account_id="acct1", created=1))
    assert await storage.complete_upload("u1", blob_key="upload/1", length=3, sha256="s",
                                         content_type=None, now=2) is None  # fmt: skip
    assert await storage.complete_upload("u1", blob_key="upload/2", length=4, sha256="s",
                                         content_type=None, now=3) == "upload/1"  # fmt: skip
    request = KeyRequest(id="k1", kind="share", account_id="acct1", loop_id="loop1",
                         blob_key="key/1", created=1)  # fmt: skip
    assert await storage.put_key_request(request) is None
    assert await storage.put_key_request(attrs.evolve(request, blob_key="key/2")) == "key/1"
    assert await storage.put_key_request(attrs.evolve(request, blob_key=None)) == "key/2"


async def test_household_usage_counts_live_media_uploads_and_backups(storage: Storage) -> None:
    assert await storage.household_usage("acct1") == 0
    await storage.put_media(_media("p1", "media/a", 100))
    await storage.put_media(_media("p2", "media/b", 50))
    await storage.put_media(_media("q1", "media/c", 1000, account="acct2"))
    await storage.add_backup(Backup(id="b1", loop_id="loop1", account_id="acct1", created=1))
    await storage.complete_backup("b1", blob_key="backup/1", length=7, sha256="s", now=2)
    await storage.add_upload(Upload(id="u1", kind="binary", account_id="acct1", created=1))
    await storage.complete_upload("u1", blob_key="upload/1", length=3, sha256="s",
                                  content_type=None, now=2)  # fmt: skip
    assert await storage.household_usage("acct1") == 160
    await storage.mark_media_deleted(["p2"])
    assert await storage.household_usage("acct1") == 110
    assert await storage.household_usage("acct2") == 1000
