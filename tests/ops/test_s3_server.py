"""The real server with its blobs in an S3-compatible bucket (moto's S3 server over HTTP).

Uploads (signed ``PUT``), media (``Media.Create``), backups and update packages (published
with the operator CLI) land in the bucket and come back through signed URLs; unsigned and
foreign URLs are still refused; a bucket that stops answering gives 503, not a crash.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from jibo_cloud.rest.signed_urls import OPERATOR_PRINCIPAL, account_principal, sign_path
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Backup
from jibo_cloud.storage.s3 import S3BlobStore, make_client, parse_blob_url
from tests.ops.s3server import S3Server, s3_server
from tests.rest.support import ACCOUNT_ID, LOOP_ID, RestClient, register_robot
from tests.support.server import REPO, RunningServer, start_server

__all__ = ["s3_server"]

MINE = account_principal(ACCOUNT_ID)


def use_bucket(runtime: Runtime) -> None:
    """Put the configured bucket in the runtime (a no-op once ``open_runtime`` does it)."""
    config = runtime.config
    if isinstance(runtime.blobs, S3BlobStore):
        return
    bucket, prefix = parse_blob_url(config.blob_url)
    runtime.blobs = S3BlobStore(config.blob_dir, bucket, prefix, make_client(config))


@pytest.fixture
async def s3_robot_server(
    nursery: trio.Nursery, tmp_path: Path, s3_server: S3Server
) -> AsyncIterator[RunningServer]:
    server = await start_server(
        nursery, tmp_path / "data", runtime_hook=use_bucket, **s3_server.settings()
    )
    await register_robot(server)
    yield server
    server.stop()


@pytest.fixture
async def http(s3_robot_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=s3_robot_server.http_url, timeout=30) as client:
        yield client


def signed(server: RunningServer, method: str, path: str, principal: str = MINE) -> str:
    return sign_path(server.config, method, path, principal=principal, now_s=time.time())


def local_blob_files(server: RunningServer) -> list[Path]:
    return [p for p in server.config.blob_dir.rglob("*") if p.is_file()]


async def test_media_goes_to_the_bucket_and_back(
    s3_robot_server: RunningServer, http: httpx.AsyncClient, s3_server: S3Server
) -> None:
    client = RestClient(http)
    image = os.urandom(40_000)
    headers = {"x-loop-id": LOOP_ID, "x-path": "photo-1", "x-type": "image"}
    await client.ok("Media_20160725.Create", raw=image, headers=headers, service="media")
    media = (await s3_robot_server.runtime.storage.get_media(["photo-1"]))[0]
    assert s3_server.names() == [f"jibo/{media.blob_key}"]
    assert local_blob_files(s3_robot_server) == []  # nothing kept on this host's disk
    listed = await client.ok("Media_20160725.List", {"loopIds": [LOOP_ID]}, service="media")
    download = await client.get(listed[0]["url"])
    assert download.status_code == 200
    assert download.content == image
    assert (await http.get(f"/media/{media.path}")).status_code == 403  # unsigned: refused
    await client.ok("Media_20160725.Remove", {"paths": ["photo-1"]})
    assert s3_server.names() == []  # a removed photo leaves the bucket


async def test_a_backup_is_replaced_in_the_bucket(
    s3_robot_server: RunningServer, http: httpx.AsyncClient, s3_server: S3Server
) -> None:
    rt = s3_robot_server.runtime
    blob = await rt.blobs.write(rt.blobs.new_key("upload"), b"old backup")
    backup = Backup(id="b1", loop_id=LOOP_ID, account_id=ACCOUNT_ID, blob_key=blob.key,
                    length=blob.length, sha256=blob.sha256, created=rt.now_ms())  # fmt: skip
    await rt.storage.add_backup(backup)
    theirs = account_principal("0a1b2c3d4e5f60718293a4ff")
    refused = await http.put(signed(s3_robot_server, "PUT", "/upload/backup/b1", theirs),
                             content=b"evil")  # fmt: skip
    assert refused.status_code == 403
    body = os.urandom(3 * 1024 * 1024 + 5)  # several chunks, streamed to the staging file
    done = await http.put(signed(s3_robot_server, "PUT", "/upload/backup/b1"), content=body)
    assert done.status_code == 200, done.text
    after = await rt.storage.get_backup("b1")
    assert after is not None
    assert after.sha256 == hashlib.sha256(body).hexdigest()
    assert s3_server.names() == [f"jibo/{after.blob_key}"]  # the old object was deleted
    assert local_blob_files(s3_robot_server) == []
    async with http.stream("GET", signed(s3_robot_server, "GET", "/backups/b1")) as response:
        assert response.headers["content-length"] == str(len(body))
        received = b"".join([chunk async for chunk in response.aiter_raw()])
    assert received == body


async def test_an_update_published_by_the_cli_is_served_from_the_bucket(
    s3_robot_server: RunningServer, http: httpx.AsyncClient, s3_server: S3Server, tmp_path: Path
) -> None:
    package = tmp_path / "be.tgz"
    package.write_bytes(os.urandom(5000))
    environ = {**os.environ, **s3_server.environ()}
    published = await trio.to_thread.run_sync(lambda: subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "update", "publish", "--subsystem", "@be/be",
         "--from-version", "1.0.0", "--to-version", "1.0.1", "--file", str(package),
         "--data-dir", str(s3_robot_server.config.data_dir)],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=60,
    ))  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr
    (update,) = await s3_robot_server.runtime.storage.list_updates("@be/be")
    assert s3_server.names() == [f"jibo/{update.blob_key}"]
    path = f"/updates/{update.id}/package"
    response = await http.get(signed(s3_robot_server, "GET", path, OPERATOR_PRINCIPAL))
    assert response.status_code == 200
    assert response.content == package.read_bytes()


async def test_a_bucket_that_stops_answering_gives_503(
    s3_robot_server: RunningServer, http: httpx.AsyncClient
) -> None:
    rt = s3_robot_server.runtime
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = attrs.evolve(rt.config, s3_endpoint_url=f"http://127.0.0.1:{port}")
    blobs = rt.blobs
    assert isinstance(blobs, S3BlobStore)
    blobs.client = make_client(config)
    response = await http.put(signed(s3_robot_server, "PUT", "/upload/log-events"),
                              content=b"log lines")  # fmt: skip
    assert response.status_code == 503, response.text
    assert response.json()["__type"] == "ServiceUnavailableException"
    client = RestClient(http)
    headers = {"x-loop-id": LOOP_ID, "x-path": "photo-2", "x-type": "image"}
    answer = await client.call("Media_20160725.Create", raw=b"img", headers=headers)
    assert answer.status_code == 503, answer.text
    assert local_blob_files(s3_robot_server) == []
