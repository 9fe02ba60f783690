"""Regression tests for the security review's authorization findings, through the real server,
on both storage backends. Each one passed for the attacker on the old code (default ``accept``, no
household boundary, publishing open to any verified key); each now fails for the attacker and
leaves the victim's data as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from jibo_cloud.rest import signed_urls
from jibo_cloud.storage.provisioning import RobotSpec, add_robot, publish_update
from tests.rest.support import (
    ACCOUNT_ID,
    LOOP_ID,
    ROBOT_NAME,
    RestClient,
    register_operator,
    register_robot,
    start_backend_server,
    url_path,
)
from tests.rest.test_errors import assert_aws_error
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer

#: Household B (the victim); household A is tests.rest.support's robot (the attacker's key).
B = RobotSpec(
    name="Victim-Robot-Name-9", serial="BOJW-9000-0000-0000-0009",
    robot_id="9b1d2c3b4a5968778695a4b3", owner_email="victim@example.com",
    access_key_id="AKIAVICTIMROBOTKEY09", secret_access_key="victim-secret-0123456789abcdefghi",
    loop_id="9c1d2c3b4a5968778695a4b3", account_id="9d1d2c3b4a5968778695a4b3",
)  # fmt: skip
AS_B = {"key": B.access_key_id, "secret": B.secret_access_key}
PHOTO = b"\x89PNG victim's photo"
METRIC = {"units": {"skillId": "@be/weather", "dataService": "local", "value": "metric"}}
IMPERIAL = {"units": {"skillId": "@be/weather", "dataService": "local", "value": "imperial"}}
NO_LIMITS = {"rate_per_address": 1e6, "rate_per_principal": 1e6, "auth_failures_per_minute": 10**6}


@attrs.define
class Homes:
    server: RunningServer
    client: RestClient
    operator: dict[str, str]


@pytest.fixture(params=BACKENDS)
async def homes(
    request: pytest.FixtureRequest, nursery: trio.Nursery, tmp_path: Path
) -> AsyncIterator[Homes]:
    """Two households (A: the support robot; B: the victim, with a photo, settings, a loop key
    backup and a backup), and an operator key."""
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, request.param, stack, **NO_LIMITS)
        await register_robot(server)
        await add_robot(server.runtime.storage, B, now_ms=server.runtime.now_ms())
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            client = RestClient(http)
            media = {"x-loop-id": B.loop_id, "x-path": "victim-photo", "x-type": "image"}
            await client.ok("Media_20160725.Create", raw=PHOTO, headers=media, **AS_B)
            settings = {"loopId": B.loop_id, "transId": "t", "data": METRIC}
            await client.ok("Settings_20171219.UpdateSettings", settings, **AS_B)
            key = {"loopId": B.loop_id, "encryptedKey": "B-key", "passwordHash": "h"}
            await client.ok("Key_20160201.Backup", key, **AS_B)
            yield Homes(server, client, await register_operator(server))
        server.stop()


async def _b_state(h: Homes) -> dict[str, Any]:
    """Everything the attacks below try to read or change, as B sees it."""
    c = h.client
    settings = {"loopId": B.loop_id, "transId": "t"}
    return {
        "account": await c.ok("Account_20151111.Get", {}, **AS_B),
        "robot": await c.ok("Robot_20160225.GetRobot", {"id": B.name}, **AS_B),
        "settings": await c.ok("Settings_20171219.GetSettings", settings, **AS_B),
        "key": await c.ok(
            "Key_20160201.Restore", {"loopId": B.loop_id, "passwordHash": "h"}, **AS_B
        ),
        # Paths and creation times, not URLs: a URL's signature changes with the clock.
        "media": [
            (m["path"], m["created"])
            for m in await c.ok("Media_20160725.List", {"loopIds": [B.loop_id]}, **AS_B)
        ],
        "members": await c.ok("Loop_20160324.ListLoopMembers", {}, **AS_B),
    }


async def test_a_stranger_neither_reads_nor_changes_the_household(homes: Homes) -> None:
    """Finding: unsigned requests were served as the oldest robot (read the e-mail, members,
    photos, backups; changed settings and the e-mail; removed media; invited members; got hub
    and notification tokens)."""
    before = await _b_state(homes)
    attacks: list[tuple[str, dict[str, Any]]] = [
        ("Loop_20160324.ListLoops", {}),
        ("Account_20151111.Get", {}),
        ("Media_20160725.List", {"loopIds": [B.loop_id]}),
        ("Backup_20170222.List", {"loopId": B.loop_id}),
        (
            "Settings_20171219.UpdateSettings",
            {"loopId": B.loop_id, "transId": "t", "data": IMPERIAL},
        ),
        ("Account_20151111.Update", {"email": "thief@example.com"}),
        ("Media_20160725.Remove", {"paths": ["victim-photo"]}),
        ("Loop_20160324.InviteLoopMember", {"loopId": B.loop_id, "email": "thief@example.com"}),
        ("Account_20151111.CreateHubToken", {}),
        ("Notification_20150505.NewRobotToken", {"deviceId": B.name}),
    ]
    for target, body in attacks:
        unsigned = await homes.client.call(target, body, sign=False)
        assert_aws_error(unsigned, 403, "MissingAuthenticationTokenException")
        unknown = await homes.client.call(target, body, key="AKIASTRANGER00000001", secret="x")
        assert_aws_error(unknown, 403, "UnrecognizedClientException")
        for response in (unsigned, unknown):
            assert B.owner_email not in response.text
    assert await _b_state(homes) == before


async def test_nobody_but_the_operator_creates_accounts_or_publishes(homes: Homes) -> None:
    """Findings: an unsigned Account.Create returned a key pair, whose key then published a
    package robots were offered; robot A's own key published a package robot B was offered, and
    removed the operator's package."""
    st, c = homes.server.runtime.storage, homes.client
    create = {"email": "mallory@example.com", "password": "pw"}
    assert_aws_error(await c.call("Account_20151111.Create", create, sign=False), 403,
                     "MissingAuthenticationTokenException")  # fmt: skip
    assert_aws_error(await c.call("Account_20151111.Create", create), 403, "AccessDeniedException")
    assert await st.find_account_by_email("mallory@example.com") is None
    evil = {"x-update-subsystem": "os", "x-update-from-version": "*",
            "x-update-to-version": "99.0.0", "x-update-changes": "evil"}  # fmt: skip
    for sign in ({"sign": False}, {}):  # unsigned, then robot A's own verified key
        response = await c.call("Update_20160301.CreateUpdate", raw=b"evil", headers=evil, **sign)
        assert response.status_code == 403
    ask = {"fromVersion": "12.10.0", "subsystem": "os"}
    assert_aws_error(await c.call("Update_20160301.GetUpdateFrom", ask, **AS_B), 404,
                     "UPDATE_NOT_FOUND")  # fmt: skip
    rt = homes.server.runtime
    real = await publish_update(rt.storage, rt.blobs, subsystem="os", from_version="12.10.0",
                                to_version="12.11.0", data=b"real", now_ms=rt.now_ms())  # fmt: skip
    removal = await c.call("Update_20160301.RemoveUpdate", {"id": real.id})
    assert_aws_error(removal, 403, "AccessDeniedException")
    assert (await c.ok("Update_20160301.GetUpdateFrom", ask, **AS_B))["_id"] == real.id
    # The operator's key does both.
    published = await c.call("Update_20160301.CreateUpdate", raw=b"v13", headers={
        **evil, "x-update-from-version": "12.11.0", "x-update-to-version": "13.0.0"},
        **homes.operator)  # fmt: skip
    assert published.status_code == 200, published.text
    created = await c.call("Account_20151111.Create", create, **homes.operator)
    assert created.status_code == 200, created.text
    # The operator removes the package: the record and its file are gone.
    package = rt.blobs.path_of(real.blob_key)
    assert package.exists()
    removed = await c.call("Update_20160301.RemoveUpdate", {"id": real.id}, **homes.operator)
    assert removed.status_code == 200, removed.text
    assert not package.exists()
    assert await st.get_update(real.id) is None


