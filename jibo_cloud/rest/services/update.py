"""Update_20160301: software updates per subsystem (PROTOCOL.md §2.4).

- Versions compare numerically, part by part (``10.0.9 < 10.0.18``); a pre-release suffix
  sorts before its release (``13.0.0-rc2 < 13.0.0``).
- A record applies to a robot at ``fromVersion`` when its subsystem matches, its filter is
  empty or equal to the robot's, its ``fromVersion`` is numerically equal to the robot's (or
  ``*``), and its ``toVersion`` is newer. ``GetUpdateFrom`` answers the newest that applies,
  else ``404 UPDATE_NOT_FOUND``: the robot aborts its whole update check on any other error.
- Publishing (``CreateUpdate``) and removal (``RemoveUpdate``) are the operator's alone
  (:mod:`jibo_cloud.rest.policy`, checked again here): a robot's key cannot push software to
  every robot. A package's ``url`` is a ``GET`` URL signed for the caller (for a robot, for
  that robot: ``robot:<name>``, so the Updates page can say which robot took it).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import (
    OPERATOR,
    ROBOT,
    Call,
    Handler,
    blobs,
    denied,
    new_id,
    not_found,
    signed_url,
    storage,
)
from jibo_cloud.rest.quota import require_room
from jibo_cloud.rest.signed_urls import MAX_PRINCIPAL, robot_principal
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import UpdateRecord

_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(.*)$")
ANY_VERSION = "*"


def version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Sort key: numeric parts, then release (1) after pre-release (0), then the suffix."""
    match = _VERSION.match(version)
    if match is None:
        return ((), 0, version)
    numbers = tuple(int(p) for p in match[1].split("."))
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers = numbers[:-1]  # 13.0 == 13.0.0
    suffix = match[2].strip()
    return (numbers, 0 if suffix else 1, suffix)


def applies(record: UpdateRecord, subsystem: str | None, filter_: str | None, from_v: str) -> bool:
    if subsystem and record.subsystem != subsystem:
        return False
    if record.filter and record.filter != filter_:
        return False
    if record.from_version != ANY_VERSION and version_key(record.from_version) != version_key(
        from_v
    ):
        return False
    return version_key(record.to_version) > version_key(from_v)


def package_principal(call: Call) -> str | None:
    """A robot's package URL is signed for that robot (``robot:<name>``), so the download
    route can note which robot of a household took it (docs/portal.md "Updates"); anyone
    else's, for the caller as usual (None)."""
    name = call.caller.robot_name
    if call.caller.kind != ROBOT or not name:
        return None
    principal = robot_principal(name)
    return principal if len(principal) <= MAX_PRINCIPAL else None


def update_view(rt: Runtime, call: Call, u: UpdateRecord) -> dict[str, Any]:
    url = (
        signed_url(rt, call, "GET", u.url, principal=package_principal(call))
        if u.url.startswith("/")
        else u.url
    )
    return {
        "_id": u.id, "created": u.created, "accountId": u.account_id,
        "fromVersion": u.from_version, "toVersion": u.to_version, "changes": u.changes,
        "url": url, "shaHash": u.sha_hash, "length": u.length, "subsystem": u.subsystem,
        "filter": u.filter, "dependencies": u.dependencies,
    }  # fmt: skip


async def _candidates(rt: Runtime, call: Call) -> list[UpdateRecord]:
    subsystem, filter_ = call.get("subsystem"), call.get("filter")
    found = await storage(rt).list_updates(subsystem)
    ok = [u for u in found if applies(u, subsystem, filter_, str(call.get("fromVersion")))]
    return sorted(ok, key=lambda u: (version_key(u.to_version), u.created))


async def get_update_from(rt: Runtime, call: Call) -> dict[str, Any]:
    found = await _candidates(rt, call)
    if not found:
        raise ServiceError("UPDATE_NOT_FOUND", "no update is available", 404)
    return update_view(rt, call, found[-1])


async def list_updates_from(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    return [update_view(rt, call, u) for u in await _candidates(rt, call)]


async def list_updates(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    subsystem, filter_ = call.get("subsystem"), call.get("filter")
    found = [u for u in await storage(rt).list_updates(subsystem)
             if not filter_ or u.filter == filter_]  # fmt: skip
    found.sort(key=lambda u: (u.subsystem, version_key(u.to_version), u.created))
    return [update_view(rt, call, u) for u in found]


def package_url(update_id: str) -> str:
    """Where a stored package is served (relative: the answer adds the robot's base URL)."""
    return f"/updates/{update_id}/package"


def _require_operator(call: Call) -> None:
    """Publishing is an operator's act: only an operator key may do it over REST."""
    if call.caller.kind != OPERATOR or not call.caller.verified:
        raise denied("publishing or removing updates is the operator's")


async def create_update(rt: Runtime, call: Call) -> dict[str, Any]:
    _require_operator(call)
    await require_room(rt, None, len(call.raw))
    update_id = new_id()
    stored = await blobs(rt).write(blobs(rt).new_key("update"), call.raw)
    record = UpdateRecord(
        id=update_id, created=call.now_ms, subsystem=str(call.get("subsystem") or ""),
        from_version=str(call.get("fromVersion")), to_version=str(call.get("toVersion")),
        url=package_url(update_id), sha_hash=hashlib.sha256(call.raw).hexdigest(),
        length=stored.length, account_id=call.caller.account_id or "",
        changes=str(call.get("changes") or ""), filter=call.get("filter"), blob_key=stored.key,
        dependencies=call.get("dependencies", {}),
    )  # fmt: skip
    await storage(rt).add_update(record)
    return update_view(rt, call, record)


async def remove_update(rt: Runtime, call: Call) -> dict[str, Any]:
    _require_operator(call)
    record = await storage(rt).get_update(str(call.get("id")))
    if record is None or not await storage(rt).remove_update(record.id):
        raise not_found("update")
    if record.blob_key:  # each published package has its own file: no other record needs it
        await blobs(rt).delete(record.blob_key)
    return update_view(rt, call, record)


HANDLERS: dict[str, Handler] = {
    "Update_20160301.GetUpdateFrom": get_update_from,
    "Update_20160301.ListUpdatesFrom": list_updates_from,
    "Update_20160301.ListUpdates": list_updates,
    "Update_20160301.CreateUpdate": create_update,
    "Update_20160301.RemoveUpdate": remove_update,
}
