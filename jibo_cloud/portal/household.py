"""Household: the loop's members (names, phonetic names, birthdays), edited here and read by
the robot through ``ListLoops``/``ListLoopMembers`` (PROTOCOL.md §2.4).

Where each field lives is where the REST services already read it: first and last name in the
member's account, the phonetic name in the membership (``phoneticName``), the birthday in the
account's ``birthday`` (epoch ms, as the API models type it). After a change the robot is told
over its notification socket (:func:`loop_update`), or at its next socket if it is offline.

A member's *name and birthday* belong to their account, which may also be someone else's
household owner: they are editable here only for the owner themself and for members who do
not sign in anywhere (no household of their own, no portal password). The phonetic name is
this household's and always editable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from quart import Blueprint, abort, render_template, request

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.notify import hub_for
from jibo_cloud.portal.context import Household, Portal, Viewer, see_other
from jibo_cloud.rest.services.loop import loop_view
from jibo_cloud.storage.records import Account, LoopMember

log = logging.getLogger(__name__)

MAX_NAME = 64
#: What the original app's loop update carried, as OpenJibo's stock ListLoops contract
#: records it (fixtures/openjibo-flows/tests/stock-loop-list-contract.json): the loop as
#: ``ListLoops`` returns it, with ``eventKey``.
LOOP_UPDATED = "LoopUpdated"

SignedIn = Callable[[Portal], Awaitable[Viewer]]


@attrs.frozen
class MemberRow:
    member: LoopMember
    account: Account | None
    editable: bool

    @property
    def birthday(self) -> str:
        value = self.account.extra.get("birthday") if self.account else None
        if not isinstance(value, int | float):
            return ""
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date().isoformat()


def loop_update(view: dict[str, Any]) -> dict[str, Any]:
    """The notification a robot gets when its loop changed: the ``ListLoops`` loop record
    with ``eventKey`` ``LoopUpdated`` (see :data:`LOOP_UPDATED`)."""
    return {**view, "eventKey": LOOP_UPDATED}


def clean_name(value: Any) -> str:
    text = " ".join(str(value or "").split())
    return "".join(ch for ch in text if ch.isprintable())[:MAX_NAME]


def parse_birthday(value: Any) -> int | None:
    """``YYYY-MM-DD`` as epoch ms at UTC midnight; '' → None.

    Raises:
        ValueError: not a date, or one in the future or before 1900.
    """
    text = str(value or "").strip()
    if not text:
        return None
    day = dt.date.fromisoformat(text)
    if not dt.date(1900, 1, 1) <= day <= dt.datetime.now(dt.UTC).date():
        raise ValueError("out of range")
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


async def _account_editable(portal: Portal, viewer: Viewer, account: Account | None) -> bool:
    if account is None:
        return False
    if account.id == viewer.account.id:
        return True
    if await portal.storage.get_owner_credential(account.id) is not None:
        return False
    return not any(lp.owner_id == account.id for lp in await portal.storage.loops_of(account.id))


async def member_rows(portal: Portal, viewer: Viewer, household: Household) -> list[MemberRow]:
    members = await portal.storage.members_of(household.loop.id)
    accounts = {a.id: a for a in await portal.storage.list_accounts(
        [m.account_id for m in members])}  # fmt: skip
    rows = []
    for m in members:
        account = accounts.get(m.account_id)
        rows.append(MemberRow(m, account, await _account_editable(portal, viewer, account)))
    return rows


async def push_loop_update(portal: Portal, household: Household) -> bool:
    """Tell the household's robot its loop changed; True when it was sent now (else queued,
    or not possible: logged). The change itself is already stored either way."""
    robot_name = household.loop.robot_name
    hub = hub_for(portal.runtime)
    if not robot_name or hub is None:
        return False
    view = await loop_view(portal.storage, household.loop)
    try:
        return await hub.notify(robot_name, loop_update(view))
    except StorageUnavailable:
        log.warning("loop update not queued for an offline robot: storage unavailable")
        return False


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    @bp.get("/household")
    async def household_page() -> Any:
        viewer = await signed_in(portal)
        households = [
            (h, await member_rows(portal, viewer, h)) for h in await portal.households(viewer)
        ]
        return await render_template(
            "portal/household.html", viewer=viewer, households=households, page="household",
            saved=request.args.get("saved"),
        )  # fmt: skip

    @bp.post("/household/<loop_id>/members/<member_id>")
    async def edit_member(loop_id: str, member_id: str) -> Any:
        viewer = await signed_in(portal)
        household = await portal.household(viewer, loop_id)
        rows = {r.member.id: r for r in await member_rows(portal, viewer, household)}
        row = rows.get(member_id)
        if row is None:
            abort(404)
        assert row is not None
        form = await request.form
        phonetic = clean_name(form.get("phoneticName"))
        extra = dict(row.member.extra)
        if phonetic:
            extra["phoneticName"] = phonetic
        else:
            extra.pop("phoneticName", None)
        if extra != row.member.extra:
            await portal.storage.put_member(attrs.evolve(row.member, extra=extra))
        if row.editable and row.account is not None:
            try:
                birthday = parse_birthday(form.get("birthday"))
            except ValueError:
                abort(400)
            account_extra = dict(row.account.extra)
            if birthday is None:
                account_extra.pop("birthday", None)
            else:
                account_extra["birthday"] = birthday
            changed = attrs.evolve(
                row.account, first_name=clean_name(form.get("firstName")),
                last_name=clean_name(form.get("lastName")), extra=account_extra,
                updated=portal.now(),
            )  # fmt: skip
            if attrs.evolve(changed, updated=row.account.updated) != row.account:
                await portal.storage.update_account(changed)
        await push_loop_update(portal, household)
        return see_other(f"/portal/household?saved={member_id}#member-{member_id}")
