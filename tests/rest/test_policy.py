"""The policy table (jibo_cloud/rest/policy.py) covers every operation and the server obeys it.

One server per backend walks the whole table: for every operation of the robot client's API
models, a stranger (unsigned, and with an unknown key), a robot of another household (robot B,
naming household A's resources), every principal kind the rule does not name (all refused), and
the right principal of household A (not refused).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.rest.context import NOBODY, OPERATOR, OWNER, ROBOT
from jibo_cloud.rest.generic import placeholder
from jibo_cloud.rest.models import Operation, load_models
from jibo_cloud.rest.policy import POLICY, SCOPES
from jibo_cloud.storage.provisioning import RobotSpec, add_robot, publish_update
from jibo_cloud.storage.records import KeyPair
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    ROBOT_ID,
    ROBOT_NAME,
    RestClient,
    register_operator,
    register_robot,
    start_backend_server,
)
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer

#: Household A's owner key (an account's own key pair, as Account.Login issues).
OWNER_KEY, OWNER_SECRET = "JIBOOWNERTESTKEY0001", "owner-secret-for-tests-0123456789abcdef"
#: Robot B: another household, with its own verified key pair.
ROBOT_B = RobotSpec(
    name="Other-Robot-Name-2", serial="BOJW-3000-0000-0000-0003",
    robot_id="0b1d2c3b4a5968778695a4b3", owner_email="neighbour@example.com",
    access_key_id="AKIAROBOTBKEY0000002", secret_access_key="robot-b-secret-0123456789abcdefghijk",
    loop_id="0c1d2c3b4a5968778695a4b3", account_id="0d1d2c3b4a5968778695a4b3",
)  # fmt: skip
A_MEDIA = "a-household-photo"
#: The walk sends ~900 requests, half of them refused, from one address in a few seconds: the
#: rate limits (another mechanism, tested on their own) are raised out of its way.
NO_LIMITS = {"rate_per_address": 1e6, "rate_per_principal": 1e6, "auth_failures_per_minute": 10**6}


def test_every_model_operation_has_a_rule() -> None:
    targets = {op.target for op in load_models().operations.values()}
    assert sorted(targets - set(POLICY)) == []  # an operation without a rule
    assert sorted(set(POLICY) - targets) == []  # a rule for an operation that does not exist
    assert all(rule.scope in SCOPES for rule in POLICY.values())


def _inputs(op: Operation, res: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A valid input naming household A's resources where the model has such a member."""
    shape_in = op.input or {}
    members: dict[str, Any] = shape_in.get("m", {})
    required = set(shape_in.get("r", ()))
    body: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for name, shape in members.items():
        if name == op.payload_member:
            continue
        value = res.get(name)
        if name == "id":
            value = res["ids_by_service"].get(op.prefix)
        if name == "ids":
            value = [ACCOUNT_ID] if op.prefix.startswith("Account") else ["christmas"]
        if value is None and name not in required:
            continue
        if value is None:
            value = placeholder(shape, 1, name)
        if shape.get("loc") == "header":
            headers[shape["ln"]] = value if isinstance(value, str) else "1"
        elif shape.get("loc") is None:
            body[name] = value
    return body, headers


async def _household_a(server: RunningServer, client: RestClient) -> dict[str, Any]:
    """Household A's robot, owner key and resources; robot B; the operator key."""
    rt = server.runtime
    await register_robot(server)
    await add_robot(rt.storage, ROBOT_B, now_ms=rt.now_ms())
    await rt.storage.add_key_pair(KeyPair(OWNER_KEY, OWNER_SECRET, ACCOUNT_ID, rt.now_ms()))
    operator = await register_operator(server)
    media = {"x-loop-id": LOOP_ID, "x-path": A_MEDIA, "x-type": "image"}
    await client.ok("Media_20160725.Create", raw=b"photo of A", headers=media)
    key_request = await client.ok("Key_20160201.CreateRequest", {"loopId": LOOP_ID,
                                                                 "publicKey": "pk"})  # fmt: skip
    update = await publish_update(rt.storage, rt.blobs, subsystem="os", from_version="1.0.0",
                                  to_version="1.0.1", data=b"pkg", now_ms=rt.now_ms())  # fmt: skip
    return {
        "loopId": LOOP_ID, "loopIds": [LOOP_ID], "paths": [A_MEDIA], "path": A_MEDIA,
        "robotId": ROBOT_ID, "accountId": ACCOUNT_ID, "deviceId": ROBOT_NAME,
        "friendlyId": ROBOT_NAME, "fromVersion": "1.0.0",
        "ids_by_service": {"Robot_20160225": ROBOT_NAME, "Key_20160201": key_request["id"],
                           "Update_20160301": update.id},
        "signers": {
            ROBOT: {},
            OWNER: {"key": OWNER_KEY, "secret": OWNER_SECRET},
            OPERATOR: operator,
        },
    }  # fmt: skip


async def _send(client: RestClient, op: Operation, res: dict[str, Any], **sign: Any) -> Any:
    body, headers = _inputs(op, res)
    if op.payload_member is not None:
        return await client.call(op.target, raw=b"blob", headers=headers, **sign)
    return await client.call(op.target, body, headers=headers, **sign)


def _refused(response: httpx.Response, code: str) -> str | None:
    if response.status_code == 403 and response.json().get("__type") == code:
        return None
    return f"{response.status_code} {response.text[:160]}"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_server_obeys_the_table_for_every_operation(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, backend, stack, **NO_LIMITS)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            client = RestClient(http)
            res = await _household_a(server, client)
            signers: dict[str, dict[str, str]] = res["signers"]
            ops = sorted({op.target: op for op in load_models().operations.values()}.items())
            problems: list[str] = []
            # Refusals first: the allowed calls below may change household A's data.
            for target, op in ops:
                rule = POLICY[target]
                unsigned = await _send(client, op, res, sign=False)
                if NOBODY in rule.who:
                    if unsigned.status_code == 403:
                        problems.append(f"{target} unsigned: refused, but anyone may call it")
                elif why := _refused(unsigned, "MissingAuthenticationTokenException"):
                    problems.append(f"{target} unsigned: {why}")
                unknown = await _send(client, op, res, key="AKIASTRANGERKEY00001", secret="x")
                if why := _refused(unknown, "UnrecognizedClientException"):
                    problems.append(f"{target} unknown key: {why}")
                other = await _send(client, op, res, key=ROBOT_B.access_key_id,
                                    secret=ROBOT_B.secret_access_key)  # fmt: skip
                if ROBOT not in rule.who or rule.scope == "named":
                    if why := _refused(other, "AccessDeniedException"):
                        problems.append(f"{target} robot of another household: {why}")
                elif other.status_code == 403 or other.status_code >= 500:
                    problems.append(f"{target} robot B on its own: {other.status_code}")
                for kind, sign in signers.items():
                    if kind not in rule.who:
                        response = await _send(client, op, res, **sign)
                        if why := _refused(response, "AccessDeniedException"):
                            problems.append(f"{target} {kind} (not in the rule): {why}")
            # The right principal of household A: never refused, never a crash.
            for target, op in ops:
                rule = POLICY[target]
                kind = next((k for k in (ROBOT, OWNER, OPERATOR, NOBODY) if k in rule.who), None)
                if kind is None:
                    continue  # offered to no one: every kind was refused above
                sign = {"sign": False} if kind == NOBODY else signers[kind]
                response = await _send(client, op, res, **sign)
                if response.status_code == 403 or response.status_code >= 500:
                    problems.append(f"{target} {kind}: {response.status_code} {response.text}")
        server.stop()
    assert problems == []
