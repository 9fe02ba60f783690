"""Log_20150309: events and uploads. PROTOCOL.md §2.4: upload endpoints accept and store
every body and never fail the robot. The upload slot is recorded before its URL is answered.

Only robots call these (:mod:`jibo_cloud.rest.policy`); each slot belongs to the caller's
household, and its URLs are signed for it (``PUT`` to upload, ``GET`` to read back)."""

from __future__ import annotations

import json
from typing import Any

from jibo_cloud.rest.context import Call, Handler, blobs, new_id, signed_url, storage
from jibo_cloud.rest.quota import room
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Upload

ASR_BUCKET = "jibo-asr"


async def _slot(rt: Runtime, call: Call, kind: str, meta: dict[str, Any]) -> Upload:
    upload = Upload(
        id=new_id(), kind=kind, created=call.now_ms, account_id=call.caller.account_id or "",
        robot_name=call.caller.robot_name or "", meta=meta,
    )  # fmt: skip
    await storage(rt).add_upload(upload)
    return upload


async def put_events_async(rt: Runtime, call: Call) -> dict[str, Any]:
    meta = {"kind": call.get("kind"), "serial": call.get("serial")}
    upload = await _slot(rt, call, "log-events", meta)
    return {
        "contentEncoding": "gzip",
        "uploadUrl": signed_url(rt, call, "PUT", f"/upload/log-events/{upload.id}"),
    }


async def put_asr_binary(rt: Runtime, call: Call) -> dict[str, Any]:
    metadata = call.get("metadata", {})
    upload = await _slot(rt, call, "asr-binary",
                         {"trackingId": call.get("trackingId"), "metadata": metadata})  # fmt: skip
    return {
        "bucketName": ASR_BUCKET, "key": f"asr/{upload.id}", "metadata": metadata,
        "uploadUrl": signed_url(rt, call, "PUT", f"/upload/asr-binary/{upload.id}"),
    }  # fmt: skip


async def put_binary_async(rt: Runtime, call: Call) -> dict[str, Any]:
    upload = await _slot(rt, call, "binary", {"trackingId": call.get("trackingId")})
    return {
        "path": upload.id, "url": signed_url(rt, call, "GET", f"/uploads/{upload.id}"),
        "uploadUrl": signed_url(rt, call, "PUT", f"/upload/binary/{upload.id}"),
    }  # fmt: skip


async def _store_now(rt: Runtime, call: Call, kind: str, data: bytes, meta: dict[str, Any]) -> str:
    async with room(rt, call.caller.account_id, len(data)):
        upload = await _slot(rt, call, kind, meta)
        stored = await blobs(rt).write(blobs(rt).new_key("upload"), data)
        await storage(rt).complete_upload(
            upload.id, blob_key=stored.key, length=stored.length, sha256=stored.sha256,
            content_type=call.headers.get("content-type"), now=call.now_ms,
        )  # fmt: skip
    return upload.id


async def put_binary(rt: Runtime, call: Call) -> dict[str, Any]:
    upload_id = await _store_now(rt, call, "binary", call.raw,
                                 {"trackingId": call.get("trackingId")})  # fmt: skip
    return {"path": upload_id, "url": signed_url(rt, call, "GET", f"/uploads/{upload_id}")}


async def put_events(rt: Runtime, call: Call) -> dict[str, Any]:
    body = json.dumps(dict(call.body), separators=(",", ":")).encode()
    await _store_now(rt, call, "events", body, {"deviceId": call.get("deviceId"),
                                                "count": len(call.get("events", []))})  # fmt: skip
    return {}


HANDLERS: dict[str, Handler] = {
    "Log_20150309.PutEventsAsync": put_events_async,
    "Log_20150309.PutAsrBinary": put_asr_binary,
    "Log_20150309.PutBinaryAsync": put_binary_async,
    "Log_20150309.PutBinary": put_binary,
    "Log_20150309.PutEvents": put_events,
}
