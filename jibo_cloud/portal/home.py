"""Home: each robot of the account, online now or not, last boot, firmware, doctor's findings.

*Online* means the robot holds a notification socket now (in any server process: the session
rows), or it used the hub or REST within :data:`ONLINE_WINDOW_MS` (the robot polls and talks
often; its activity is written at most once a minute, docs/storage.md migration 6). *Last
boot* is its last ``NewRobotToken``; *firmware* the ``platform`` it reported in
``UpdateRobot``. The findings are ``jibo-cloud doctor``'s for that robot, in its words.

Operators see every account's robots, with the owner's e-mail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from quart import Blueprint, render_template

from jibo_cloud.portal.context import Portal, Viewer
from jibo_cloud.storage.diagnostics import BOOT, HUB, REST
from jibo_cloud.storage.records import Robot

ONLINE_WINDOW_MS = 3 * 60_000


@attrs.frozen
class RobotStatus:
    robot: Robot
    online: bool
    notification_since: int | None
    last_boot: int | None
    last_seen: int | None
    firmware: str
    owner_email: str = ""
    findings: tuple[tuple[str, str, str], ...] = ()


async def robot_status(portal: Portal, robot: Robot, owner_email: str = "") -> RobotStatus:
    storage, now = portal.storage, portal.now()
    sockets = await storage.open_notification_robots([robot.name])
    activity = await storage.robot_activity(robot.name)
    recent = [at for kind, (at, _) in activity.items() if kind in (HUB, REST)]
    last_seen = max([*recent, *sockets.values()], default=None)
    online = robot.name in sockets or any(now - at < ONLINE_WINDOW_MS for at in recent)
    return RobotStatus(
        robot=robot, online=online, notification_since=sockets.get(robot.name),
        last_boot=activity[BOOT][0] if BOOT in activity else None, last_seen=last_seen,
        firmware=str(robot.payload.get("platform") or ""), owner_email=owner_email,
        findings=tuple(await _findings(portal, robot)),
    )  # fmt: skip


async def _findings(portal: Portal, robot: Robot) -> list[tuple[str, str, str]]:
    """``jibo-cloud doctor``'s robot checks, as (level, what, fix)."""
    from jibo_cloud.commands.doctor import check_activity, check_keys, check_loops

    storage = portal.storage
    adopted = next(
        (k for k in await storage.list_pending_keys()
         if k.status == "approved" and k.robot_name == robot.name),
        None,
    )  # fmt: skip
    found = [
        *await check_loops(storage, robot),
        *await check_keys(storage, robot, adopted, portal.runtime.config),
        *await check_activity(storage, robot, portal.now()),
    ]
    return [(f.level, f.what, f.fix) for f in found]


SignedIn = Callable[[Portal], Awaitable[Viewer]]


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    @bp.get("/")
    async def home() -> Any:
        viewer = await signed_in(portal)
        statuses: list[RobotStatus] = []
        if viewer.is_operator:
            robots = await portal.storage.list_robots()
            owners = {a.id: a.email for a in await portal.storage.list_accounts(
                sorted({r.account_id for r in robots}))}  # fmt: skip
            for robot in robots:
                statuses.append(await robot_status(portal, robot, owners.get(robot.account_id, "")))
        else:
            for household in await portal.households(viewer):
                if household.robot is not None:
                    statuses.append(await robot_status(portal, household.robot))
        return await render_template(
            "portal/home.html", viewer=viewer, statuses=statuses, now=portal.now(), page="home"
        )
