"""Upload and download bodies: the URLs the services hand out (PROTOCOL.md §2.4).

``PUT /upload/{kind}/{id}`` stores the body for an upload slot a REST call created
(``log-events``, ``asr-binary``, ``binary``) or for a backup (``backup``). A ``PUT`` to a bare
``/upload/{kind}`` or an unknown id is still stored, as a new slot: upload endpoints must
never fail the robot. Every body is written atomically to the blob store before the 200.

Downloads serve stored bodies byte-exact with ``application/octet-stream``.
"""

from __future__ import annotations

import re
from typing import Protocol

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.rest.context import new_id
from jibo_cloud.rest.dispatch import error_answer
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import BlobStore, Storage
from jibo_cloud.storage.records import Upload

_KIND = re.compile(r"^[a-z0-9-]{1,40}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def _error(code: str, message: str, status: int) -> Response:
    answer = error_answer(code, message, status)
    return Response(answer.body, status=status, headers=dict(answer.headers))


class _StoredRecord(Protocol):
    """An update, backup or upload record: where its bytes are kept, if anywhere."""

    @property
    def blob_key(self) -> str | None: ...


def _blob(data: bytes | None) -> Response:
    if data is None:
        return _error("ResourceNotFoundException", "not found", 404)
    return Response(data, status=200, content_type="application/octet-stream")


async def read_body() -> bytes:
    """The whole request body (Quart enforces ``MAX_CONTENT_LENGTH`` while reading)."""
    data = await request.get_data(cache=False, as_text=False)
    return data if isinstance(data, bytes) else data.encode()


def register(app: QuartTrio, runtime: Runtime) -> None:
    st: Storage = runtime.storage
    blobs: BlobStore = runtime.blobs

    async def store_upload(kind: str, upload_id: str | None) -> Response:
        if not _KIND.match(kind) or (upload_id is not None and not _ID.match(upload_id)):
            return _error("ValidationException", "bad upload URL", 400)
        try:
            body = await read_body()
        except RequestEntityTooLarge:
            limit = runtime.config.max_upload_body
            return _error("RequestEntityTooLargeException", f"larger than {limit} bytes", 413)
        now = runtime.now_ms()
        try:
            stored = await blobs.write(blobs.new_key("upload"), body)
            if kind == "backup" and upload_id and await st.get_backup(upload_id):
                await st.complete_backup(upload_id, blob_key=stored.key, length=stored.length,
                                         sha256=stored.sha256, now=now)  # fmt: skip
                return Response("", status=200)
            slot = await st.get_upload(upload_id) if upload_id else None
            if slot is None:
                slot = Upload(id=new_id(), kind=kind, created=now, meta={"url_id": upload_id})
                await st.add_upload(slot)
            await st.complete_upload(
                slot.id, blob_key=stored.key, length=stored.length, sha256=stored.sha256,
                content_type=request.headers.get("content-type"), now=now,
            )  # fmt: skip
        except StorageUnavailable:
            return _error("ServiceUnavailableException", "storage is unavailable; retry", 503)
        return Response("", status=200)

    @app.put("/upload/<kind>")
    async def upload_bare(kind: str) -> Response:
        return await store_upload(kind, None)

    @app.put("/upload/<kind>/<upload_id>")
    async def upload_slot(kind: str, upload_id: str) -> Response:
        return await store_upload(kind, upload_id)

    async def stored_blob(record: _StoredRecord | None) -> Response:
        """A record's stored bytes, or 404 when the record or its blob does not exist."""
        if record is None or record.blob_key is None:
            return _blob(None)
        return _blob(await blobs.read(record.blob_key))

    @app.get("/media/<path>")
    async def media(path: str) -> Response:
        found = await st.get_media([path])
        if not found or found[0].is_deleted:
            return _blob(None)
        return _blob(await blobs.read(found[0].blob_key))

    @app.get("/updates/<update_id>/package")
    async def update_package(update_id: str) -> Response:
        return await stored_blob(await st.get_update(update_id))

    @app.get("/backups/<backup_id>")
    async def backup(backup_id: str) -> Response:
        return await stored_blob(await st.get_backup(backup_id))

    @app.get("/uploads/<upload_id>")
    async def upload(upload_id: str) -> Response:
        return await stored_blob(await st.get_upload(upload_id))
