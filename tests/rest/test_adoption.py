"""Adopting a robot whose secret we do not know: ``pending`` mode.

An unknown key is recorded and refused until ``jibo-cloud robot approve`` binds it to one
robot; it is then that robot (unverified: never a secret), and ``robot deny`` closes it again.
Through the real server and the real CLI, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import trio

from jibo_cloud.cli import main
from jibo_cloud.server import warn_open_doors
from jibo_cloud.storage.provisioning import RobotSpec, add_robot
from tests.rest.support import LOOP_ID, RestClient, register_robot, start_backend_server
from tests.rest.test_errors import assert_aws_error
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer

ADOPTED = RobotSpec(
    name="Adopted-Robot-Name", serial="BOJW-2000-0000-0000-0002",
    robot_id="aa1d2c3b4a5968778695a4b3", owner_email="adopter@example.com",
    loop_id="bb1d2c3b4a5968778695a4b3", account_id="cc1d2c3b4a5968778695a4b3",
)  # fmt: skip
UNKNOWN_KEY = "AKIAROBOTLOSTITSKEY1"


def _cli_args(server: RunningServer) -> list[str]:
    args = ["--data-dir", str(server.config.data_dir)]
    if server.config.uses_postgres:
        args += ["--database-url", server.config.database_url]
    return args


async def _cli(argv: list[str]) -> int:
    return int(await trio.to_thread.run_sync(main, argv))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_pending_approve_and_deny(
    nursery: trio.Nursery, tmp_path: Path, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(
            nursery, tmp_path, backend, stack, unknown_sigv4_keys="pending"
        )
        await register_robot(server)  # another household, with its own verified key
        await add_robot(server.runtime.storage, ADOPTED, now_ms=server.runtime.now_ms())
        store = _cli_args(server)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            client = RestClient(http)

            async def as_unknown(target: str, body: object = None) -> httpx.Response:
                return await client.call(
                    target, body or {}, key=UNKNOWN_KEY, secret="we-never-knew-it",
                    headers={"x-jibo-robotid": ADOPTED.name},
                )  # fmt: skip

            # 1. Recorded, and refused, until an operator decides.
            for _ in range(2):
                refused = await as_unknown("Loop_20160324.ListLoops")
                assert_aws_error(refused, 403, "UnrecognizedClientException")
            seen = await server.runtime.storage.get_pending_key(UNKNOWN_KEY)
            assert (seen.status, seen.claimed_robot, seen.count) == ("pending", ADOPTED.name, 2)
            assert seen.address == "127.0.0.1"
            assert await _cli(["robot", "pending", *store]) == 0
            listed = capsys.readouterr().out
            assert UNKNOWN_KEY in listed
            assert "pending" in listed
            assert ADOPTED.name in listed
            # An unknown robot name, or a key the server knows, cannot be approved.
            assert await _cli(["robot", "approve", UNKNOWN_KEY, "--robot", "Nobody", *store]) == 1
            capsys.readouterr()

            # 2. Approved: it is that robot, and only that robot.
            argv = ["robot", "approve", UNKNOWN_KEY, "--robot", ADOPTED.name, *store]
            assert await _cli(argv) == 0
            loops = (await as_unknown("Loop_20160324.ListLoops")).json()
            assert [lp["id"] for lp in loops] == [ADOPTED.loop_id]
            account = await as_unknown("Account_20151111.Get")
            assert account.status_code == 200, account.text
            assert "secretAccessKey" not in account.text  # unverified: never a secret
            token = await as_unknown("Notification_20150505.NewRobotToken",
                                     {"deviceId": ADOPTED.name})  # fmt: skip
            assert token.status_code == 200, token.text
            other = await as_unknown("Settings_20171219.GetSettings",
                                     {"loopId": LOOP_ID, "transId": "t"})  # fmt: skip
            assert_aws_error(other, 403, "AccessDeniedException")
            stolen = await as_unknown("Notification_20150505.NewRobotToken",
                                      {"deviceId": "Test-Robot-Name-1"})  # fmt: skip
            assert_aws_error(stolen, 403, "AccessDeniedException")

            # 3. Denied: refused again.
            assert await _cli(["robot", "deny", UNKNOWN_KEY, *store]) == 0
            capsys.readouterr()
            again = await as_unknown("Loop_20160324.ListLoops")
            assert_aws_error(again, 403, "UnrecognizedClientException")
            assert (await server.runtime.storage.get_pending_key(UNKNOWN_KEY)).status == "denied"
        server.stop()


async def test_reject_mode_records_nothing_and_ignores_approvals(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_backend_server(nursery, tmp_path, "sqlite", None)
    await add_robot(server.runtime.storage, ADOPTED, now_ms=server.runtime.now_ms())
    await server.runtime.storage.approve_key(UNKNOWN_KEY, ADOPTED.name, now=1)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await RestClient(http).call(
            "Loop_20160324.ListLoops", {}, key="AKIASOMEOTHERKEY0001", secret="x"
        )
        adopted = await RestClient(http).call(
            "Loop_20160324.ListLoops", {}, key=UNKNOWN_KEY, secret="x"
        )
    assert_aws_error(response, 403, "UnrecognizedClientException")
    assert_aws_error(adopted, 403, "UnrecognizedClientException")  # adoption needs pending
    assert await server.runtime.storage.get_pending_key("AKIASOMEOTHERKEY0001") is None


async def test_operator_key_cli_makes_a_key_that_publishes(
    nursery: trio.Nursery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await start_backend_server(nursery, tmp_path, "sqlite", None)
    store = _cli_args(server)
    assert await trio.to_thread.run_sync(main, ["operator", "key", *store]) == 0
    out = capsys.readouterr().out.split()
    key, secret = out[out.index("accessKeyId") + 1], out[out.index("secretAccessKey") + 1]
    assert await trio.to_thread.run_sync(main, ["operator", "keys", *store]) == 0
    listed = capsys.readouterr().out
    assert key in listed
    assert secret not in listed
    headers = {"x-update-subsystem": "os", "x-update-from-version": "1.0.0",
               "x-update-to-version": "1.0.1", "x-update-changes": "c"}  # fmt: skip
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        published = await client.call("Update_20160301.CreateUpdate", raw=b"pkg",
                                      headers=headers, key=key, secret=secret)  # fmt: skip
        assert published.status_code == 200, published.text
        argv = ["operator", "revoke", key, *store]
        assert await trio.to_thread.run_sync(main, argv) == 0
        again = await client.call("Update_20160301.CreateUpdate", raw=b"pkg",
                                  headers=headers, key=key, secret=secret)  # fmt: skip
        assert_aws_error(again, 403, "UnrecognizedClientException")


async def test_pending_mode_and_adopted_keys_are_announced_at_start(
    nursery: trio.Nursery, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="jibo_cloud.server")
    server = await start_backend_server(
        nursery, tmp_path, "sqlite", None, unknown_sigv4_keys="pending"
    )
    warnings = [r.getMessage() for r in caplog.records if r.name == "jibo_cloud.server"]
    assert any("JIBO_UNKNOWN_SIGV4_KEYS=pending" in w for w in warnings), warnings
    assert not any("WITHOUT signature verification" in w for w in warnings), warnings
    await add_robot(server.runtime.storage, ADOPTED, now_ms=server.runtime.now_ms())
    await server.runtime.storage.approve_key(UNKNOWN_KEY, ADOPTED.name, now=1)
    caplog.clear()
    await warn_open_doors(server.runtime.config, server.runtime.storage)
    warnings = [r.getMessage() for r in caplog.records if r.name == "jibo_cloud.server"]
    assert any("WITHOUT signature verification" in w for w in warnings), warnings
    assert all(UNKNOWN_KEY not in w for w in warnings)  # the key id is not printed
