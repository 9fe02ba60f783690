"""Media_20160725: photos the robot takes. PROTOCOL.md §2.4: ``Create`` sends a binary body
(an encrypted image) with metadata in ``x-*`` headers; it is stored byte-exact and served
back from ``GET /media/{path}``."""

from __future__ import annotations

from typing import Any

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import Call, Handler, blobs, storage
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Media

MAX_PATH = 200


def media_view(m: Media, base_url: str) -> dict[str, Any]:
    return {
        "path": m.path, "type": m.type, "reference": m.reference, "accountId": m.account_id,
        "loopId": m.loop_id, "url": f"{base_url}/media/{m.path}", "isEncrypted": m.is_encrypted,
        "isDeleted": m.is_deleted, "meta": m.meta, "created": m.created,
    }  # fmt: skip


async def _allowed_loops(rt: Runtime, call: Call, wanted: list[str]) -> list[str]:
    """The requested loops the caller belongs to (all of them for an account-less caller)."""
    if call.caller.account_id is None:
        return wanted
    mine = {lp.id for lp in await storage(rt).loops_of(call.caller.account_id)}
    return [w for w in wanted if w in mine]


async def create(rt: Runtime, call: Call) -> dict[str, Any]:
    path = str(call.get("path") or "")
    if not path or len(path) > MAX_PATH or "/" in path:
        raise ServiceError("ValidationException", "x-path must be a name without '/'")
    stored = await blobs(rt).write(blobs(rt).new_key("media"), call.raw)
    media = Media(
        path=path, loop_id=str(call.get("loopId")), blob_key=stored.key, length=stored.length,
        sha256=stored.sha256, created=call.now_ms, account_id=call.caller.account_id or "",
        type=call.get("type"), reference=call.get("reference"),
        is_encrypted=bool(call.get("isEncrypted", False)), meta=call.get("meta", {}),
    )  # fmt: skip
    await storage(rt).put_media(media)
    return media_view(media, call.base_url)


async def list_media(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    loops = await _allowed_loops(rt, call, list(call.get("loopIds", [])))
    found = await storage(rt).list_media(loops, after=call.get("after"), before=call.get("before"))
    return [media_view(m, call.base_url) for m in found]


async def _owned(rt: Runtime, call: Call) -> list[Media]:
    found = await storage(rt).get_media(list(call.get("paths", [])))
    allowed = set(await _allowed_loops(rt, call, [m.loop_id for m in found]))
    return [m for m in found if m.loop_id in allowed]


async def get(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    return [media_view(m, call.base_url) for m in await _owned(rt, call)]


async def remove(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    owned = await _owned(rt, call)
    await storage(rt).mark_media_deleted([m.path for m in owned])
    return [media_view(m, call.base_url) | {"isDeleted": True} for m in owned]


HANDLERS: dict[str, Handler] = {
    "Media_20160725.Create": create,
    "Media_20160725.List": list_media,
    "Media_20160725.Get": get,
    "Media_20160725.Remove": remove,
}
