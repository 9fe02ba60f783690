"""Person_20160801: holidays the robot celebrates, and loop/account properties.

Holidays: a loop starts with a small built-in list of fixed-date holidays (stored on first
read, so enabling/disabling them persists); ``created`` is epoch ms as the model says
(PROTOCOL.md §2.4; OpenJibo's ISO string is wrong).

A ``loopId`` must be one of the caller's loops; account properties are the caller's own.
"""

from __future__ import annotations

from typing import Any

from jibo_cloud.rest.context import Call, Handler, require_account, require_loop, storage
from jibo_cloud.runtime import Runtime

#: (id, name, month-day): fixed-date holidays every loop starts with.
BUILTIN_HOLIDAYS = (
    ("new-years-day", "New Year's Day", "01-01"),
    ("valentines-day", "Valentine's Day", "02-14"),
    ("independence-day", "Independence Day", "07-04"),
    ("halloween", "Halloween", "10-31"),
    ("christmas", "Christmas", "12-25"),
)


async def _holidays(rt: Runtime, loop_id: str, now_ms: int) -> list[dict[str, Any]]:
    st = storage(rt)
    stored = [value for _, value in await st.list_documents("holiday", loop_id)]
    if stored:
        return sorted(stored, key=lambda h: (h.get("date") or "", h["id"]))
    created: list[dict[str, Any]] = [
        {
            "id": holiday_id,
            "eventId": None,
            "name": name,
            "category": "holiday",
            "subcategory": None,
            "loopId": loop_id,
            "memberId": None,
            "isEnabled": True,
            "date": month_day,
            "endDate": None,
            "created": now_ms,
        }
        for holiday_id, name, month_day in BUILTIN_HOLIDAYS
    ]
    await st.put_documents("holiday", loop_id, [(str(h["id"]), h) for h in created], now_ms)
    return created


async def list_holidays(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    return await _holidays(rt, await _loop(rt, call), call.now_ms)


async def _loop(rt: Runtime, call: Call) -> str:
    return await require_loop(rt, call, str(call.get("loopId")))


async def _set_enabled(rt: Runtime, call: Call, enabled: bool) -> dict[str, Any]:
    loop_id = await _loop(rt, call)
    ids = set(call.get("ids", []))
    for holiday in await _holidays(rt, loop_id, call.now_ms):
        if holiday["id"] in ids:
            holiday["isEnabled"] = enabled
            await storage(rt).put_document("holiday", loop_id, holiday["id"], holiday, call.now_ms)
    return {"result": "ok"}


async def enable(rt: Runtime, call: Call) -> dict[str, Any]:
    return await _set_enabled(rt, call, True)


async def disable(rt: Runtime, call: Call) -> dict[str, Any]:
    return await _set_enabled(rt, call, False)


async def set_loop_property(rt: Runtime, call: Call) -> dict[str, Any]:
    scope = f"loop:{await _loop(rt, call)}"
    await storage(rt).put_document("property", scope, call.get("key"), call.get("value"),
                                   call.now_ms)  # fmt: skip
    return {}


async def get_loop_properties(rt: Runtime, call: Call) -> dict[str, Any]:
    found = dict(await storage(rt).list_documents("property", f"loop:{await _loop(rt, call)}"))
    return {k: found[k] for k in call.get("keys", []) if k in found}


async def set_account_property(rt: Runtime, call: Call) -> dict[str, Any]:
    scope = f"account:{require_account(call)}"
    await storage(rt).put_document("property", scope, call.get("key"), call.get("value"),
                                   call.now_ms)  # fmt: skip
    return {}


async def get_account_properties(rt: Runtime, call: Call) -> dict[str, Any]:
    found = dict(await storage(rt).list_documents("property", f"account:{require_account(call)}"))
    return {k: found[k] for k in call.get("keys", []) if k in found}


async def list_account_property_keys(rt: Runtime, call: Call) -> dict[str, Any]:
    found = await storage(rt).list_documents("property", f"account:{require_account(call)}")
    return {"keys": [k for k, _ in found]}


HANDLERS: dict[str, Handler] = {
    "Person_20160801.ListHolidays": list_holidays,
    "Person_20160801.EnableHolidays": enable,
    "Person_20160801.DisableHolidays": disable,
    "Person_20160801.SetLoopProperty": set_loop_property,
    "Person_20160801.GetLoopProperties": get_loop_properties,
    "Person_20160801.SetAccountProperty": set_account_property,
    "Person_20160801.GetAccountProperties": get_account_properties,
    "Person_20160801.ListAccountPropertyKeys": list_account_property_keys,
}
