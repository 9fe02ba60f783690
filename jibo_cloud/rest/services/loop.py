"""Loop_20160324: households. PROTOCOL.md §2.4: ``ListLoops`` must return a loop whose
``members`` is non-empty and whose ``robot`` is the robot's own 24-hex id.

A ``loopId`` must be one of the caller's loops and ``CreateLoop``'s robot one of the caller's
account's robots (403 ``AccessDeniedException`` otherwise, :mod:`jibo_cloud.rest.policy`)."""

from __future__ import annotations

from typing import Any

import attrs

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import (
    Call,
    Handler,
    denied,
    new_id,
    not_found,
    require_account,
    storage,
)
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Storage
from jibo_cloud.storage.records import Account, Loop, LoopMember

_MEMBER_EXTRA = ("nickname", "phoneticName", "agreementId", "legalGuardianId")
_ACCOUNT_EXTRA = ("gender", "birthday", "photoUrl", "phoneNumber", "messagingAllowed")


def member_view(m: LoopMember, account: Account | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": m.id, "loopId": m.loop_id, "accountId": m.account_id, "status": m.status,
        "type": m.type, "created": m.created,
        "enrolled": m.extra.get("enrolled", {"face": False, "voice": False}),
    }  # fmt: skip
    view.update({k: m.extra[k] for k in _MEMBER_EXTRA if k in m.extra})
    if account is not None:
        view["account"] = {
            "email": account.email, "firstName": account.first_name,
            "lastName": account.last_name, "isChild": bool(m.extra.get("isChild", False)),
        }  # fmt: skip
        # The account fields the models' member shape carries (the portal edits birthdays).
        view["account"].update({k: account.extra[k] for k in _ACCOUNT_EXTRA if k in account.extra})
    return view


async def loop_view(st: Storage, loop: Loop) -> dict[str, Any]:
    members = await st.members_of(loop.id)
    accounts = {a.id: a for a in await st.list_accounts([m.account_id for m in members])}
    return render_loop(loop, members, accounts)


def render_loop(
    loop: Loop, members: list[LoopMember], accounts: dict[str, Account]
) -> dict[str, Any]:
    return {
        "id": loop.id, "name": loop.name, "owner": loop.owner_id, "robot": loop.robot_id,
        "robotFriendlyId": loop.robot_name, "isSuspended": loop.is_suspended,
        "created": loop.created, "updated": loop.updated,
        "members": [member_view(m, accounts.get(m.account_id)) for m in members],
    }  # fmt: skip


async def caller_loop(rt: Runtime, call: Call, loop_id: str) -> Loop:
    """The loop ``loop_id`` if the caller belongs to it (else 403, whether it exists or not)."""
    account_id = require_account(call)
    for loop in await storage(rt).loops_of(account_id):
        if loop.id == loop_id:
            return loop
    raise denied(f"loop {loop_id[:64]!r} is not one of the caller's loops")


async def list_loops(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    found = await storage(rt).loops_with_members(require_account(call))
    wanted = call.get("loopId")
    return [render_loop(*item) for item in found if wanted is None or item[0].id == wanted]


async def create_loop(rt: Runtime, call: Call) -> dict[str, Any]:
    st = storage(rt)
    owner = require_account(call)
    robot = await st.find_robot(str(call.get("robotId")))
    if robot is None:
        raise not_found("robot")
    if robot.account_id != owner:
        raise denied("the robot belongs to another account")
    loop = Loop(
        id=new_id(), name=str(call.get("name")), owner_id=owner, created=call.now_ms,
        updated=call.now_ms, robot_id=robot.robot_id, robot_name=robot.name,
    )  # fmt: skip
    await st.put_loop(loop)
    await st.put_member(LoopMember(new_id(), loop.id, owner, "ACTIVE", "OWNER", call.now_ms))
    return await loop_view(st, loop)


async def update_loop(rt: Runtime, call: Call) -> dict[str, Any]:
    loop = await caller_loop(rt, call, str(call.get("loopId")))
    await storage(rt).put_loop(attrs.evolve(loop, name=call.get("name"), updated=call.now_ms))
    return {"result": "ok"}


async def list_members(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    st = storage(rt)
    statuses, types = call.get("statusList"), call.get("typeList")
    out: list[dict[str, Any]] = []
    for loop in await st.loops_of(require_account(call)):
        view = await loop_view(st, loop)
        out += [
            m for m in view["members"]
            if (not statuses or m["status"] in statuses) and (not types or m["type"] in types)
        ]  # fmt: skip
    return out


async def invite_member(rt: Runtime, call: Call) -> dict[str, Any]:
    st = storage(rt)
    loop = await caller_loop(rt, call, str(call.get("loopId")))
    email = call.get("email")
    if not email:
        raise ServiceError("ValidationException", "email is required to invite a member")
    account = await st.find_account_by_email(email)
    if account is None:
        account = Account(
            id=new_id(), email=email, created=call.now_ms, updated=call.now_ms,
            first_name=call.get("firstName", ""), last_name=call.get("lastName", ""),
        )  # fmt: skip
        await st.create_account(account)
    extra = {"isChild": bool(call.get("isChild", False))}
    await st.put_member(
        LoopMember(new_id(), loop.id, account.id, "INVITED", "MEMBER", call.now_ms, extra)
    )
    return await loop_view(st, loop)


async def remove_member(rt: Runtime, call: Call) -> dict[str, Any]:
    loop = await caller_loop(rt, call, str(call.get("loopId")))
    if not await storage(rt).remove_member(loop.id, str(call.get("id"))):
        raise not_found("member")
    return await loop_view(storage(rt), loop)


async def suspend_loop(rt: Runtime, call: Call) -> dict[str, Any]:
    loop = await caller_loop(rt, call, str(call.get("loopId")))
    await storage(rt).put_loop(attrs.evolve(loop, is_suspended=True, updated=call.now_ms))
    return {"result": "ok"}


HANDLERS: dict[str, Handler] = {
    "Loop_20160324.ListLoops": list_loops,
    "Loop_20160324.CreateLoop": create_loop,
    "Loop_20160324.UpdateLoop": update_loop,
    "Loop_20160324.ListLoopMembers": list_members,
    "Loop_20160324.InviteLoopMember": invite_member,
    "Loop_20160324.RemoveLoopMember": remove_member,
    "Loop_20160324.SuspendLoop": suspend_loop,
}
