"""Key_20160201: sharing the loop's media key between members and robots.

Requests a member or robot makes (``CreateRequest``) stay "incoming" until someone with the key
answers them (``Share``). The robot polls ``ListIncomingRequests``/``ListBinaryRequests`` all
day (PROTOCOL.md §2.3), so an empty loop answers ``[]`` fast.

Every operation names a loop (``loopId``) or a request (``id``) whose loop must be one of the
caller's: a robot of another household can neither read these requests nor overwrite this
loop's key backup. The binary key's ``encryptedUrl`` is a signed ``GET`` URL.
"""

from __future__ import annotations

from typing import Any

import attrs

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import (
    Call,
    Handler,
    blobs,
    new_id,
    not_found,
    require_account,
    require_loop,
    signed_url,
    storage,
)
from jibo_cloud.rest.quota import require_room
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import KeyRequest


def request_view(k: KeyRequest) -> dict[str, Any]:
    view = {"id": k.id, "accountId": k.account_id, "loopId": k.loop_id, "publicKey": k.public_key}
    if k.encrypted_key is not None:
        view["encryptedKey"] = k.encrypted_key
    return view


def binary_view(rt: Runtime, call: Call, k: KeyRequest) -> dict[str, Any]:
    return {"id": k.id, "accountId": k.account_id, "loopId": k.loop_id,
            "encryptedUrl": signed_url(rt, call, "GET", f"/keys/{k.id}")}  # fmt: skip


async def _loop(rt: Runtime, call: Call) -> str:
    return await require_loop(rt, call, str(call.get("loopId")))


async def list_incoming(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    found = await storage(rt).list_key_requests(await _loop(rt, call), "key")
    return [request_view(k) for k in found if k.encrypted_key is None]


async def list_binary(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    found = await storage(rt).list_key_requests(await _loop(rt, call), "binary")
    return [binary_view(rt, call, k) for k in found if k.blob_key is None]


async def should_create(rt: Runtime, call: Call) -> dict[str, Any]:
    backup = await storage(rt).get_document("loop-key", "loop", await _loop(rt, call))
    return {"shouldCreate": backup is None}


async def create_request(rt: Runtime, call: Call) -> dict[str, Any]:
    req = KeyRequest(
        id=new_id(), kind="key", account_id=require_account(call),
        loop_id=await _loop(rt, call), created=call.now_ms,
        public_key=str(call.get("publicKey")),
    )  # fmt: skip
    await storage(rt).put_key_request(req)
    return request_view(req)


async def _request(rt: Runtime, call: Call) -> KeyRequest:
    """The request ``id`` names, if it belongs to one of the caller's loops (else 403)."""
    req = await storage(rt).get_key_request(str(call.get("id")))
    if req is None:
        raise not_found("key request")
    await require_loop(rt, call, req.loop_id)
    return req


async def get_request(rt: Runtime, call: Call) -> dict[str, Any]:
    return request_view(await _request(rt, call))


async def share(rt: Runtime, call: Call) -> dict[str, Any]:
    req = await _request(rt, call)
    shared = attrs.evolve(req, encrypted_key=call.get("encryptedKey"), key_hash=call.get("keyHash"))
    await storage(rt).put_key_request(shared)
    return request_view(shared)


#: A shared binary key is an encrypted key of a few hundred bytes. Key blobs are not counted
#: in the household quota (no length column), so their size is capped here instead.
MAX_KEY_BLOB = 64 * 1024


async def share_binary(rt: Runtime, call: Call) -> dict[str, Any]:
    req = await _request(rt, call)
    if len(call.raw) > MAX_KEY_BLOB:
        raise ServiceError(
            "RequestEntityTooLargeException",
            f"a shared key is at most {MAX_KEY_BLOB} bytes",
            413,
        )
    await require_room(rt, call.caller.account_id, len(call.raw))
    stored = await blobs(rt).write(blobs(rt).new_key("key"), call.raw)
    shared = attrs.evolve(req, kind="binary", blob_key=stored.key)
    replaced = await storage(rt).put_key_request(shared)
    if replaced:  # a key shared twice must not leave the first file on disk
        await blobs(rt).delete(replaced)
    return binary_view(rt, call, shared)


async def backup(rt: Runtime, call: Call) -> dict[str, Any]:
    loop_id = await _loop(rt, call)
    value = {"encryptedKey": call.get("encryptedKey"), "passwordHash": call.get("passwordHash"),
             "accountId": require_account(call)}  # fmt: skip
    await storage(rt).put_document("loop-key", "loop", loop_id, value, call.now_ms)
    return {
        "loopId": loop_id,
        "accountId": value["accountId"],
        "encryptedKey": value["encryptedKey"],
    }


async def restore(rt: Runtime, call: Call) -> dict[str, Any]:
    loop_id = await _loop(rt, call)
    value = await storage(rt).get_document("loop-key", "loop", loop_id)
    if value is None or value.get("passwordHash") != call.get("passwordHash"):
        raise not_found("key backup")
    return {
        "loopId": loop_id,
        "accountId": value["accountId"],
        "encryptedKey": value["encryptedKey"],
    }


HANDLERS: dict[str, Handler] = {
    "Key_20160201.ListIncomingRequests": list_incoming,
    "Key_20160201.ListBinaryRequests": list_binary,
    "Key_20160201.ShouldCreate": should_create,
    "Key_20160201.CreateRequest": create_request,
    "Key_20160201.GetRequest": get_request,
    "Key_20160201.Share": share,
    "Key_20160201.ShareBinary": share_binary,
    "Key_20160201.Backup": backup,
    "Key_20160201.Restore": restore,
}
