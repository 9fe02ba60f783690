"""Bodies, quotas and errors, through the real server.

The audit's findings: the disk filled without credentials (then 500s, some as HTML, a 4.9 MB
partial file left); 20 stalled 59 MB uploads held 1.27 GB (bodies buffered whole, no body
timeout); slow-body connections were never closed. Each test below fails on the old code.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from quart import Response

from jibo_cloud.app import create_app
from jibo_cloud.rest.signed_urls import account_principal, sign_path
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Backup, Media
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    RestClient,
    register_robot,
    start_backend_server,
)
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer
from tests.support.server import test_config as make_config

MINE = account_principal(ACCOUNT_ID)
MB = 1024 * 1024


async def start(nursery: trio.Nursery, tmp_path: Path, backend: str, stack: AsyncExitStack,
                **overrides: Any) -> RunningServer:  # fmt: skip
    server = await start_backend_server(nursery, tmp_path, backend, stack, **overrides)
    await register_robot(server)
    return server


def put_url(server: RunningServer, path: str) -> str:
    return server.http_url + sign_path(
        server.config, "PUT", path, principal=MINE, now_s=time.time()
    )


def leftovers(server: RunningServer) -> list[Path]:
    """Files in the blob tree (partial temporary files included)."""
    return sorted(p for p in server.config.blob_dir.rglob("*") if p.is_file())


def assert_aws(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.json()["__type"] == code
    assert response.headers["x-amzn-errortype"] == code


async def chunked(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked transfer): only the running count can stop it."""
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        sent += size
        yield b"x" * size


async def add_backup_slot(server: RunningServer) -> str:
    backup = Backup(id=os.urandom(6).hex(), loop_id=LOOP_ID, account_id=ACCOUNT_ID,
                    created=server.runtime.now_ms())  # fmt: skip
    await server.runtime.storage.add_backup(backup)
    return f"/upload/backup/{backup.id}"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_household_quota_is_507_json_and_leaves_no_file(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, backend, stack, household_quota=100_000)
        rt = server.runtime
        blob = await rt.blobs.write(rt.blobs.new_key("media"), b"m" * 60_000)
        await rt.storage.put_media(
            Media(
                path="p1",
                loop_id=LOOP_ID,
                account_id=ACCOUNT_ID,
                blob_key=blob.key,
                length=blob.length,
                sha256=blob.sha256,
                created=rt.now_ms(),
            )
        )
        assert await rt.storage.household_usage(ACCOUNT_ID) == 60_000
        before = leftovers(server)
        path = await add_backup_slot(server)
        async with httpx.AsyncClient(timeout=20) as http:
            declared = await http.put(put_url(server, path), content=b"b" * 50_000)
            assert_aws(declared, 507, "InsufficientStorageException")
            streamed = await http.put(put_url(server, path), content=chunked(50_000, 4096))
            assert_aws(streamed, 507, "InsufficientStorageException")
            assert leftovers(server) == before  # no partial file
            fits = await http.put(put_url(server, path), content=b"b" * 30_000)
            assert fits.status_code == 200
            # Replacing the backup counts its new size, not old + new.
            again = await http.put(put_url(server, path), content=b"c" * 35_000)
            assert again.status_code == 200
        server.stop()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_free_disk_watermark_is_503_json(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, backend, stack, min_free_disk=2**62)
        before = leftovers(server)
        path = await add_backup_slot(server)
        async with httpx.AsyncClient(timeout=20) as http:
            for body in (b"x" * 1000, chunked(1000)):
                response = await http.put(put_url(server, path), content=body)
                assert_aws(response, 503, "ServiceUnavailableException")
        assert leftovers(server) == before
        server.stop()


async def test_oversized_upload_is_413_json_without_partial_file(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack, max_upload_body=200_000)
        path = await add_backup_slot(server)
        async with httpx.AsyncClient(timeout=20) as http:
            for body in (b"x" * 300_000, chunked(300_000)):
                response = await http.put(put_url(server, path), content=body)
                assert_aws(response, 413, "RequestEntityTooLargeException")
        assert leftovers(server) == []
        server.stop()


