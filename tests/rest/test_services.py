"""Service behaviour over real HTTP: media byte-exact, uploads, backups, updates, accounts …"""

from __future__ import annotations

import gzip
import os

from jibo_cloud.rest.models import load_models, missing_required
from jibo_cloud.storage.provisioning import publish_update
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    ROBOT_NAME,
    RestClient,
    register_operator,
    url_path,
)
from tests.rest.test_errors import assert_aws_error
from tests.support.server import RunningServer


async def test_media_is_stored_byte_exact_and_served_back(client: RestClient) -> None:
    image = os.urandom(50_000) + b"\x00\xff\r\n"  # binary, not text
    headers = {"x-loop-id": LOOP_ID, "x-path": "49add41a-3b6e", "x-type": "image",
               "x-encrypted": "true", "x-meta-camera": "left"}  # fmt: skip
    created = await client.ok("Media_20160725.Create", raw=image, headers=headers, service="media")
    assert (created["path"], created["isEncrypted"], created["type"]) == (
        "49add41a-3b6e", True, "image",
    )  # fmt: skip
    listed = await client.ok("Media_20160725.List", {"loopIds": [LOOP_ID]}, service="media")
    assert [m["path"] for m in listed] == ["49add41a-3b6e"]
    assert listed[0]["meta"] == {"camera": "left"}
    download = await client.get(listed[0]["url"])
    assert download.status_code == 200
    assert download.content == image
    removed = await client.ok("Media_20160725.Remove", {"paths": ["49add41a-3b6e"]})
    assert removed[0]["isDeleted"] is True
    assert await client.ok("Media_20160725.List", {"loopIds": [LOOP_ID]}) == []
    assert (await client.get(listed[0]["url"])).status_code == 404


async def test_media_create_needs_its_loop_header(client: RestClient) -> None:
    response = await client.call("Media_20160725.Create", raw=b"abc", headers={"x-path": "p"})
    assert_aws_error(response, 400, "ValidationException")


async def test_log_uploads_are_stored(client: RestClient, robot_server: RunningServer) -> None:
    answer = await client.ok("Log_20150309.PutEventsAsync", {"kind": "HEALTH", "serial": "S"})
    body = gzip.compress(b'{"event": 1}')
    assert (await client.put(answer["uploadUrl"], body)).status_code == 200
    upload_id = url_path(answer["uploadUrl"]).rsplit("/", 1)[1]
    stored = await robot_server.runtime.storage.get_upload(upload_id)
    assert stored.length == len(body)
    assert await robot_server.runtime.blobs.read(stored.blob_key) == body
    # An unsigned PUT (the bare URL of older servers) is refused (signed blob URLs).
    assert (await client.put("https://api.jibo.com/upload/log-events", b"zz")).status_code == 403
    asr = await client.ok("Log_20150309.PutAsrBinary",
                          {"trackingId": "hj", "metadata": {"robot_name": ROBOT_NAME}})  # fmt: skip
    assert asr["bucketName"]
    assert asr["metadata"] == {"robot_name": ROBOT_NAME}
    assert (await client.put(asr["uploadUrl"], b"pcm")).status_code == 200


async def test_backups_upload_and_list(client: RestClient) -> None:
    new = await client.ok("Backup_20170222.New", {"loopId": LOOP_ID}, service="backup")
    assert await client.ok("Backup_20170222.List", {"loopId": LOOP_ID}) == []
    data = os.urandom(1000)
    assert (await client.put(new["uploadUrl"], data)).status_code == 200
    (listed,) = await client.ok("Backup_20170222.List", {"loopId": LOOP_ID})
    assert listed["size"] == "1000"
    assert (await client.get(listed["location"]["url"])).content == data


