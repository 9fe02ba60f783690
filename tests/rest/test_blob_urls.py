"""Signed blob URLs on the serving side, through the real server.

The audit's findings: an unauthenticated ``PUT /upload/backup/{id}`` replaced another
household's backup, and ``GET /backups/…``, ``/uploads/…``, ``/updates/…/package`` and
``/media/…`` were open to anyone. Every test mints URLs with :func:`sign_path` the way the
services do, and checks both the refusal (403 AWS JSON, nothing changed) and the right
principal's success, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import trio

from jibo_cloud.rest.signed_urls import OPERATOR_PRINCIPAL, account_principal, sign_path
from jibo_cloud.storage.provisioning import RobotSpec, add_robot, publish_update
from jibo_cloud.storage.records import Backup, LoopMember, Media, Upload
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    RestClient,
    register_robot,
    start_backend_server,
)
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer

OTHER = RobotSpec(
    name="Other-Robot-Name-2",
    serial="BOJW-1000-0000-0000-0002",
    robot_id="5f1d2c3b4a5968778695a4c4",
    owner_email="other@example.com",
    access_key_id="OTHERKEY000000000002",
    secret_access_key="other-secret-key-0123456789abcdefghijkl",
    loop_id="4cac7f6b66665c31d0219899",
    account_id="0a1b2c3d4e5f60718293a4ff",
)
MINE = account_principal(ACCOUNT_ID)
THEIRS = account_principal(str(OTHER.account_id))


@pytest.fixture(params=BACKENDS)
async def blob_server(
    request: pytest.FixtureRequest, nursery: trio.Nursery, tmp_path: Path
) -> AsyncIterator[RunningServer]:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, request.param, stack)
        await register_robot(server)
        await add_robot(server.runtime.storage, OTHER, now_ms=server.runtime.now_ms())
        yield server
        server.stop()


@pytest.fixture
async def http(blob_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=blob_server.http_url, timeout=20) as client:
        yield client


def signed(server: RunningServer, method: str, path: str, principal: str, ttl: float | None = None
           ) -> str:  # fmt: skip
    return sign_path(server.config, method, path, principal=principal, now_s=time.time(), ttl_s=ttl)


def assert_denied(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert response.json()["__type"] == "AccessDeniedException"


def blob_files(server: RunningServer) -> set[Path]:
    return {p for p in server.config.blob_dir.rglob("*") if p.is_file()}


async def stored_backup(server: RunningServer, data: bytes) -> Backup:
    rt = server.runtime
    blob = await rt.blobs.write(rt.blobs.new_key("upload"), data)
    backup = Backup(id=os.urandom(6).hex(), loop_id=LOOP_ID, account_id=ACCOUNT_ID,
                    blob_key=blob.key, length=blob.length, sha256=blob.sha256,
                    created=rt.now_ms())  # fmt: skip
    await rt.storage.add_backup(backup)
    return backup


async def test_a_stranger_cannot_replace_a_households_backup(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    backup = await stored_backup(blob_server, b"the household's backup")
    path = f"/upload/backup/{backup.id}"
    before = blob_files(blob_server)
    attempts = [
        path,  # unsigned: the audit's finding
        signed(blob_server, "PUT", path, THEIRS),  # another household's valid signature
        signed(blob_server, "GET", path, MINE),  # a download signature replayed as upload
        signed(blob_server, "PUT", path, MINE, ttl=-1),  # expired
        signed(blob_server, "PUT", path, MINE).replace("account%3A", "account%3Ax"),
    ]
    for url in attempts:
        assert_denied(await http.put(url, content=b"evil"))
    after = await blob_server.runtime.storage.get_backup(backup.id)
    assert after == backup
    assert await blob_server.runtime.blobs.read(backup.blob_key) == b"the household's backup"
    assert blob_files(blob_server) == before  # no partial or orphan file either


async def test_the_household_replaces_its_backup_and_the_old_file_is_deleted(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    backup = await stored_backup(blob_server, b"old backup")
    old_file = blob_server.runtime.blobs.path_of(backup.blob_key)
    url = signed(blob_server, "PUT", f"/upload/backup/{backup.id}", MINE)
    assert (await http.put(url, content=b"new backup")).status_code == 200
    after = await blob_server.runtime.storage.get_backup(backup.id)
    assert after is not None
    assert after.blob_key != backup.blob_key
    assert await blob_server.runtime.blobs.read(after.blob_key) == b"new backup"
    assert after.sha256 == hashlib.sha256(b"new backup").hexdigest()
    assert not old_file.exists()  # a replaced blob does not stay on disk
    # The operator may replace it too.
    url = signed(blob_server, "PUT", f"/upload/backup/{backup.id}", OPERATOR_PRINCIPAL)
    assert (await http.put(url, content=b"operator's")).status_code == 200


async def test_upload_slots_belong_to_their_household(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    rt = blob_server.runtime
    slot = Upload(id="slot1", kind="log-events", account_id=ACCOUNT_ID, created=rt.now_ms())
    await rt.storage.add_upload(slot)
    path = "/upload/log-events/slot1"
    assert_denied(await http.put(path, content=b"x"))
    assert_denied(await http.put(signed(blob_server, "PUT", path, THEIRS), content=b"x"))
    assert (
        await http.put(signed(blob_server, "PUT", path, MINE), content=b"first")
    ).status_code == 200
    first = await rt.storage.get_upload("slot1")
    assert first is not None
    assert first.blob_key
    assert (
        await http.put(signed(blob_server, "PUT", path, MINE), content=b"again")
    ).status_code == 200
    second = await rt.storage.get_upload("slot1")
    assert second is not None
    assert await rt.blobs.read(second.blob_key) == b"again"
    assert not rt.blobs.path_of(first.blob_key).exists()  # the re-PUT's old body is gone
    # A signed bare URL is stored as a new slot of the principal's household (§2.4).
    bare = signed(blob_server, "PUT", "/upload/log-events", MINE)
    assert (await http.put(bare, content=b"bare")).status_code == 200
    assert_denied(await http.put("/upload/log-events", content=b"bare"))


async def _put_media(server: RunningServer, path: str, data: bytes) -> Media:
    rt = server.runtime
    blob = await rt.blobs.write(rt.blobs.new_key("media"), data)
    media = Media(path=path, loop_id=LOOP_ID, account_id=ACCOUNT_ID, blob_key=blob.key,
                  length=blob.length, sha256=blob.sha256, created=rt.now_ms())  # fmt: skip
    await rt.storage.put_media(media)
    return media


@pytest.mark.parametrize("kind", ["backup", "upload", "media"])
async def test_downloads_need_the_households_signed_url(
    blob_server: RunningServer, http: httpx.AsyncClient, kind: str
) -> None:
    rt = blob_server.runtime
    data = os.urandom(3000)
    if kind == "backup":
        path = f"/backups/{(await stored_backup(blob_server, data)).id}"
    elif kind == "media":
        path = f"/media/{(await _put_media(blob_server, 'photo-1.jpg', data)).path}"
    else:
        blob = await rt.blobs.write(rt.blobs.new_key("upload"), data)
        await rt.storage.add_upload(
            Upload(
                id="up1",
                kind="binary",
                account_id=ACCOUNT_ID,
                created=rt.now_ms(),
                blob_key=blob.key,
                length=blob.length,
                sha256=blob.sha256,
            )
        )
        path = "/uploads/up1"
    assert_denied(await http.get(path))  # the audit: open GETs
    assert_denied(await http.get(signed(blob_server, "GET", path, THEIRS)))
    assert_denied(await http.get(signed(blob_server, "PUT", path, MINE)))
    assert_denied(await http.get(signed(blob_server, "GET", path, MINE, ttl=-1)))
    for principal in (MINE, OPERATOR_PRINCIPAL):
        response = await http.get(signed(blob_server, "GET", path, principal))
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-length"] == str(len(data))
    # A member of the household's loop (another account) reads its media and backups.
    await rt.storage.put_member(
        LoopMember(
            id="m2",
            loop_id=LOOP_ID,
            account_id=str(OTHER.account_id),
            status="ACTIVE",
            type="MEMBER",
            created=rt.now_ms(),
        )
    )
    member = await http.get(signed(blob_server, "GET", path, THEIRS))
    if kind == "upload":
        assert_denied(member)  # uploads are the account's own
    else:
        assert member.status_code == 200
        assert member.content == data


async def test_update_packages_open_to_any_signed_principal(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    rt = blob_server.runtime
    record = await publish_update(
        rt.storage, rt.blobs, subsystem="@be/be", from_version="1.0.0", to_version="1.0.1",
        data=b"package", now_ms=rt.now_ms(),
    )  # fmt: skip
    path = f"/updates/{record.id}/package"
    assert_denied(await http.get(path))
    for principal in (THEIRS, MINE, OPERATOR_PRINCIPAL):
        response = await http.get(signed(blob_server, "GET", path, principal))
        assert response.status_code == 200
        assert response.content == b"package"
    missing = await http.get(signed(blob_server, "GET", "/updates/nope/package", MINE))
    assert missing.status_code == 404
    assert missing.json()["__type"] == "ResourceNotFoundException"


async def test_large_download_is_streamed_from_disk(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    """A 20 MB download arrives byte-exact with its length, and the process never holds it
    whole (it did: 16 parallel 60 MB downloads took the server from 316 MB to 2.2 GB)."""
    data = os.urandom(20 * 1024 * 1024 + 17)
    media = await _put_media(blob_server, "big.jpg", data)
    url = signed(blob_server, "GET", f"/media/{media.path}", MINE)
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        async with http.stream("GET", url) as response:
            assert response.headers["content-length"] == str(len(data))
            async for chunk in response.aiter_raw():
                digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB of allocations for 20 MB"


async def test_replaced_and_removed_photos_leave_the_disk(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    client = RestClient(http)
    headers = {"x-loop-id": LOOP_ID, "x-path": "photo-9", "x-type": "image"}
    await client.ok("Media_20160725.Create", raw=b"first", headers=headers, service="media")
    first = (await blob_server.runtime.storage.get_media(["photo-9"]))[0]
    await client.ok("Media_20160725.Create", raw=b"second", headers=headers, service="media")
    second = (await blob_server.runtime.storage.get_media(["photo-9"]))[0]
    assert not blob_server.runtime.blobs.path_of(first.blob_key).exists()
    await client.ok("Media_20160725.Remove", {"paths": ["photo-9"]}, service="media")
    assert not blob_server.runtime.blobs.path_of(second.blob_key).exists()


async def test_a_shared_binary_key_is_downloadable_by_its_loop_only(
    blob_server: RunningServer, http: httpx.AsyncClient
) -> None:
    client = RestClient(http)
    request = await client.ok(
        "Key_20160201.CreateRequest", {"loopId": LOOP_ID, "publicKey": "pk"}, service="key"
    )
    headers = {"x-id": request["id"]}
    await client.ok("Key_20160201.ShareBinary", raw=b"first", headers=headers, service="key")
    first = await blob_server.runtime.storage.get_key_request(request["id"])
    shared = await client.ok("Key_20160201.ShareBinary", raw=b"second", headers=headers,
                             service="key")  # fmt: skip
    # Shared twice: the first file is gone, the URL gives the second.
    assert not blob_server.runtime.blobs.path_of(first.blob_key).exists()
    got = await client.get(shared["encryptedUrl"])
    assert got.status_code == 200, got.text
    assert got.content == b"second"
    # The same path signed for another household is refused, and so is an unsigned GET.
    path = f"/keys/{request['id']}"
    assert_denied(await http.get(signed(blob_server, "GET", path, THEIRS)))
    assert_denied(await http.get(path))
    # Key blobs are capped (they are not counted in the quota): 413, the shared key kept.
    too_big = await client.call("Key_20160201.ShareBinary", raw=b"k" * (64 * 1024 + 1),
                                headers=headers, service="key")  # fmt: skip
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["__type"] == "RequestEntityTooLargeException"
    assert (await client.get(shared["encryptedUrl"])).content == b"second"


async def test_blob_requests_spend_the_principals_rate(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, "sqlite", stack,
                                            rate_per_principal=1.0)  # fmt: skip
        await register_robot(server)
        path = f"/backups/{(await stored_backup(server, b'b')).id}"
        async with httpx.AsyncClient(base_url=server.http_url, timeout=20) as http:
            statuses = [(await http.get(signed(server, "GET", path, MINE))) for _ in range(8)]
        assert statuses[0].status_code == 200
        throttled = [r for r in statuses if r.status_code == 429]
        assert throttled, [r.status_code for r in statuses]
        assert throttled[0].json()["__type"] == "ThrottlingException"
        assert "retry-after" in throttled[0].headers
        server.stop()
