"""``jibo-cloud doctor``: each known cause of a robot's "server connection lost" is planted and
found, with its fix and exit status 1, on SQLite and PostgreSQL (``store_args``); a robot
signing with a skewed clock against the real server leaves a failure doctor reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from jibo_cloud.cli import main
from jibo_cloud.commands.doctor import FAIL, diagnose
from jibo_cloud.config import Config, load_config
from jibo_cloud.storage import open_storage
from jibo_cloud.storage.diagnostics import BOOT, HUB, REST, RobotFailure
from jibo_cloud.tls import certs
from tests.rest.support import ACCESS_KEY, ROBOT_NAME, RestClient, register_robot
from tests.support.server import start_server

NAME = "Test-Robot-Name"
ROBOT_ID = "5f1d2c3b4a5968778695a4b3"
NOW = dt.datetime.now(dt.UTC)


def config_of(store_args: list[str]) -> Config:
    flags = dict(zip(store_args[::2], store_args[1::2], strict=True))
    return load_config(data_dir=flags["--data-dir"], database_url=flags.get("--database-url"))


def on_store(config: Config, work: Callable[[Any], Awaitable[None]]) -> None:
    async def run() -> None:
        async with open_storage(config) as storage:
            await work(storage)

    trio.run(run)


def add_robot(store_args: list[str], *, key: bool = True) -> None:
    argv = ["robot", "add", "--name", NAME, "--serial", "BOJW-1000-0000-0000-0001",
            "--robot-id", ROBOT_ID, "--owner", "owner@example.com", *store_args]  # fmt: skip
    if key:
        argv += ["--access-key-id", "AKDOCTORTEST", "--secret-access-key", "s" * 40]
    assert main(argv) == 0


def good_certificate(config: Config) -> None:
    certs.make_ca(config)
    certs.issue_server_cert(config, certs.server_names(config))


def booted(config: Config) -> None:
    at = int(NOW.timestamp() * 1000)
    on_store(config, lambda st: st.record_diagnostics([], [(NAME, BOOT, at, "NewRobotToken")]))


def doctor(store_args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["doctor", *store_args])
    return status, capsys.readouterr().out


@pytest.fixture
def healthy(store_args: list[str]) -> Config:
    add_robot(store_args)
    config = config_of(store_args)
    good_certificate(config)
    booted(config)
    return config


def test_a_healthy_setup_passes(
    healthy: Config, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = doctor(store_args, capsys)
    assert status == 0, out
    assert FAIL not in out
    assert "ok    storage:" in out
    assert f"ok    {NAME}: loop " in out
    assert f"ok    {NAME}: key pair AKDOCTORTEST (verified)" in out
    assert "ok    certificate covers the robot's host names" in out
    assert f"info  {NAME}: last boot (NewRobotToken)" in out


def test_a_loop_without_members(
    healthy: Config, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    async def empty_loop(st: Any) -> None:
        robot = await st.get_robot(NAME)
        for loop in await st.loops_of(robot.account_id):
            for member in await st.members_of(loop.id):
                assert await st.remove_member(loop.id, member.id)

    on_store(healthy, empty_loop)
    status, out = doctor(store_args, capsys)
    assert status == 1
    assert f"FAIL  {NAME}: loop " in out
    assert 'has no members (the robot shows "server connection lost")' in out
    assert "fix: add the owner back to the loop" in out


def test_a_loop_naming_another_robot_id(
    healthy: Config, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    async def other_id(st: Any) -> None:
        robot = await st.get_robot(NAME)
        for loop in await st.loops_of(robot.account_id):
            await st.put_loop(attrs.evolve(loop, robot_id="b" * 24))

    on_store(healthy, other_id)
    status, out = doctor(store_args, capsys)
    assert status == 1
    assert f"names robot id {'b' * 24} but the robot knows {ROBOT_ID}" in out
    assert "fix: register the robot with the id from its own store" in out


def test_a_missing_key_pair(store_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    add_robot(store_args, key=False)
    config = config_of(store_args)
    good_certificate(config)
    booted(config)
    status, out = doctor(store_args, capsys)
    assert status == 1
    assert f"FAIL  {NAME}: no key pair: its signed requests are refused" in out
    assert "--from-credentials" in out


@pytest.mark.parametrize("problem", ["expired", "names", "missing"])
def test_a_bad_or_missing_certificate(
    problem: str, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_robot(store_args)
    config = config_of(store_args)
    booted(config)
    if problem != "missing":
        certs.make_ca(config, now=NOW - dt.timedelta(days=30))
    if problem == "expired":
        certs.issue_server_cert(
            config, certs.server_names(config), days=2, now=NOW - dt.timedelta(days=10)
        )
    elif problem == "names":
        certs.issue_server_cert(config, ["jibo.example.org"])
    status, out = doctor(store_args, capsys)
    assert status == 1
    if problem == "expired":
        assert "expired on" in out
        assert "fix: jibo-cloud certs renew" in out
    elif problem == "names":
        assert "FAIL  certificate does not cover api.jibo.com, api-socket.jibo.com" in out
    else:
        assert "FAIL  no server certificate" in out
        assert "fix: jibo-cloud certs init" in out


def test_a_certificate_expiring_soon_is_a_warning(
    store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_robot(store_args)
    config = config_of(store_args)
    booted(config)
    certs.make_ca(config)
    certs.issue_server_cert(config, certs.server_names(config), days=10)
    status, out = doctor(store_args, capsys)
    assert status == 0, out
    assert "WARN  certificate" in out
    assert "expires on" in out


def test_a_failed_socket_handshake_until_it_succeeds_again(
    healthy: Config, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    at = int(NOW.timestamp() * 1000) - 60_000
    failure = RobotFailure(
        NAME, at, HUB, "/v1/listen", 401, "401", "TokenExpiredError: jwt expired"
    )
    on_store(healthy, lambda st: st.record_diagnostics([failure]))
    status, out = doctor(store_args, capsys)
    assert status == 1
    assert f"FAIL  {NAME}: hub /v1/listen failed" in out
    assert "401 401 TokenExpiredError: jwt expired" in out
    assert "check the robot's and the server's clocks" in out

    later = [(NAME, HUB, at + 1000, "/v1/listen")]
    on_store(healthy, lambda st: st.record_diagnostics([], later))
    status, out = doctor(store_args, capsys)
    assert status == 0, out
    assert "(succeeded since)" in out


def test_robot_option_and_unknown_robot(
    healthy: Config, store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["doctor", "--robot", NAME, *store_args]) == 0
    assert main(["doctor", "--robot", "No-Such-Robot", *store_args]) == 1
    assert "no robot named 'No-Such-Robot'" in capsys.readouterr().out


def test_storage_missing_or_newer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    capsys.readouterr()
    assert main(["doctor", "--data-dir", str(data)]) == 1
    assert "FAIL  storage: no database at" in capsys.readouterr().out
    assert not (data / "jibo-cloud.db").exists()  # doctor creates nothing
    add_args = ["--data-dir", str(data)]
    add_robot(add_args)
    config = config_of(add_args)

    async def newer(st: Any) -> None:
        await st.db.run(lambda tx: tx.execute(
            "INSERT INTO schema_migrations (version, name, applied) VALUES (999, 'future', 0)"
        ))  # fmt: skip

    on_store(config, newer)
    assert main(["doctor", *add_args]) == 1
    assert "schema migration(s) [999] are newer than this jibo-cloud" in capsys.readouterr().out


async def test_a_robot_with_a_skewed_clock_is_reported(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The real server, 20 minutes ahead of the robot: SigV4 refuses the robot's calls, the
    failure is written in the background and doctor names it with the clock fix."""

    def skew(runtime: Any) -> None:
        real = runtime.now_ms
        runtime.now_ms = lambda: real() + 20 * 60_000

    server = await start_server(nursery, tmp_path / "data", runtime_hook=skew)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).call("Loop_20160324.ListLoops", {})
    assert answer.status_code == 403
    storage = server.runtime.storage
    with trio.fail_after(10):
        while not await storage.robot_failures(ROBOT_NAME):  # noqa: ASYNC110 - no event, by design
            await trio.sleep(0.01)
    (failure,) = await storage.robot_failures(ROBOT_NAME)
    assert (failure.channel, failure.step, failure.status) == (REST, "Loop_20160324.ListLoops", 403)
    assert not failure.verified
    assert ACCESS_KEY not in failure.detail
    findings = await diagnose(server.config, ROBOT_NAME)
    lines = [line for f in findings for line in f.lines()]
    failed = [line for line in lines if line.startswith(f"FAIL  {ROBOT_NAME}: rest")]
    assert failed, lines
    assert "[credentials did not verify]" in failed[0]
    assert any("check the robot's clock" in line for line in lines)
    server.stop()