async def test_a_robot_stays_in_its_own_household(homes: Homes) -> None:
    """Finding: robot A's key read B's account, read and updated B's robot, settings and
    backups, overwrote B's loop key, and replaced B's photo with Media.Create on B's path."""
    before = await _b_state(homes)
    c = homes.client
    attacks: list[tuple[str, dict[str, Any]]] = [
        ("Account_20151111.Get", {"ids": [B.account_id]}),
        ("Robot_20160225.GetRobot", {"id": B.name}),
        ("Robot_20160225.UpdateRobot", {"id": B.name, "payload": {"SSID": "evil"}}),
        ("Robot_20160225.GetRobotHistory", {"id": B.robot_id}),
        ("Settings_20171219.GetSettings", {"loopId": B.loop_id, "transId": "t"}),
        (
            "Settings_20171219.UpdateSettings",
            {"loopId": B.loop_id, "transId": "t", "data": IMPERIAL},
        ),
        ("Backup_20170222.List", {"loopId": B.loop_id}),
        ("Backup_20170222.New", {"loopId": B.loop_id}),
        ("Key_20160201.Backup", {"loopId": B.loop_id, "encryptedKey": "A-key"}),
        ("Key_20160201.Restore", {"loopId": B.loop_id, "passwordHash": "h"}),
        ("Media_20160725.List", {"loopIds": [LOOP_ID, B.loop_id]}),
        ("Media_20160725.Get", {"paths": ["victim-photo"]}),
        ("Media_20160725.Remove", {"paths": ["victim-photo"]}),
        ("Notification_20150505.GetStatus", {"accountId": B.account_id}),
        ("Notification_20150505.NewRobotToken", {"deviceId": B.name}),
        ("Loop_20160324.CreateLoop", {"robotId": B.robot_id, "name": "mine now"}),
        ("Loop_20160324.InviteLoopMember", {"loopId": B.loop_id, "email": "a@example.com"}),
        ("Person_20160801.SetLoopProperty", {"loopId": B.loop_id, "key": "k", "value": 1}),
    ]
    for target, body in attacks:
        response = await c.call(target, body)
        assert_aws_error(response, 403, "AccessDeniedException")
        assert "B-key" not in response.text
    # Media.Create on B's path (in A's own loop): refused, B's photo untouched.
    hijack = {"x-loop-id": LOOP_ID, "x-path": "victim-photo", "x-type": "image"}
    response = await c.call("Media_20160725.Create", raw=b"A's picture", headers=hijack)
    assert_aws_error(response, 403, "AccessDeniedException")
    assert await _b_state(homes) == before
    (photo,) = await c.ok("Media_20160725.Get", {"paths": ["victim-photo"]}, **AS_B)
    assert (await c.get(photo["url"])).content == PHOTO
    # A's own household still works for A.
    own = await c.ok("Account_20151111.Get", {"ids": [ACCOUNT_ID]})
    assert [a["id"] for a in own] == [ACCOUNT_ID]
    assert (await c.ok("Robot_20160225.GetRobot", {"id": ROBOT_NAME}))["id"] == ROBOT_NAME


