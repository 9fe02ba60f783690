"""Backup_20170222: ``New`` hands out an upload URL; the ``PUT`` body is the backup."""

from __future__ import annotations

import datetime
from typing import Any

from jibo_cloud.rest.context import Call, Handler, new_id, storage
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Backup

#: How long a listed download URL is advertised as valid (informational: URLs do not expire).
LINK_SECONDS = 3600


def _iso(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def new(rt: Runtime, call: Call) -> dict[str, Any]:
    backup = Backup(
        id=new_id(), loop_id=str(call.get("loopId")),
        account_id=call.caller.account_id or "", created=call.now_ms,
    )  # fmt: skip
    await storage(rt).add_backup(backup)
    return {"uploadUrl": f"{call.base_url}/upload/backup/{backup.id}"}


async def list_backups(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    found = await storage(rt).list_backups(str(call.get("loopId")))
    return [
        {
            "modified": _iso(b.modified or b.created),
            "etag": b.sha256 or "",
            "size": str(b.length or 0),
            "location": {
                "expires": _iso(call.now_ms + LINK_SECONDS * 1000),
                "url": f"{call.base_url}/backups/{b.id}",
            },
        }
        for b in found
    ]


HANDLERS: dict[str, Handler] = {
    "Backup_20170222.New": new,
    "Backup_20170222.List": list_backups,
}
