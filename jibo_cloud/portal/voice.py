"""Voice history: each household's recent turns — when, what was heard, the intent, the skill,
the latency, the error — so an owner can see why Jibo misunderstood; an off switch, the
retention (default 30 days, honoured by :mod:`jibo_cloud.portal.purge`), whether audio is
kept (off by default) and "delete all".

Turns are written by :func:`jibo_cloud.portal.recording.record_turn` (the hub calls it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from quart import Blueprint, abort, render_template, request

from jibo_cloud.portal.context import Household, Portal, Viewer, see_other
from jibo_cloud.storage.portal import MAX_RETENTION_DAYS, VoiceTurn

SignedIn = Callable[[Portal], Awaitable[Viewer]]
#: Turns shown per household.
SHOWN = 200
RETENTION_CHOICES = (1, 7, 14, 30, 90, 180, MAX_RETENTION_DAYS)


async def _turns(portal: Portal, household: Household) -> list[VoiceTurn]:
    name = household.loop.robot_name
    return await portal.storage.list_voice_turns([name], limit=SHOWN) if name else []


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    @bp.get("/voice")
    async def voice_page() -> Any:
        viewer = await signed_in(portal)
        rows = []
        for household in await portal.households(viewer):
            settings = await portal.storage.get_household_settings(household.loop.id)
            rows.append((household, settings, await _turns(portal, household)))
        return await render_template(
            "portal/voice.html", viewer=viewer, rows=rows, page="voice",
            choices=RETENTION_CHOICES, done=request.args.get("done"),
        )  # fmt: skip

    @bp.post("/voice/<loop_id>/settings")
    async def voice_settings(loop_id: str) -> Any:
        viewer = await signed_in(portal)
        await portal.household(viewer, loop_id)  # 404 unless it is the viewer's
        form = await request.form
        try:
            days = int(str(form.get("retention", "")))
        except ValueError:
            abort(400)
        if days not in RETENTION_CHOICES:
            abort(400)
        current = await portal.storage.get_household_settings(loop_id)
        await portal.storage.put_household_settings(attrs.evolve(
            current, voice_history=form.get("enabled") == "on", voice_retention_days=days,
            keep_audio=form.get("keep_audio") == "on", updated=portal.now(),
        ))  # fmt: skip
        return see_other("/portal/voice?done=saved")

    @bp.post("/voice/<loop_id>/delete")
    async def delete_history(loop_id: str) -> Any:
        viewer = await signed_in(portal)
        household = await portal.household(viewer, loop_id)
        if household.loop.robot_name:
            keys = await portal.storage.delete_voice_turns([household.loop.robot_name])
            await portal.runtime.blobs.delete_many(keys)
        return see_other("/portal/voice?done=deleted")
