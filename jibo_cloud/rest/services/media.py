"""Media_20160725: photos the robot takes. PROTOCOL.md §2.4: ``Create`` sends a binary body
(an encrypted image) with metadata in ``x-*`` headers; it is stored byte-exact and served
back from ``GET /media/{path}`` through a URL signed for the caller's household.

Household boundary: ``loopId``/``loopIds`` must be the caller's loops, ``paths`` media of
those loops, and ``Create`` may reuse a path only within the household that owns it (a robot
of another household cannot replace this one's photo)."""

from __future__ import annotations

from typing import Any

from jibo_cloud.errors import ServiceError
from jibo_cloud.portal.thumbnails import with_thumbnails
from jibo_cloud.rest.context import (
    Call,
    Handler,
    blobs,
    require_loop,
    require_loops,
    signed_url,
    storage,
)
from jibo_cloud.rest.quota import room
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Media

MAX_PATH = 200


def media_view(rt: Runtime, call: Call, m: Media) -> dict[str, Any]:
    return {
        "path": m.path, "type": m.type, "reference": m.reference, "accountId": m.account_id,
        "loopId": m.loop_id, "url": signed_url(rt, call, "GET", f"/media/{m.path}"),
        "isEncrypted": m.is_encrypted, "isDeleted": m.is_deleted, "meta": m.meta,
        "created": m.created,
    }  # fmt: skip


async def create(rt: Runtime, call: Call) -> dict[str, Any]:
    path = str(call.get("path") or "")
    if not path or len(path) > MAX_PATH or "/" in path:
        raise ServiceError("ValidationException", "x-path must be a name without '/'")
    await require_loop(rt, call, str(call.get("loopId")))
    for existing in await storage(rt).get_media([path]):
        await require_loops(rt, call, [existing.loop_id])
    async with room(rt, call.caller.account_id, len(call.raw)):
        stored = await blobs(rt).write(blobs(rt).new_key("media"), call.raw)
        media = Media(
            path=path, loop_id=str(call.get("loopId")), blob_key=stored.key,
            length=stored.length, sha256=stored.sha256, created=call.now_ms,
            account_id=call.caller.account_id or "", type=call.get("type"),
            reference=call.get("reference"), is_encrypted=bool(call.get("isEncrypted", False)),
            meta=call.get("meta", {}),
        )  # fmt: skip
        replaced = await storage(rt).put_media(media)
    if replaced is not None:
        # A replaced photo must not stay on disk, nor its portal thumbnail.
        await blobs(rt).delete_many(with_thumbnails([replaced]))
    return media_view(rt, call, media)


async def list_media(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    loops = [str(x) for x in call.get("loopIds", [])]
    await require_loops(rt, call, loops)
    found = await storage(rt).list_media(loops, after=call.get("after"), before=call.get("before"))
    return [media_view(rt, call, m) for m in found]


async def _owned(rt: Runtime, call: Call) -> list[Media]:
    """The media ``paths`` names (unknown paths are skipped); 403 if any is another
    household's."""
    found = await storage(rt).get_media(list(call.get("paths", [])))
    await require_loops(rt, call, sorted({m.loop_id for m in found}))
    return found


async def get(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    return [media_view(rt, call, m) for m in await _owned(rt, call)]


async def remove(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    owned = await _owned(rt, call)
    deleted = await storage(rt).mark_media_deleted([m.path for m in owned])
    await blobs(rt).delete_many(with_thumbnails(deleted))  # the portal's thumbnails too
    return [media_view(rt, call, m) | {"isDeleted": True} for m in owned]


HANDLERS: dict[str, Handler] = {
    "Media_20160725.Create": create,
    "Media_20160725.List": list_media,
    "Media_20160725.Get": get,
    "Media_20160725.Remove": remove,
}