async def test_updates_numeric_order_filter_and_not_found(
    client: RestClient, robot_server: RunningServer
) -> None:
    rt = robot_server.runtime
    for to_v, filter_ in (("10.0.9", "fcs"), ("10.0.19", "fcs"), ("10.0.100", "dev"),
                          ("10.0.20-rc1", "fcs")):  # fmt: skip
        await publish_update(rt.storage, rt.blobs, subsystem="@be/be", from_version="10.0.8",
                             to_version=to_v, data=to_v.encode(), now_ms=rt.now_ms(),
                             filter_=filter_)  # fmt: skip
    ask = {"fromVersion": "10.0.8", "subsystem": "@be/be", "filter": "fcs"}
    best = await client.ok("Update_20160301.GetUpdateFrom", ask, service="update")
    assert best["toVersion"] == "10.0.20-rc1"  # 20-rc1 > 19 > 9 numerically; dev filtered out
    assert missing_required(best, load_models().find("Update_20160301.GetUpdateFrom").output) == []
    assert (await client.get(best["url"])).content == b"10.0.20-rc1"
    listed = await client.ok("Update_20160301.ListUpdatesFrom", ask)
    assert [u["toVersion"] for u in listed] == ["10.0.9", "10.0.19", "10.0.20-rc1"]
    newest = await client.call("Update_20160301.GetUpdateFrom",
                               {**ask, "fromVersion": "10.0.20"})  # fmt: skip
    assert_aws_error(newest, 404, "UPDATE_NOT_FOUND")
    other = await client.call("Update_20160301.GetUpdateFrom", {**ask, "subsystem": "os"})
    assert_aws_error(other, 404, "UPDATE_NOT_FOUND")


async def test_accounts_create_login_and_secrets(
    client: RestClient, robot_server: RunningServer
) -> None:
    operator = await register_operator(robot_server)  # creating accounts is the operator's
    created = await client.ok(
        "Account_20151111.Create",
        {"email": "new@example.com", "password": "pw-123456", "firstName": "Alex"},
        **operator,
    )
    assert created["accessKeyId"].startswith("JIBO")
    assert (await client.ok("Account_20151111.CheckEmail", {"email": "new@example.com"}))["exists"]
    login = await client.ok("Account_20151111.Login",
                            {"email": "new@example.com", "password": "pw-123456"},
                            sign=False)  # fmt: skip
    assert login["accessKeyId"] == created["accessKeyId"]
    wrong = await client.call("Account_20151111.Login",
                              {"email": "new@example.com", "password": "nope"})  # fmt: skip
    assert_aws_error(wrong, 401, "NotAuthorizedException")
    dup = await client.call(
        "Account_20151111.Create", {"email": "new@example.com", "password": "x"}, **operator
    )
    assert_aws_error(dup, 409, "ConflictException")
    # The new account's own key signs its own calls; it sees its own secret only.
    own = await client.ok("Account_20151111.Get", {}, key=created["accessKeyId"],
                          secret=created["secretAccessKey"])  # fmt: skip
    assert own[0]["secretAccessKey"] == created["secretAccessKey"]
    assert "password" not in own[0]


async def test_robot_get_and_update(client: RestClient) -> None:
    payload = {"SSID": "ExampleWifi", "platform": "12.10.0", "serialNumber": "S"}
    result = await client.ok("Robot_20160225.UpdateRobot", {"id": ROBOT_NAME, "payload": payload})
    assert result == {"result": "ok"}
    robot = await client.ok("Robot_20160225.GetRobot", {"id": ROBOT_NAME})
    assert robot["payload"] == payload
    history = await client.ok("Robot_20160225.GetRobotHistory", {"id": ROBOT_NAME})
    assert [h["payload"] for h in history] == [payload]


async def test_person_holidays_and_properties(client: RestClient) -> None:
    holidays = await client.ok("Person_20160801.ListHolidays", {"loopId": LOOP_ID})
    assert all(isinstance(h["created"], int) for h in holidays)
    first = holidays[0]["id"]
    await client.ok("Person_20160801.DisableHolidays", {"ids": [first], "loopId": LOOP_ID})
    again = await client.ok("Person_20160801.ListHolidays", {"loopId": LOOP_ID})
    assert {h["id"]: h["isEnabled"] for h in again}[first] is False
    await client.ok("Person_20160801.SetLoopProperty",
                    {"loopId": LOOP_ID, "key": "k", "value": {"a": [1]}})  # fmt: skip
    got = await client.ok("Person_20160801.GetLoopProperties",
                          {"loopId": LOOP_ID, "keys": ["k", "missing"]})  # fmt: skip
    assert got == {"k": {"a": [1]}}
    await client.ok("Person_20160801.SetAccountProperty", {"key": "tz", "value": "UTC"})
    keys = await client.ok("Person_20160801.ListAccountPropertyKeys", {})
    assert keys == {"keys": ["tz"]}


