"""``jibo-cloud sim boot``: a robot's boot sequence (PROTOCOL.md §2.3), step by step.

Each step sends what a real robot sends, checks the answer against the rules the robot
enforces (§2.4), and says what a real robot would have done with it, e.g. "loop has no
members: the robot would show a lost connection". The sequence goes on after a failed step
when the robot would (it retries or ignores most answers), so one run shows every problem.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
import trio
from trio_websocket import ConnectionClosed

from jibo_cloud.tools import rest
from jibo_cloud.tools.robot import RobotIdentity, now_ms
from jibo_cloud.tools.target import SocketRejected, Target, ToolError, open_socket

#: How long the notification socket is watched for a frame the robot would not understand.
NOTIFY_WATCH_SECONDS = 0.5


@attrs.define
class StepResult:
    """One boot step: did the robot get what it needs, and what would it do otherwise."""

    name: str
    ok: bool
    elapsed_ms: float
    detail: str
    consequence: str = ""

    def describe(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        text = f"{mark} {self.name:<40} {self.elapsed_ms:8.1f} ms  {self.detail}"
        if not self.ok and self.consequence:
            text += f"\n     → {self.consequence}"
        return text

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class BootState:
    """What the robot learned so far (later steps use earlier answers)."""

    robot: RobotIdentity
    robot_token: str | None = None
    loop_id: str | None = None
    hub_token: str | None = None
    hub_token_expires: int | None = None
    upload_path: str = "/upload/log-events"


@attrs.define
class BootResult:
    steps: list[StepResult] = attrs.field(factory=list)
    hub_token: str | None = attrs.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        # The hub token is a credential: it is reported as present, never printed.
        return {
            "ok": self.ok,
            "hub_token_received": self.hub_token is not None,
            "steps": [s.to_json() for s in self.steps],
        }


Check = Callable[[rest.RestAnswer, BootState], tuple[bool, str, str]]


def _is_list(answer: rest.RestAnswer) -> bool:
    return answer.status == 200 and isinstance(answer.body, list)


def _failed(answer: rest.RestAnswer) -> str:
    kind = answer.error_type or "no error type"
    return f"HTTP {answer.status} {kind}: {answer.text[:160]}"


def check_robot_token(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    token = answer.body.get("token") if isinstance(answer.body, dict) else None
    if answer.status == 200 and isinstance(token, str) and token:
        state.robot_token = token
        return True, "robot token received", ""
    return (
        False,
        _failed(answer),
        "no robot token: the robot cannot open its notification socket and retries the call",
    )


def check_put_events(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    url = answer.body.get("uploadUrl") if isinstance(answer.body, dict) else None
    if answer.status == 200 and isinstance(url, str):
        # The URL names api.jibo.com; the simulator PUTs to the same path on the target, with
        # its signature query (the URL is the credential, so only the path is printed).
        parts = urlsplit(url)
        if parts.path:
            state.upload_path = parts.path + (f"?{parts.query}" if parts.query else "")
        return True, f"upload URL {parts.path}", ""
    return False, _failed(answer), "the robot cannot upload its logs (it keeps working)"


def check_list_loops(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    lost = "the robot would show a lost connection"
    if not _is_list(answer):
        return False, _failed(answer), f"ListLoops failed: {lost}"
    loops = [loop for loop in answer.body if isinstance(loop, dict)]
    if not loops:
        return False, "no loops", f"no loop: {lost}"
    robot_id = state.robot.robot_id
    mine = [loop for loop in loops if robot_id is None or loop.get("robot") == robot_id]
    if not mine:
        return False, f"no loop has robot {robot_id}", f"loop is not this robot's: {lost}"
    loop = mine[0]
    if not loop.get("members"):
        return False, f"loop {loop.get('id')} has no members", f"loop has no members: {lost}"
    state.loop_id = str(loop.get("id"))
    return True, f"{len(loops)} loop(s), {len(loop['members'])} member(s)", ""


def check_list(what: str) -> Check:
    def check(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
        if _is_list(answer):
            return True, f"{len(answer.body)} item(s)", ""
        return False, _failed(answer), f"the robot cannot read its {what}"

    return check


def check_account(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    body = answer.body
    account = body[0] if isinstance(body, list) and body else body
    if answer.status == 200 and isinstance(account, dict) and account.get("id"):
        return True, "owner account received", ""
    return False, _failed(answer), "the robot does not know its owner (setup looks broken)"


def check_object(what: str) -> Check:
    def check(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
        if answer.status == 200 and isinstance(answer.body, dict):
            return True, f"{what} received", ""
        return False, _failed(answer), f"the robot cannot read or save its {what}"

    return check


def check_hub_token(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    body = answer.body if isinstance(answer.body, dict) else {}
    token, expires = body.get("token"), body.get("expires")
    if answer.status == 200 and isinstance(token, str) and token:
        state.hub_token = token
        state.hub_token_expires = expires if isinstance(expires, int) else None
        note = "" if isinstance(expires, int) else " (no numeric expires)"
        return True, f"hub token received{note}", ""
    return False, _failed(answer), "no hub token: every hub socket would be refused (no speech)"


def check_update(answer: rest.RestAnswer, state: BootState) -> tuple[bool, str, str]:
    # §2.4: no update must be 404 UPDATE_NOT_FOUND; any other error aborts the whole check.
    if answer.status == 404 and answer.error_type == "UPDATE_NOT_FOUND":
        return True, "no update (UPDATE_NOT_FOUND)", ""
    if answer.status == 200 and isinstance(answer.body, dict) and answer.body.get("toVersion"):
        return True, f"update offered to {answer.body['toVersion']}", ""
    return (
        False,
        _failed(answer),
        "the robot's update manager aborts the whole update check on this answer",
    )


async def run_boot(
    target: Target,
    robot: RobotIdentity,
    *,
    on_step: Callable[[StepResult], None] = lambda _: None,
) -> BootResult:
    """Run the §2.3 sequence against ``target`` as ``robot``.

    Raises:
        ToolError: the server cannot be reached at all.
    """
    state = BootState(robot=robot)
    result = BootResult()

    def add(step: StepResult) -> None:
        result.steps.append(step)
        on_step(step)

    async with target.http_client() as client:

        async def rest_step(name: str, amz_target: str, body: Any, check: Check) -> None:
            answer = await rest.call(client, target, amz_target, body, robot)
            ok, detail, consequence = check(answer, state)
            add(StepResult(name, ok, answer.elapsed_ms, detail, consequence))

        async def timed(name: str, fn: Callable[[], Awaitable[tuple[bool, str, str]]]) -> None:
            start = trio.current_time()
            ok, detail, consequence = await fn()
            add(StepResult(name, ok, (trio.current_time() - start) * 1000, detail, consequence))

        def loop_body() -> dict[str, Any]:
            return {"loopId": state.loop_id}

        await rest_step(
            "1 NewRobotToken",
            "Notification_20150505.NewRobotToken",
            {"deviceId": robot.name},
            check_robot_token,
        )
        await timed("2 notification socket", lambda: _open_notification(target, state))
        await rest_step(
            "3 PutEventsAsync HEALTH",
            "Log_20150309.PutEventsAsync",
            {"kind": "HEALTH", "serial": robot.serial},
            check_put_events,
        )
        await timed("3b PUT log upload", lambda: _upload_log(client, target, state.upload_path))
        await rest_step("4 ListLoops", "Loop_20160324.ListLoops", {}, check_list_loops)
        await rest_step(
            "5 ListIncomingRequests",
            "Key_20160201.ListIncomingRequests",
            loop_body(),
            check_list("key requests"),
        )
        await rest_step(
            "5b ListBinaryRequests",
            "Key_20160201.ListBinaryRequests",
            loop_body(),
            check_list("key requests"),
        )
        await rest_step("6 Account.Get", "Account_20151111.Get", {}, check_account)
        await rest_step("7 ListLoops again", "Loop_20160324.ListLoops", {}, check_list_loops)
        await rest_step(
            "8 GetRobot", "Robot_20160225.GetRobot", {"id": robot.name}, check_object("robot")
        )
        await rest_step(
            "9 ListHolidays",
            "Person_20160801.ListHolidays",
            loop_body(),
            check_list("holidays"),
        )
        await rest_step(
            "10 Media.List",
            "Media_20160725.List",
            {"loopIds": [state.loop_id] if state.loop_id else []},
            check_list("media"),
        )
        await timed("11 GET / probe", lambda: _probe(client, target))
        await rest_step(
            "12 UpdateRobot",
            "Robot_20160225.UpdateRobot",
            {"id": robot.name, "payload": _robot_payload(robot)},
            check_object("robot record"),
        )
        await rest_step(
            "13 Backup.List", "Backup_20170222.List", loop_body(), check_list("backups")
        )
        await rest_step("14 CreateHubToken", "Account_20151111.CreateHubToken", {}, check_hub_token)
        await rest_step(
            "15 GetUpdateFrom",
            "Update_20160301.GetUpdateFrom",
            {"fromVersion": "10.0.18", "subsystem": "@be/be", "filter": "fcs"},
            check_update,
        )
        await rest_step(
            "16 PutEventsAsync LOG",
            "Log_20150309.PutEventsAsync",
            {"kind": "LOG", "serial": robot.serial},
            check_put_events,
        )
    result.hub_token = state.hub_token
    return result


def _robot_payload(robot: RobotIdentity) -> dict[str, Any]:
    return {
        "SSID": robot.ssid,
        "connectedAt": now_ms(),
        "platform": "12.10.0",
        "serialNumber": robot.serial,
    }


async def _open_notification(target: Target, state: BootState) -> tuple[bool, str, str]:
    """Open ``/{robotToken}`` (§3) and watch it briefly for frames the robot cannot handle."""
    if not state.robot_token:
        return False, "skipped: no robot token", "the robot retries NewRobotToken"
    retry = "the robot would reconnect every 15 s and never get notifications"
    try:
        async with open_socket(target, "socket", f"/{state.robot_token}") as ws:
            with trio.move_on_after(NOTIFY_WATCH_SECONDS):
                message = await ws.get_message()
                # §3: an unsolicited frame the robot does not understand crashed its manager.
                return (
                    False,
                    f"unsolicited frame: {str(message)[:80]!r}",
                    "an unexpected notification can crash the robot's notification manager",
                )
    except SocketRejected as rejected:
        return False, f"refused: HTTP {rejected.status} {rejected.body}", retry
    except ConnectionClosed as closed:
        return False, f"closed by the server: {closed.reason}", retry
    return True, "open, quiet (as the robot expects)", ""


async def _upload_log(
    client: httpx.AsyncClient, target: Target, path: str
) -> tuple[bool, str, str]:
    body = gzip.compress(json.dumps([{"kind": "HEALTH", "msg": "sim"}]).encode())
    try:
        response = await client.put(
            target.http_url(path),
            content=body,
            headers={"Host": target.host_header("api"), "Content-Encoding": "gzip"},
            timeout=rest.REQUEST_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise ToolError(f"PUT {path.split('?')[0]}: {exc}") from None
    if response.status_code < 300:
        return True, f"HTTP {response.status_code}", ""
    return False, f"HTTP {response.status_code}", "uploads must never fail the robot (§2.4)"


async def _probe(client: httpx.AsyncClient, target: Target) -> tuple[bool, str, str]:
    try:
        response = await client.get(
            target.http_url("/"),
            headers={"Host": target.host_header("api")},
            timeout=rest.REQUEST_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise ToolError(f"GET /: {exc}") from None
    if response.status_code in (200, 204):
        return True, f"HTTP {response.status_code}", ""
    return (
        False,
        f"HTTP {response.status_code}",
        "the robot would show 'server connection lost' on its screen",
    )
