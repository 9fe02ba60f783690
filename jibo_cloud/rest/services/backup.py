"""Backup_20170222: ``New`` hands out an upload URL; the ``PUT`` body is the backup.

Both operations name a loop, which must be one of the caller's. The URLs are signed for the
caller's household (:mod:`jibo_cloud.rest.signed_urls`): ``PUT`` for the upload, ``GET`` for
each listed backup, and ``location.expires`` is that URL's own expiry."""

from __future__ import annotations

import datetime
from typing import Any

from jibo_cloud.rest.context import (
    Call,
    Handler,
    new_id,
    require_account,
    require_loop,
    signed_url,
    storage,
)
from jibo_cloud.rest.signed_urls import EXPIRES, parse_query
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Backup


def _iso(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def new(rt: Runtime, call: Call) -> dict[str, Any]:
    loop_id = await require_loop(rt, call, str(call.get("loopId")))
    backup = Backup(
        id=new_id(), loop_id=loop_id, account_id=require_account(call), created=call.now_ms
    )
    await storage(rt).add_backup(backup)
    return {"uploadUrl": signed_url(rt, call, "PUT", f"/upload/backup/{backup.id}")}


def _location(rt: Runtime, call: Call, backup_id: str) -> dict[str, str]:
    url = signed_url(rt, call, "GET", f"/backups/{backup_id}")
    expires_s = int(parse_query(url.split("?", 1)[1])[EXPIRES])
    return {"expires": _iso(expires_s * 1000), "url": url}


async def list_backups(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    loop_id = await require_loop(rt, call, str(call.get("loopId")))
    found = await storage(rt).list_backups(loop_id)
    return [
        {
            "modified": _iso(b.modified or b.created),
            "etag": b.sha256 or "",
            "size": str(b.length or 0),
            "location": _location(rt, call, b.id),
        }
        for b in found
    ]


HANDLERS: dict[str, Handler] = {
    "Backup_20170222.New": new,
    "Backup_20170222.List": list_backups,
}
