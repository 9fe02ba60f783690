"""Settings_20171219: per-loop skill settings, stored per skill as ``{key: value}``.

``loopId`` must be one of the caller's loops (403 otherwise)."""

from __future__ import annotations

from typing import Any

from jibo_cloud.rest.context import Call, Handler, require_loop, storage
from jibo_cloud.runtime import Runtime


async def _loop(rt: Runtime, call: Call) -> str:
    return await require_loop(rt, call, str(call.get("loopId")))


async def _by_skill(rt: Runtime, loop_id: str) -> dict[str, dict[str, Any]]:
    return dict(await storage(rt).list_documents("settings", loop_id))


async def get_settings(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    stored = await _by_skill(rt, await _loop(rt, call))
    skills = call.get("skills") or sorted(stored)
    return [{"skillId": s, "data": stored.get(s, {})} for s in skills]


async def get_data_for_settings(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    stored = await _by_skill(rt, await _loop(rt, call))
    return [
        {"skillId": s["skillId"], "view": s.get("view"), "data": stored.get(s["skillId"], {})}
        for s in call.get("settings", [])
    ]


async def update_settings(rt: Runtime, call: Call) -> dict[str, Any]:
    loop_id = await _loop(rt, call)
    stored = await _by_skill(rt, loop_id)
    data: dict[str, Any] = call.get("data", {})
    touched: set[str] = set()
    for key, entry in data.items():
        stored.setdefault(entry["skillId"], {})[key] = entry.get("value")
        touched.add(entry["skillId"])
    for skill in sorted(touched):
        await storage(rt).put_document("settings", loop_id, skill, stored[skill], call.now_ms)
    return {"data": data}


async def delete_settings(rt: Runtime, call: Call) -> dict[str, Any]:
    loop_id = await _loop(rt, call)
    stored = await _by_skill(rt, loop_id)
    for key, entry in call.get("data", {}).items():
        skill = entry["skillId"]
        if key in stored.get(skill, {}):
            del stored[skill][key]
            await storage(rt).put_document("settings", loop_id, skill, stored[skill], call.now_ms)
    return {}


HANDLERS: dict[str, Handler] = {
    "Settings_20171219.GetSettings": get_settings,
    "Settings_20171219.GetDataForSettings": get_data_for_settings,
    "Settings_20171219.UpdateSettings": update_settings,
    "Settings_20171219.DeleteSettings": delete_settings,
}
