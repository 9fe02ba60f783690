"""Robot_20160225: the robot record (``GetRobot`` at boot, ``UpdateRobot`` with its Wi-Fi,
platform and serial, PROTOCOL.md §2.3 steps 8 and 12). ``id`` is the friendly name.

``id`` must name a robot of the caller's account (its own robot, or for an owner any of
theirs): 403 ``AccessDeniedException`` otherwise."""

from __future__ import annotations

from typing import Any

from jibo_cloud.rest.context import Call, Handler, denied, not_found, require_account, storage
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Robot


async def _robot(rt: Runtime, call: Call) -> Robot:
    account_id = require_account(call)
    robot = await storage(rt).find_robot(str(call.get("id")))
    if robot is None:
        raise not_found(f"robot {str(call.get('id'))[:64]!r}")
    if robot.account_id != account_id:
        raise denied("the robot belongs to another account")
    return robot


async def get_robot(rt: Runtime, call: Call) -> dict[str, Any]:
    robot = await _robot(rt, call)
    return {
        "id": robot.name, "payload": robot.payload, "calibrationPayload": robot.calibration,
        "created": robot.created, "updated": robot.updated,
    }  # fmt: skip


async def update_robot(rt: Runtime, call: Call) -> dict[str, Any]:
    robot = await _robot(rt, call)
    payload = call.get("payload")
    await storage(rt).update_robot_payload(robot.name, payload, call.now_ms)
    return {"result": "ok"}


async def history(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    robot = await _robot(rt, call)
    entries = await storage(rt).robot_history(robot.name)
    return [
        {"id": robot.name, "name": robot.name, "payload": payload, "created": created}
        for payload, created in entries
    ]


async def calibration(rt: Runtime, call: Call) -> dict[str, Any]:
    robot = await _robot(rt, call)
    return {"id": robot.name, "calibrationPayload": robot.calibration}


HANDLERS: dict[str, Handler] = {
    "Robot_20160225.GetRobot": get_robot,
    "Robot_20160225.UpdateRobot": update_robot,
    "Robot_20160225.GetRobotHistory": history,
    "Robot_20160225.GetCalibrationData": calibration,
}
