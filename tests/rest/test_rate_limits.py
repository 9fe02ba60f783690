"""Per-address rate limits through the real server: requests, websocket
handshakes and failed authentications, answered 429 ``ThrottlingException`` in the AWS JSON
shape (HTTP) or refused before the upgrade (sockets). Limits are set low here; the defaults
are high enough for the suite (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected

from tests.rest.support import ACCOUNT_ID, OWNER, ROBOT_NAME, RestClient, register_robot
from tests.support.hub_client import hub_token, open_hub
from tests.support.server import RunningServer, start_server

LOGIN = "Account_20151111.Login"


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.headers["x-amzn-errortype"] == "ThrottlingException"
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["__type"] == "ThrottlingException"
    assert body["message"]


async def access_lines(server: RunningServer, count: int) -> list[dict[str, Any]]:
    path = server.config.data_dir / "access.log"
    with trio.fail_after(10):
        while True:
            lines = [json.loads(line) for line in path.read_text().splitlines()]
            if len(lines) >= count:
                return lines
            await trio.sleep(0.02)


async def handshake(
    port: int, token: str, headers: list[tuple[str, str]]
) -> tuple[int, ConnectionRejected | None]:
    """Open and close a hub socket: (101, None) when accepted, else the refusal."""
    try:
        async with open_hub(port, token=token, headers=headers):
            pass
    except ConnectionRejected as rejected:
        return rejected.status_code, rejected
    return 101, None


async def test_password_guesses_are_throttled(
    nursery: trio.Nursery, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """60 guesses a second on ``Login``: after ``auth_failures_per_minute``
    failures the address gets 429 for the rest of the minute, even with the right password."""
    server = await start_server(nursery, tmp_path / "data", auth_failures_per_minute=5)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        statuses = []
        for n in range(12):
            response = await client.call(LOGIN, {"email": OWNER, "password": f"guess-{n}"})
            statuses.append(response.status_code)
        assert all(status in (401, 403) for status in statuses[:5]), statuses
        assert statuses[5:] == [429] * 7, statuses
        assert_throttled(await client.call(LOGIN, {"email": OWNER, "password": "x"}))
        # Every request from the address, not only Login, for the rest of the window.
        assert_throttled(await http.get("/"))
    # One line for the operator in the diagnostic log, not one per refused request.
    warnings = [r.getMessage() for r in caplog.records if r.name == "jibo_cloud.access"]
    assert warnings == [
        "127.0.0.1: 5 failed authentications within 60 s; refused until the window ends"
    ]


async def test_request_rate_per_address(nursery: trio.Nursery, tmp_path: Path) -> None:
    """A burst of 4 times the rate, then 429; another client (behind the trusted proxy) is
    unaffected."""
    server = await start_server(
        nursery, tmp_path / "data", rate_per_address=1.0, trust_forwarded=True
    )
    one = {"X-Forwarded-For": "198.51.100.1"}
    two = {"X-Forwarded-For": "6.6.6.6, 198.51.100.2"}
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        statuses = [(await http.get("/", headers=one)).status_code for _ in range(4)]
        assert statuses == [204] * 4
        assert_throttled(await http.get("/", headers=one))
        # A client forging another address at the left of its own list is still itself.
        assert (await http.get("/", headers=two)).status_code == 204
        assert (await http.get("/healthcheck", headers=two)).status_code == 200
    lines = await access_lines(server, 7)
    assert [(line["client"], line["status"]) for line in lines] == [
        *[("198.51.100.1", 204)] * 4,
        ("198.51.100.1", 429),
        ("198.51.100.2", 204),
        ("198.51.100.2", 200),
    ]


async def test_handshake_flood_is_refused_before_the_upgrade(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(
        nursery,
        tmp_path / "data",
        handshakes_per_address=1.0,
        trust_forwarded=True,
        trusted_proxies=("10.0.0.0/8",),
    )
    await register_robot(server)
    token = hub_token(server.config, account=ACCOUNT_ID, robot=ROBOT_NAME)
    # Loopback is the first proxy, 10.1.1.1 a second trusted one.
    flood = [("X-Forwarded-For", "203.0.113.66, 10.1.1.1")]
    other = [("X-Forwarded-For", "203.0.113.77")]
    with trio.fail_after(20):
        outcomes = [await handshake(server.port, token, flood) for _ in range(6)]
        # Another client still gets through the limiter (accepted, or the hub's own answer).
        passed = await handshake(server.port, token, other)
    statuses = [status for status, _ in outcomes]
    assert statuses[4:] == [429, 429], statuses  # a burst of 4, then refused
    assert 429 not in statuses[:4]
    rejected = outcomes[-1][1]
    assert rejected is not None
    assert json.loads(bytes(rejected.body or b""))["__type"] == "ThrottlingException"
    assert b"retry-after" in {bytes(k).lower() for k, _ in rejected.headers or ()}
    assert passed[0] != 429
    lines = await access_lines(server, 7)
    by_client = [(line["client"], line["status"]) for line in lines if line["kind"] == "ws"]
    assert by_client[4:6] == [("203.0.113.66", 429)] * 2
    assert by_client[6][0] == "203.0.113.77"
    assert by_client[6][1] != 429


async def test_refused_socket_authentications_count(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data", auth_failures_per_minute=3)
    statuses = []
    with trio.fail_after(20):
        for _ in range(5):
            with pytest.raises(ConnectionRejected) as rejected:
                async with open_hub(server.port, token="not-a-token"):
                    pass
            statuses.append(rejected.value.status_code)
    assert statuses == [401, 401, 401, 429, 429]


async def test_default_limits_let_a_busy_robot_through(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The defaults must not throttle the suite's own traffic (hundreds of calls a second
    from 127.0.0.1): 150 requests at once from one address all pass."""
    server = await start_server(nursery, tmp_path / "data")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        statuses: list[int] = []

        async def probe() -> None:
            statuses.append((await http.get("/")).status_code)

        async with trio.open_nursery() as inner:
            for _ in range(150):
                inner.start_soon(probe)
    assert statuses == [204] * 150


async def test_a_robot_is_named_and_held_to_its_principal_rate(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """A signed REST call names its principal in the access log and spends its per-principal
    rate: past the burst (4 times the rate) the robot gets 429 ``ThrottlingException``
    while an unsigned caller from the same address is not charged for it."""
    server = await start_server(nursery, tmp_path / "data", rate_per_principal=1.0)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        statuses = [
            (await client.call("Loop_20160324.ListLoops", {})).status_code for _ in range(6)
        ]
        throttled = await client.call("Loop_20160324.ListLoops", {})
        unsigned = await client.call("Loop_20160324.ListLoops", {}, sign=False)
    assert statuses[:4] == [200] * 4, statuses
    assert 429 in statuses[4:], statuses
    assert_throttled(throttled)
    assert unsigned.status_code == 403  # refused as unsigned, not throttled as the robot
    lines = await access_lines(server, 8)
    assert {line["principal"] for line in lines[:7]} == {f"robot:{ROBOT_NAME}"}
    assert lines[7]["principal"] == "-"


async def test_sockets_name_their_robot(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data")
    await register_robot(server)
    token = hub_token(server.config, account=ACCOUNT_ID, robot=ROBOT_NAME)
    with trio.fail_after(20):
        status, _ = await handshake(server.port, token, [])
    assert status == 101
    lines = await access_lines(server, 1)
    assert (lines[-1]["kind"], lines[-1]["principal"]) == ("ws", f"robot:{ROBOT_NAME}")
