"""Notification_20150505: ``NewRobotToken`` (the notification socket's token) and ``GetStatus``.

``NewRobotToken`` is a robot's own: ``deviceId`` (the body its signature may not cover, see
:mod:`jibo_cloud.rest.identity`) must name the calling robot. ``GetStatus`` answers only for the
caller's own account."""

from __future__ import annotations

from typing import Any

from jibo_cloud.notify import ROBOT_TOKEN_TTL_MS, NotificationHub, hash_token, new_robot_token
from jibo_cloud.rest.context import Call, Handler, denied, not_found, storage
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import RobotToken


def handlers(hub: NotificationHub) -> dict[str, Handler]:
    async def new_token(rt: Runtime, call: Call) -> dict[str, Any]:
        st = storage(rt)
        device = call.get("deviceId")
        robot = await st.find_robot(str(device)) if device else None
        if device and (robot is None or robot.name != call.caller.robot_name):
            raise denied("deviceId is not the calling robot")
        if robot is None and call.caller.robot_name:
            robot = await st.get_robot(call.caller.robot_name)
        if robot is None:
            raise not_found("robot")
        token = new_robot_token()
        await st.add_robot_token(
            RobotToken(
                token_hash=hash_token(token),
                robot_name=robot.name,
                issued=call.now_ms,
                expires=call.now_ms + ROBOT_TOKEN_TTL_MS,
                account_id=robot.account_id,
            )
        )
        return {"token": token}

    async def get_status(rt: Runtime, call: Call) -> dict[str, Any]:
        # From the storage, not this process's sockets: with several server processes the
        # robot's notification socket is usually held by another one (docs/hub.md).
        account_id = call.get("accountId")
        if not isinstance(account_id, str) or not account_id:
            return {"connected": False}
        if account_id != call.caller.account_id:
            raise denied("GetStatus answers only for the caller's own account")
        return {"connected": await storage(rt).account_connected(account_id)}

    return {
        "Notification_20150505.NewRobotToken": new_token,
        "Notification_20150505.GetStatus": get_status,
    }