async def test_a_refused_hub_socket_is_reported_then_cleared(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The real server: a hub socket with an expired token (genuine claims) is refused 401,
    the failure lands in the storage for the token's robot, and an admitted socket later
    marks it recovered."""
    import time

    from trio_websocket import ConnectionRejected

    from jibo_cloud.tokens import issue_hub_token
    from tests.support import hub_client as hc

    server = await start_server(nursery, tmp_path / "data")
    old, _ = issue_hub_token(
        server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT, access_key_id=None,
        now_s=time.time() - 7200, ttl_s=60,
    )  # fmt: skip
    with pytest.raises(ConnectionRejected):
        async with hc.open_hub(server.port, token=old):
            pass
    storage = server.runtime.storage
    with trio.fail_after(10):
        while not await storage.robot_failures(hc.ROBOT):  # noqa: ASYNC110 - no event, by design
            await trio.sleep(0.01)
    (failure,) = await storage.robot_failures(hc.ROBOT)
    assert (failure.channel, failure.step, failure.status) == (HUB, "/v1/listen", 401)
    assert failure.detail.startswith("TokenExpiredError")
    assert failure.verified
    lines = [line for f in await diagnose(server.config, hc.ROBOT) for line in f.lines()]
    assert any(line.startswith(f"FAIL  {hc.ROBOT}: hub /v1/listen failed") for line in lines)

    async with hc.open_hub(server.port, token=hc.hub_token(server.config)):
        pass
    with trio.fail_after(10):
        while HUB not in await storage.robot_activity(hc.ROBOT):  # noqa: ASYNC110 - as above
            await trio.sleep(0.01)
    lines = [line for f in await diagnose(server.config, hc.ROBOT) for line in f.lines()]
    assert not any(line.startswith(f"FAIL  {hc.ROBOT}: hub") for line in lines), lines
    assert any("(succeeded since)" in line for line in lines)
    server.stop()