async def test_settings_round_trip(client: RestClient) -> None:
    data = {"units": {"skillId": "@be/weather", "dataService": "local", "value": "metric"}}
    base = {"loopId": LOOP_ID, "transId": "t1"}
    assert await client.ok("Settings_20171219.UpdateSettings", {**base, "data": data}) == {
        "data": data
    }
    got = await client.ok("Settings_20171219.GetSettings", base)
    assert got == [{"skillId": "@be/weather", "data": {"units": "metric"}}]
    await client.ok("Settings_20171219.DeleteSettings", {**base, "data": data})
    got = await client.ok("Settings_20171219.GetSettings", {**base, "skills": ["@be/weather"]})
    assert got == [{"skillId": "@be/weather", "data": {}}]


async def test_key_requests(client: RestClient) -> None:
    assert await client.ok("Key_20160201.ListIncomingRequests", {"loopId": LOOP_ID}) == []
    assert (await client.ok("Key_20160201.ShouldCreate", {"loopId": LOOP_ID}))["shouldCreate"]
    req = await client.ok("Key_20160201.CreateRequest", {"loopId": LOOP_ID, "publicKey": "pk"})
    assert req["accountId"] == ACCOUNT_ID
    incoming = await client.ok("Key_20160201.ListIncomingRequests", {"loopId": LOOP_ID})
    assert [r["id"] for r in incoming] == [req["id"]]
    shared = await client.ok("Key_20160201.Share", {"id": req["id"], "encryptedKey": "ek"})
    assert shared["encryptedKey"] == "ek"
    assert await client.ok("Key_20160201.ListIncomingRequests", {"loopId": LOOP_ID}) == []


async def test_loops_create_invite_and_remove(client: RestClient) -> None:
    created = await client.ok("Loop_20160324.CreateLoop",
                              {"robotId": ROBOT_NAME, "name": "Office"})  # fmt: skip
    invited = await client.ok("Loop_20160324.InviteLoopMember",
                              {"loopId": created["id"], "email": "kid@example.com",
                               "isChild": True})  # fmt: skip
    assert {m["status"] for m in invited["members"]} == {"ACTIVE", "INVITED"}
    member = next(m for m in invited["members"] if m["status"] == "INVITED")
    left = await client.ok("Loop_20160324.RemoveLoopMember",
                           {"loopId": created["id"], "id": member["id"]})  # fmt: skip
    assert len(left["members"]) == 1
    loops = await client.ok("Loop_20160324.ListLoops", {})
    assert {lp["name"] for lp in loops} >= {"Office"}


async def test_every_operation_answers_per_its_model(client: RestClient) -> None:
    """No operation crashes: a minimal valid input gets its output shape, or a clear 4xx.

    One server for all 144 targets (a server per target would cost ~40 s)."""
    from jibo_cloud.rest.generic import placeholder

    problems: list[str] = []
    for target in sorted(load_models().operations):
        op = load_models().find(target)
        assert op is not None
        if op.payload_member:
            members = op.input.get("m", {}).values()
            headers = {m["ln"]: "1" for m in members if m.get("loc") == "header"}
            response = await client.call(target, raw=b"blob", headers=headers)
        else:
            response = await client.call(target, placeholder(op.input, 1) if op.input else {})
        if response.status_code >= 500:
            problems.append(f"{target}: {response.status_code} {response.text}")
        elif response.status_code == 200:
            missing = missing_required(response.json(), op.output)
            if missing:
                problems.append(f"{target}: answer lacks {missing}")
        elif not response.json().get("__type"):
            problems.append(f"{target}: error without __type")
    assert problems == []


async def test_operations_without_a_robot_flow_persist_their_writes(
    client: RestClient, robot_server: RunningServer
) -> None:
    body = {"loopId": LOOP_ID, "id": "member-1", "face": True}
    assert set(await client.ok("Loop_20160324.SetEnrollment", body)) == {"owner"}  # placeholder
    stored = await robot_server.runtime.storage.list_documents(
        "op:Loop_20160324.SetEnrollment", ACCOUNT_ID
    )
    assert [value["input"] for _, value in stored] == [body]
    # A write the policy denies is refused and nothing is stored.
    push = {"name": "phone", "pushToken": "tok-1", "type": "ios"}
    assert_aws_error(await client.call("Push_20160729.CreateDevice", push), 403,
                     "AccessDeniedException")  # fmt: skip
    assert (
        await robot_server.runtime.storage.list_documents(
            "op:Push_20160729.CreateDevice", ACCOUNT_ID
        )
        == []
    )