async def _slow_request(port: int, head: bytes, first: bytes) -> bytes:
    """Send ``head`` and the start of a body, then nothing: what comes back before EOF."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(head + first)
    received = b""
    with trio.fail_after(10):  # the server must answer and close well before this
        while True:
            data = await stream.receive_some(65536)
            if not data:
                break
            received += data
    await stream.aclose()
    return received


def _answer_json(raw: bytes) -> tuple[str, dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), json.loads(body)


async def test_stalled_upload_and_rest_bodies_time_out(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack, body_timeout=0.5)
        url = httpx.URL(put_url(server, await add_backup_slot(server)))
        target = url.raw_path.decode()
        head = (f"PUT {target} HTTP/1.1\r\nHost: api.jibo.com\r\n"
                "Content-Length: 100000\r\n\r\n").encode()  # fmt: skip
        started = trio.current_time()
        raw = await _slow_request(server.port, head, b"x" * 1000)
        status, body = _answer_json(raw)
        assert status.startswith("HTTP/1.1 408")
        assert "connection: close" in status.lower()
        assert body["__type"] == "RequestTimeoutException"
        assert trio.current_time() - started < 5
        assert leftovers(server) == []  # the temporary file went with the connection
        # POST / (the REST calls) has the same deadline.
        head = (
            b"POST / HTTP/1.1\r\nHost: api.jibo.com\r\nX-Amz-Target: Account_20151111.Get\r\n"
            b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 500\r\n\r\n"
        )
        status, body = _answer_json(await _slow_request(server.port, head, b"{"))
        assert status.startswith("HTTP/1.1 408")
        assert body["__type"] == "RequestTimeoutException"
        server.stop()


async def test_upload_body_goes_to_disk_not_memory(nursery: trio.Nursery, tmp_path: Path) -> None:
    """A 20 MB upload: the temporary file grows while the body arrives, and the process's
    Python allocations never approach the body's size (they did: the body was buffered whole).
    """
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack)
        path = await add_backup_slot(server)
        total, half = 20 * MB, 10 * MB
        paused, resume = trio.Event(), trio.Event()

        async def body() -> AsyncIterator[bytes]:
            block = os.urandom(MB)
            for i in range(total // MB):
                if i * MB == half:
                    paused.set()
                    await resume.wait()
                yield block

        async def upload() -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                response = await http.put(put_url(server, path), content=body())
                assert response.status_code == 200

        tracemalloc.start()
        try:
            async with trio.open_nursery() as inner:
                inner.start_soon(upload)
                await paused.wait()
                temp_size = 0
                with trio.fail_after(10):
                    while temp_size < half - 2 * MB:
                        temps = list(server.config.blob_dir.rglob(".*.tmp"))
                        temp_size = max((p.stat().st_size for p in temps), default=0)
                        await trio.sleep(0.02)
                resume.set()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 * MB, f"peak {peak / MB:.1f} MB of Python allocations for a 20 MB body"
        stored = [p for p in leftovers(server) if not p.name.startswith(".")]
        assert [p.stat().st_size for p in stored] == [total]
        server.stop()


async def test_quart_errors_are_aws_json(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=20) as http:
        assert_aws(await http.get("/no/such/path"), 404, "ResourceNotFoundException")
        assert_aws(await http.delete("/healthcheck"), 405, "MethodNotAllowedException")
        assert_aws(await http.post("/media/x", content=b"x"), 405, "MethodNotAllowedException")


async def test_a_bug_is_a_500_json_without_traceback(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")
    rt = Runtime(config=config)
    app = create_app_without_routes(rt)

    @app.get("/boom")
    async def boom() -> Response:
        raise RuntimeError("secret detail")

    response = await app.test_client().get("/boom")
    assert response.status_code == 500
    body = json.loads(await response.get_data())
    assert body["__type"] == "InternalFailure"
    assert "secret detail" not in json.dumps(body)
    assert response.headers["content-type"] == "application/x-amz-json-1.1"


def create_app_without_routes(rt: Runtime) -> Any:
    """The real app factory with no route modules (no storage needed): its error handlers."""
    from jibo_cloud import app as app_module

    saved = app_module.ROUTE_MODULES
    app_module.ROUTE_MODULES = []
    try:
        return create_app(rt)
    finally:
        app_module.ROUTE_MODULES = saved


async def test_a_stalled_binary_rest_body_waits_on_disk(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """``POST /`` with a binary payload (``Media.Create``, up to 64 MB, read before the
    signature is checked): beyond the 1 MB REST cap the body is spooled to a temporary file,
    which goes when the client does."""
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack)
        head = (
            b"POST / HTTP/1.1\r\nHost: api.jibo.com\r\nX-Amz-Target: Media_20160725.Create\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 20000000\r\n\r\n"
        )
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(head + b"x" * (8 * MB))
        spooled = 0
        with trio.fail_after(10):
            while spooled < 6 * MB:
                temps = list(server.config.blob_dir.rglob(".*.tmp"))
                spooled = max((p.stat().st_size for p in temps), default=0)
                await trio.sleep(0.02)
        await stream.aclose()
        with trio.fail_after(10):
            while list(server.config.blob_dir.rglob(".*.tmp")):  # noqa: ASYNC110 - a file, no event
                await trio.sleep(0.02)
        server.stop()


async def test_a_large_photo_still_arrives_byte_exact(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack)
        image = os.urandom(3 * MB + 5)
        headers = {"x-loop-id": LOOP_ID, "x-path": "big-photo", "x-type": "image"}
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            client = RestClient(http)
            await client.ok("Media_20160725.Create", raw=image, headers=headers, service="media")
            (listed,) = await client.ok("Media_20160725.Get", {"paths": ["big-photo"]})
            assert (await client.get(listed["url"])).content == image
        assert list(server.config.blob_dir.rglob(".*.tmp")) == []
        server.stop()


async def test_unsigned_binary_bodies_cannot_fill_the_disk(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The audit filled the disk without credentials; now an unsigned 3 MB ``Media.Create``
    and an unsigned ``PUT`` are refused in AWS JSON and leave nothing behind."""
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, "sqlite", stack)
        before = leftovers(server)
        headers = {"x-loop-id": LOOP_ID, "x-path": "evil", "x-type": "image"}
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            client = RestClient(http)
            response = await client.call(
                "Media_20160725.Create", raw=os.urandom(3 * MB), headers=headers, sign=False
            )
            assert_aws(response, 403, "MissingAuthenticationTokenException")
            response = await http.put("/upload/binary/x", content=os.urandom(3 * MB))
            assert_aws(response, 403, "AccessDeniedException")
        assert leftovers(server) == before
        server.stop()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_photos_count_against_the_household_quota(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, backend, stack, household_quota=100_000)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            client = RestClient(http)
            for n, size in enumerate((60_000, 30_000)):
                headers = {"x-loop-id": LOOP_ID, "x-path": f"p{n}", "x-type": "image"}
                await client.ok("Media_20160725.Create", raw=b"i" * size, headers=headers,
                                service="media")  # fmt: skip
            before = leftovers(server)
            headers = {"x-loop-id": LOOP_ID, "x-path": "p3", "x-type": "image"}
            response = await client.call(
                "Media_20160725.Create", raw=b"i" * 20_000, headers=headers, service="media"
            )
            assert_aws(response, 507, "InsufficientStorageException")
            assert leftovers(server) == before
        server.stop()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_body_in_flight_holds_its_room(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    """Two bodies racing for the household's last room: the slow one's declared size is held
    from its check, so a photo that would only fit without it is refused 507 (before, both
    were accepted and the household ended over its quota)."""
    async with AsyncExitStack() as stack:
        server = await start(nursery, tmp_path, backend, stack, household_quota=100_000)
        path = await add_backup_slot(server)
        target = sign_path(server.config, "PUT", path, principal=MINE, now_s=time.time())
        head = (f"PUT {target} HTTP/1.1\r\nHost: api.jibo.com\r\nContent-Length: 60000\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip
        stream = await trio.open_tcp_stream("127.0.0.1", server.port)
        await stream.send_all(head + b"b" * 1000)
        with trio.fail_after(10):
            while server.runtime.reserved.held(ACCOUNT_ID) < 60_000:  # noqa: ASYNC110 - a poll
                await trio.sleep(0.01)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
            headers = {"x-loop-id": LOOP_ID, "x-path": "p1", "x-type": "image"}
            photo = await RestClient(http).call(
                "Media_20160725.Create", raw=b"i" * 50_000, headers=headers, service="media"
            )
            assert_aws(photo, 507, "InsufficientStorageException")
            await stream.send_all(b"b" * 59_000)
            with trio.fail_after(10):
                answer = await stream.receive_some(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            await stream.aclose()
            assert await server.runtime.storage.household_usage(ACCOUNT_ID) == 60_000
            assert server.runtime.reserved.held(ACCOUNT_ID) == 0  # released once stored
            small = await RestClient(http).call(
                "Media_20160725.Create", raw=b"i" * 30_000, headers=headers, service="media"
            )
            assert small.status_code == 200, small.text
        server.stop()