async def test_service_urls_are_signed_for_the_household(homes: Homes) -> None:
    """Every upload/download URL a service hands out is signed (PUT for uploads, GET for
    downloads) for the caller's household (an update package's for the robot itself);
    Backup.List's ``expires`` is the URL's own."""
    c, config = homes.client, homes.server.config
    now = homes.server.runtime.now_ms() / 1000
    account = signed_urls.account_principal(ACCOUNT_ID)

    def grant(url: str, method: str) -> signed_urls.UrlGrant:
        query = signed_urls.parse_query(httpx.URL(url).query)
        return signed_urls.verify(config, method, url_path(url), query, now_s=now)

    new = await c.ok("Backup_20170222.New", {"loopId": LOOP_ID})
    assert grant(new["uploadUrl"], "PUT").principal == account
    with pytest.raises(signed_urls.UrlRejected):
        grant(new["uploadUrl"], "GET")
    assert (await c.put(new["uploadUrl"], b"backup")).status_code == 200
    (listed,) = await c.ok("Backup_20170222.List", {"loopId": LOOP_ID})
    download = grant(listed["location"]["url"], "GET")
    assert download.principal == account
    expires_ms = download.expires * 1000
    assert listed["location"]["expires"].startswith(
        iso_second(expires_ms)
    ), listed["location"]  # fmt: skip
    events = await c.ok("Log_20150309.PutEventsAsync", {"kind": "HEALTH", "serial": "S"})
    assert grant(events["uploadUrl"], "PUT").principal == account
    asr = await c.ok("Log_20150309.PutAsrBinary", {"trackingId": "t"})
    assert grant(asr["uploadUrl"], "PUT").principal == account
    binary = await c.ok("Log_20150309.PutBinaryAsync", {"trackingId": "t"})
    assert grant(binary["uploadUrl"], "PUT").principal == account
    assert grant(binary["url"], "GET").principal == account
    media = {"x-loop-id": LOOP_ID, "x-path": "a-photo", "x-type": "image"}
    created = await c.ok("Media_20160725.Create", raw=b"img", headers=media)
    assert grant(created["url"], "GET").principal == account
    rt = homes.server.runtime
    await publish_update(rt.storage, rt.blobs, subsystem="os", from_version="1.0",
                         to_version="2.0", data=b"pkg", now_ms=rt.now_ms())  # fmt: skip
    offered = await c.ok("Update_20160301.GetUpdateFrom", {"fromVersion": "1.0"})
    # A package URL names the robot that asked (the Updates page says who took it).
    assert grant(offered["url"], "GET").principal == signed_urls.robot_principal(ROBOT_NAME)
    listed_updates = await c.ok("Update_20160301.ListUpdates", {}, **homes.operator)
    assert grant(listed_updates[0]["url"], "GET").principal == signed_urls.OPERATOR_PRINCIPAL


def iso_second(ms: int) -> str:
    """``2026-12-05T15:00:00`` of epoch ``ms`` (UTC, to the second)."""
    import datetime

    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
