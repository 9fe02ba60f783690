"""A real robot's boot, replayed over HTTP against the real server (PROTOCOL.md §2.3).

Each of the three captured boot windows in ``../shared/fixtures/boot-sequences/`` is replayed
in order, on SQLite and on PostgreSQL: every REST call is sent signed (botocore's SigV4, with
the robot's key pair registered by ``add_robot``), every answer is checked for what the robot
needs at that step, the notification socket opens with the token from ``NewRobotToken``, and
the hub token from ``CreateHubToken`` opens ``/v1/listen``.

Loop ids in the captured requests are the ones OpenJibo's server handed out; a robot sends
back what *our* ``ListLoops`` answered, so the replay substitutes ours.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.rest.models import load_models, missing_required
from jibo_cloud.tokens import verify_hub_token
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    ROBOT_ID,
    ROBOT_NAME,
    SERIAL,
    RestClient,
    register_robot,
    start_backend_server,
)
from tests.storage.backends import BACKENDS
from tests.support.env import shared_fixtures
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer

BOOTS = ["boot-1.json", "boot-2.json", "boot-3.json"]


@pytest.fixture(params=BACKENDS)
async def boot_server(
    request: pytest.FixtureRequest, nursery: trio.Nursery, tmp_path: Path
) -> AsyncIterator[RunningServer]:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, request.param, stack)
        await register_robot(server)
        yield server
        server.stop()


def _our_ids(value: Any) -> Any:
    """Replace the loop ids OpenJibo handed out with ours (what our ListLoops answered)."""
    if isinstance(value, dict):
        return {k: (LOOP_ID if k == "loopId" else _our_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_our_ids(v) for v in value]
    return value


def check_answer(target: str, body: dict[str, Any], answer: Any, server: RunningServer) -> None:
    """What the robot needs from each boot call (PROTOCOL.md §2.3/§2.4)."""
    op = load_models().find(target)
    assert op is not None
    assert missing_required(answer, op.output) == [], target
    name = target.split(".")[1]
    if name == "ListLoops":
        assert any(lp["robot"] == ROBOT_ID and lp["members"] for lp in answer)  # §2.4
        assert {m["accountId"] for lp in answer for m in lp["members"]} == {ACCOUNT_ID}
    elif name == "Get" and target.startswith("Account"):
        assert [a["id"] for a in answer] == [ACCOUNT_ID]
    elif name == "GetRobot":
        assert answer["id"] == ROBOT_NAME
        assert answer["payload"]["serialNumber"] == SERIAL
    elif name in ("ListIncomingRequests", "ListBinaryRequests", "List"):
        assert isinstance(answer, list)
    elif name == "ListHolidays":
        assert answer
        assert all(isinstance(h["created"], int) and h["loopId"] == LOOP_ID for h in answer)
    elif name == "UpdateRobot":
        assert answer == {"result": "ok"}
    elif name == "CreateHubToken":
        now_s = server.runtime.now_ms() / 1000
        identity = verify_hub_token(server.config, answer["token"], now_s=now_s)
        assert (identity.account_id, identity.robot_id) == (ACCOUNT_ID, ROBOT_NAME)
        assert answer["expires"] > now_s * 1000
    elif name == "PutEventsAsync":
        assert answer["contentEncoding"] == "gzip"
        assert answer["uploadUrl"].startswith("https://api.jibo.com/upload/log-events/")
    elif name == "NewRobotToken":
        assert len(answer["token"]) >= 32


@pytest.mark.shared
@pytest.mark.parametrize("boot", BOOTS)
async def test_boot_sequence_replays(boot: str, boot_server: RunningServer) -> None:
    events = json.loads(shared_fixtures("boot-sequences", boot).read_text())["events"]
    server = boot_server
    calls = 0
    upload_url: str | None = None
    async with httpx.AsyncClient(base_url=server.http_url) as http, AsyncExitStack() as stack:
        client = RestClient(http)
        for event in events:
            if event["channel"] == "ws" and event.get("event") == "connection_opened":
                continue  # sockets are opened right after the answers that enable them
            if event["channel"] != "http":
                continue
            if event["method"] == "GET":
                assert (await http.get("/", headers={"Host": "api.jibo.com"})).status_code == 204
                continue
            if event["method"] == "PUT":
                assert upload_url is not None, "a PUT before the call that hands out its URL"
                size = event["request_body"]["binary"]["length"]
                body = gzip.compress(b"x" * size)
                assert (await client.put(upload_url, body)).status_code == 200
                continue
            target = event["target"]
            body = _our_ids(event["request_body"])
            service = "jibo" if "Token" in target else target.split("_")[0].lower()
            response = await client.call(target, body, service=service)
            calls += 1
            if target == "Update_20160301.GetUpdateFrom":
                # §2.4: nothing published → 404 UPDATE_NOT_FOUND, the only error the robot skips.
                assert response.status_code == 404
                assert response.headers["x-amzn-errortype"] == "UPDATE_NOT_FOUND"
                continue
            assert response.status_code == 200, (target, response.text)
            answer = response.json()
            check_answer(target, body, answer, server)
            if target == "Log_20150309.PutEventsAsync":
                upload_url = answer["uploadUrl"]
            if target == "Notification_20150505.NewRobotToken":
                notify = await stack.enter_async_context(
                    open_robot_socket(
                        server.port, f"/{answer['token']}", host="api-socket.jibo.com"
                    )
                )
                assert not notify.closed
            if target == "Account_20151111.CreateHubToken":
                headers = [("Authorization", f"Bearer {answer['token']}")]
                async with open_robot_socket(server.port, "/v1/listen", headers=headers) as hub:
                    assert not hub.closed
    assert calls == sum(1 for e in events if e.get("target"))
    robot = await server.runtime.storage.get_robot(ROBOT_NAME)
    updates = [e for e in events if e.get("target") == "Robot_20160225.UpdateRobot"]
    if updates:  # the robot's UpdateRobot payload is what GetRobot now returns
        assert robot.payload == updates[-1]["request_body"]["payload"]
