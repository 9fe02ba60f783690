"""The access log through the real server: one JSON line per request and
per socket, with the client address by the one rule, no query strings and no tokens."""

from __future__ import annotations

import contextlib
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected

from tests.rest.support import ACCOUNT_ID, ROBOT_NAME, RestClient, register_robot
from tests.support.hub_client import hub_token, open_hub
from tests.support.robot import open_robot_socket
from tests.support.server import start_server

FIELDS = {"time", "client", "principal", "kind", "method", "path", "status", "in", "out", "ms"}
#: Looks like a credential of a signed blob URL; must never reach the log.
QUERY_SECRET = "X-Jibo-Signature=0123456789abcdef0123456789abcdef&token=sekrit-in-query"


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def wait_for_lines(path: Path, count: int) -> list[dict[str, Any]]:
    """Socket lines are written when the server has seen the close: poll briefly."""
    with trio.fail_after(10):
        while True:
            lines = read_lines(path) if path.exists() else []  # noqa: ASYNC240 - a test poll
            if len(lines) >= count:
                return lines
            await trio.sleep(0.02)


async def test_one_line_per_request_and_socket(
    nursery: trio.Nursery, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    await register_robot(server)
    log_path = tmp_path / "data" / "access.log"
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    token = hub_token(server.config, account=ACCOUNT_ID, robot=ROBOT_NAME)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        await client.call("Loop_20160324.ListLoops", {})
        assert (await http.get("/")).status_code == 204
        await http.get(f"/media/some/photo.jpg?{QUERY_SECRET}", headers={"Host": "api.jibo.com"})
        await http.get("/healthcheck")
    with trio.fail_after(10):
        with contextlib.suppress(ConnectionRejected):  # a refusal by the hub gets a line too
            async with open_hub(server.port, token=token):
                pass
        with pytest.raises(ConnectionRejected):
            # An unknown notification token: the path is the token, never logged.
            async with open_robot_socket(
                server.port, "/not-a-real-robot-token-abc123", host="api-socket.jibo.com"
            ):
                pass

    lines = await wait_for_lines(log_path, 6)
    assert len(lines) == 6, lines
    for line in lines:
        assert set(line) >= FIELDS, line
        assert line["client"] == "127.0.0.1"
        assert isinstance(line["ms"], float)
    rest, probe, media, health, hub, notification = lines
    assert (rest["kind"], rest["method"], rest["target"], rest["path"]) == (
        "http", "POST", "Loop_20160324.ListLoops", "/",
    )  # fmt: skip
    assert rest["in"] == 2  # "{}"
    assert rest["out"] > 0
    assert (probe["status"], probe["path"], probe["out"]) == (204, "/", 0)
    assert media["path"] == "/media/some/photo.jpg"
    assert 400 <= media["status"] < 500
    assert health["status"] == 200
    assert health["out"] == 2
    assert (hub["kind"], hub["path"]) == ("ws", "/v1/listen")
    if hub["status"] == 101:
        assert "close" in hub
    assert notification["path"] == "/[token]"
    assert notification["status"] in (401, 403, 404)

    text = log_path.read_text()
    for secret in ("sekrit-in-query", "0123456789abcdef0123", "not-a-real-robot-token", token):
        assert secret not in text
    assert "?" not in "".join(line["path"] for line in lines)
    # Separate from the diagnostic log: no access line went through the root logger.
    assert not [r for r in caplog.records if r.name.startswith("jibo_cloud.access")]
    assert not [r for r in caplog.records if '"kind":' in r.getMessage()]


async def test_forged_leftmost_forwarded_for_is_not_the_client(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """Behind a proxy (here: loopback, trusted), the client wrote
    ``6.6.6.6``; the proxy appended the address it saw, ``203.0.113.7``."""
    server = await start_server(nursery, tmp_path / "data", trust_forwarded=True)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        await http.get("/", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
        await http.get("/", headers={"X-Forwarded-For": "6.6.6.6"})  # a client with no proxy
    first, second = await wait_for_lines(tmp_path / "data" / "access.log", 2)
    assert first["client"] == "203.0.113.7"
    # Without a proxy in front, the entry is the client's own claim; documented: only set
    # JIBO_TRUST_FORWARDED when every connection comes through the proxy.
    assert second["client"] == "6.6.6.6"


async def test_without_trust_the_peer_is_logged(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        await http.get("/", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    (line,) = await wait_for_lines(tmp_path / "data" / "access.log", 1)
    assert line["client"] == "127.0.0.1"


async def test_off_writes_nothing_and_a_path_is_honoured(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    off = await start_server(nursery, tmp_path / "off", access_log="off")
    custom = tmp_path / "logs" / "jibo-access.log"
    custom.parent.mkdir()
    elsewhere = await start_server(nursery, tmp_path / "custom", access_log=str(custom))
    async with httpx.AsyncClient() as http:
        await http.get(off.http_url + "/")
        await http.get(elsewhere.http_url + "/")
    assert not (tmp_path / "off" / "access.log").exists()
    assert not (tmp_path / "custom" / "access.log").exists()
    (line,) = await wait_for_lines(custom, 1)
    assert line["status"] == 204
    assert stat.S_IMODE(custom.stat().st_mode) == 0o600


async def test_dash_writes_to_standard_output(
    nursery: trio.Nursery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await start_server(nursery, tmp_path / "data", access_log="-")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        await http.get("/?token=abc")
    out = ""
    with trio.fail_after(10):  # the line is written just after the answer went out
        while '"kind"' not in out:
            await trio.sleep(0.02)
            out += capsys.readouterr().out
    (line,) = [json.loads(text) for text in out.splitlines() if text.startswith("{")]
    assert (line["path"], line["status"]) == ("/", 204)
    assert "abc" not in out
