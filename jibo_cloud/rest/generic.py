"""Operations no robot flow needs: validate, persist what they write, answer per the model.

The original services behind these operations (Facebook login, GQA, IFTTT …) are gone. Who
may call them is the policy table's (:mod:`jibo_cloud.rest.policy`): most writes are denied to
everyone; reads answer placeholders to an authenticated robot or owner. An allowed call gets
the shape its client expects, so nothing crashes on a missing member, and an allowed write's
input is stored (``documents`` kind ``op:<target>``, scoped to the caller's account) so nothing
a client sent is lost. A ``loopId``/``loopIds`` in the input must be the caller's loops.

:func:`placeholder` builds the smallest answer that satisfies an output shape: required
strings are ids (or ``"ok"`` for ``result``), numbers the current time, lists empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jibo_cloud.rest.context import Call, new_id, require_loops, storage
from jibo_cloud.rest.policy import rule_for
from jibo_cloud.runtime import Runtime


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


def _named_loops(body: Mapping[str, Any]) -> list[str]:
    loops = [body["loopId"]] if isinstance(body.get("loopId"), str) else []
    if isinstance(body.get("loopIds"), list):
        loops += [str(x) for x in body["loopIds"]]
    return loops


async def generic_handler(rt: Runtime, call: Call) -> Any:
    await require_loops(rt, call, _named_loops(call.body))
    rule = rule_for(call.op.target)
    if rule is not None and rule.write:
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
