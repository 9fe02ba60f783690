"""Operations no robot flow needs: validate, persist what they write, answer per the model.

The original services behind these operations (Facebook login, GQA, IFTTT …) are gone. A
call still gets the shape its client expects, so nothing crashes on a missing member, and
its input is stored (``documents`` kind ``op:<target>``) so nothing a client sent is lost.

:func:`placeholder` builds the smallest answer that satisfies an output shape: required
strings are ids (or ``"ok"`` for ``result``), numbers the current time, lists empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jibo_cloud.rest.context import Call, new_id, storage
from jibo_cloud.runtime import Runtime

_READ_PREFIXES = ("Get", "List", "Check", "Search", "Find", "Should", "Match")


def placeholder(shape: Mapping[str, Any] | None, now_ms: int, name: str = "") -> Any:
    if shape is None:
        return {}
    kind = shape.get("t", "string")
    if kind == "structure":
        members = shape.get("m", {})
        return {r: placeholder(members.get(r), now_ms, r) for r in shape.get("r", ())}
    if kind == "list":
        return []
    if kind in ("map", "object"):
        return {}
    if kind == "boolean":
        return False
    if kind in ("long", "integer", "float", "double"):
        return now_ms
    if name == "result":
        return "ok"
    return new_id()


async def generic_handler(rt: Runtime, call: Call) -> Any:
    if not call.op.name.startswith(_READ_PREFIXES):
        record = {
            "input": dict(call.body),
            "accountId": call.caller.account_id,
            "robot": call.caller.robot_name,
            "bodyLength": len(call.raw) if call.op.payload_member else None,
        }
        await storage(rt).put_document(
            f"op:{call.op.target}", call.caller.account_id or "-", new_id(), record, call.now_ms
        )
    return placeholder(call.op.output, call.now_ms)
