"""Both blob backends keep the same contract: the local folder and an S3-compatible bucket.

The bucket is moto's S3 server on an ephemeral 127.0.0.1 port (:mod:`tests.ops.s3server`),
reached over HTTP by boto3, as MinIO or AWS would be.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from jibo_cloud.config import Config
from jibo_cloud.errors import ConfigError, StorageUnavailable
from jibo_cloud.storage.blobs import READ_CHUNK, Blobs, BlobStore, open_blob_store
from jibo_cloud.storage.s3 import S3BlobStore, parse_blob_url
from tests.ops.s3server import S3Server, s3_server, with_bucket
from tests.support.server import test_config as make_config

__all__ = ["s3_server"]  # the fixture, imported for this module's tests


@pytest.fixture(params=["folder", "s3"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Blobs]:
    config = make_config(tmp_path / "data")
    if request.param == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        config = with_bucket(config, s3)
    store = await open_blob_store(config)
    try:
        yield store
    finally:
        await store.aclose()


def staged_files(store: Blobs) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()]


async def test_write_read_delete(blobs: Blobs) -> None:
    key = blobs.new_key("media")
    stored = await blobs.write(key, b"photo")
    assert stored.length == 5
    assert stored.sha256 == hashlib.sha256(b"photo").hexdigest()
    assert await blobs.read(key) == b"photo"
    await blobs.delete(key)
    assert await blobs.read(key) is None
    await blobs.delete(key)  # already gone: nothing happens
    assert await blobs.open_reader(key) is None
    await blobs.delete_many([None, key])
    await blobs.check()


async def test_a_streamed_body_is_whole_or_absent(blobs: Blobs) -> None:
    """Chunks staged in a private file, stored at commit; an abandoned writer leaves nothing."""
    data = os.urandom(3 * READ_CHUNK + 11)
    async with await blobs.open_writer("upload") as writer:
        for start in range(0, len(data), 100_000):
            await writer.write(data[start : start + 100_000])
        assert await blobs.read(writer.key) is None  # nothing visible before the commit
        stored = await writer.commit()
    assert stored.length == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    reader = await blobs.open_reader(stored.key)
    assert reader is not None
    assert reader.length == len(data)
    chunks = [chunk async for chunk in reader.chunks()]
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= READ_CHUNK
    async with await blobs.open_writer("upload") as abandoned:
        await abandoned.write(b"half a body")
        await abandoned.flush()
    assert await blobs.read(abandoned.key) is None
    if isinstance(blobs, S3BlobStore):
        assert staged_files(blobs) == []  # the staging file went to the bucket, then away
    else:
        assert staged_files(blobs) == [blobs.root / stored.key]


async def test_a_download_closed_early_releases_its_source(blobs: Blobs) -> None:
    key = blobs.new_key("media")
    await blobs.write(key, os.urandom(2 * READ_CHUNK))
    reader = await blobs.open_reader(key)
    assert reader is not None
    async for _chunk in reader.chunks():
        break
    await reader.aclose()
    await reader.aclose()  # twice is fine


async def test_s3_objects_live_under_the_prefix(s3_server: S3Server, tmp_path: Path) -> None:
    store = await open_blob_store(with_bucket(make_config(tmp_path / "data"), s3_server))
    assert isinstance(store, S3BlobStore)
    small = await store.write(store.new_key("media"), b"x")
    async with await store.open_writer("upload") as writer:
        await writer.write(b"y" * 10)
        big = await writer.commit()
    assert s3_server.names() == sorted([f"jibo/{small.key}", f"jibo/{big.key}"])
    await store.aclose()


async def test_s3_large_bodies_go_up_in_parts(s3_server: S3Server, tmp_path: Path) -> None:
    """Above the multipart threshold the staged file is sent in parts (boto3's managed
    transfer reads it a part at a time), not read into memory and PUT whole."""
    store = await open_blob_store(with_bucket(make_config(tmp_path / "data"), s3_server))
    data = os.urandom(9 * 1024 * 1024 + 5)
    async with await store.open_writer("upload") as writer:
        for start in range(0, len(data), 1 << 20):
            await writer.write(data[start : start + (1 << 20)])
        stored = await writer.commit()
    head = s3_server.client.head_object(Bucket=s3_server.bucket, Key=f"jibo/{stored.key}")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts
    assert await store.read(stored.key) == data
    await store.aclose()


async def test_s3_calls_leave_the_trio_thread_free(s3_server: S3Server, tmp_path: Path) -> None:
    """While boto3 waits on the network, other tasks keep running (every call is in a
    worker thread)."""
    store = await open_blob_store(with_bucket(make_config(tmp_path / "data"), s3_server))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        for _ in range(5):
            await store.write(store.new_key("media"), os.urandom(100_000))
        nursery.cancel_scope.cancel()
    assert ticks > 5
    await store.aclose()


async def test_an_unreachable_bucket_is_storage_unavailable(
    s3_server: S3Server, tmp_path: Path
) -> None:
    config = with_bucket(make_config(tmp_path / "data"), s3_server)
    store = await open_blob_store(config)
    assert isinstance(store, S3BlobStore)
    key = await _stored(store)
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = S3BlobStore(store.root, store.bucket, store.prefix, _client(config, port))
    with pytest.raises(StorageUnavailable) as caught:
        await down.read(key)
    assert "testing" not in str(caught.value)  # never a credential in the message
    with pytest.raises(StorageUnavailable):
        await down.write(key, b"z")
    with pytest.raises(StorageUnavailable):
        await down.check()
    async with await down.open_writer("upload") as writer:
        await writer.write(b"lost")
        with pytest.raises(StorageUnavailable):
            await writer.commit()
    assert staged_files(down) == []  # the staged body is not left behind
    await store.aclose()
    await down.aclose()


async def _stored(store: Blobs) -> str:
    key = store.new_key("media")
    await store.write(key, b"kept")
    return key


def _client(config: Config, port: int) -> object:
    """A client for a closed port, without retries: the test wants the error, not the back-off."""
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.session.Session().client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=config.s3_region,
        config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1,
                          s3={"addressing_style": "path"}),
    )  # fmt: skip


async def test_a_missing_bucket_stops_start_up(s3_server: S3Server, tmp_path: Path) -> None:
    import attrs

    config = with_bucket(make_config(tmp_path / "data"), s3_server)
    with pytest.raises(ConfigError, match="cannot use the blob bucket 'nope'"):
        await open_blob_store(attrs.evolve(config, blob_url="s3://nope/x"))


def test_blob_url_settings(tmp_path: Path) -> None:
    from jibo_cloud.config import load_config

    assert parse_blob_url("s3://bucket") == ("bucket", "")
    assert parse_blob_url("s3://bucket/a/b/") == ("bucket", "a/b/")
    config = load_config(data_dir=tmp_path, env={
        "JIBO_BLOB_URL": "s3://my-bucket/jibo", "JIBO_S3_ENDPOINT_URL": "http://minio:9000",
        "JIBO_S3_REGION": "eu-west-1",
    })  # fmt: skip
    assert (config.blob_url, config.s3_endpoint_url, config.s3_region) == (
        "s3://my-bucket/jibo", "http://minio:9000", "eu-west-1"
    )  # fmt: skip
    for bad in ("file:///tmp/x", "s3://", "s3://Bad_Bucket", "https://bucket/x"):
        with pytest.raises(ConfigError, match="JIBO_BLOB_URL"):
            load_config(data_dir=tmp_path, env={"JIBO_BLOB_URL": bad})
    with pytest.raises(ConfigError, match="JIBO_S3_ENDPOINT_URL"):
        load_config(data_dir=tmp_path, env={"JIBO_S3_ENDPOINT_URL": "minio:9000"})


async def test_the_default_is_the_data_folder(tmp_path: Path) -> None:
    store = await open_blob_store(make_config(tmp_path / "data"))
    assert isinstance(store, BlobStore)
    assert store.root == tmp_path / "data" / "blobs"
