"""The access middleware's per-request record: principals noted and charged from inside the
app (child tasks included), 429s from the app get ``Retry-After``, socket lines, the file."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from jibo_cloud import access
from jibo_cloud.errors import ConfigError
from jibo_cloud.ratelimit import Limits

Message = dict[str, Any]


@attrs.frozen
class Forwarding:
    trust_forwarded: bool = False
    trusted_proxies: tuple[str, ...] = ()


def limits(principal_rate: float = 100.0) -> Limits:
    return Limits.from_config(
        rate_per_address=1000.0,
        handshakes_per_address=1000.0,
        auth_failures_per_minute=30,
        rate_per_principal=principal_rate,
    )


def middleware(app: Any, out: io.StringIO, lim: Limits | None = None) -> access.AccessMiddleware:
    log = access.AccessLog(out, owns_stream=False)
    return access.AccessMiddleware(
        app, Forwarding(), lim or limits(), log, lambda: 1_764_950_400_000, {"/v1/listen"}
    )


async def call_http(
    mw: access.AccessMiddleware, path: str = "/x", body: bytes = b""
) -> list[Message]:
    sent: list[Message] = []
    scope = {
        "type": "http", "method": "POST", "path": path, "query_string": b"sig=abc",
        "client": ("192.0.2.9", 1234), "headers": [(b"x-amz-target", b"Svc_1.Op")],
    }  # fmt: skip

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await mw(scope, receive, send)
    return sent


async def robot_app(scope: Any, receive: Any, send: Any) -> None:
    """Identifies the caller in a child task (as Quart handles requests), then answers."""
    await receive()
    allowed: list[bool] = []

    async def identify() -> None:
        allowed.append(access.charge_principal("robot:r1"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(identify)
    status = 200 if allowed[0] else 429
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def test_principal_noted_from_a_child_task_and_charged() -> None:
    out = io.StringIO()
    mw = middleware(robot_app, out, limits(principal_rate=1.0))  # burst 4
    statuses = []
    for _ in range(5):
        sent = await call_http(mw, body=b"{}")
        statuses.append(sent[0]["status"])
    assert statuses == [200, 200, 200, 200, 429]
    headers = dict(sent[0]["headers"])
    assert headers[b"retry-after"] == b"1"
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 5
    first = lines[0]
    assert first == {
        "time": "2025-12-05T16:00:00.000Z", "client": "192.0.2.9", "principal": "robot:r1",
        "kind": "http", "method": "POST", "target": "Svc_1.Op", "path": "/x",
        "in": 2, "out": 5, "status": 200, "ms": first["ms"],
    }  # fmt: skip
    assert lines[-1]["status"] == 429


async def test_outside_the_middleware_nothing_happens() -> None:
    assert access.current_request() is None
    assert access.current_client() is None
    access.note_principal("robot:x")
    assert access.charge_principal("robot:x") is True


async def test_an_app_failure_is_logged_as_500() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    out = io.StringIO()
    with pytest.raises(RuntimeError):
        await call_http(middleware(broken, out))
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["status"] == 500


async def test_socket_line_has_handshake_status_close_code_and_bytes() -> None:
    async def echo_once(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        access.note_principal("robot:r2")
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"] * 2})
        await receive()  # the client's close

    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "héllo"},
        {"type": "websocket.disconnect", "code": 1000},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        pass

    out = io.StringIO()
    scope = {"type": "websocket", "path": "/secret-robot-token", "client": ("192.0.2.9", 1),
             "headers": [], "extensions": {"websocket.http.response": {}}}  # fmt: skip
    await middleware(echo_once, out)(scope, receive, send)
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["kind"], line["path"], line["status"], line["close"]) == (
        "ws", "/[token]", 101, 1000,
    )  # fmt: skip
    assert (line["in"], line["out"], line["principal"]) == (6, 12, "robot:r2")


def test_an_unopenable_access_log_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="JIBO_ACCESS_LOG"):
        access.AccessLog.open(str(tmp_path / "missing-dir" / "access.log"), tmp_path)


def test_lines_are_redacted_and_off_writes_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    log = access.AccessLog(out, owns_stream=False)
    log.write({"path": "/media/eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjEyMyJ9.c2lnbmF0dXJl"})
    assert "eyJpZCI6IjEyMyJ9" not in out.getvalue()
    assert json.loads(out.getvalue())["path"] == "/media/[jwt]"
    off = access.AccessLog.open("off", tmp_path)
    off.write({"path": "/"})
    assert not off.enabled
    assert list(tmp_path.iterdir()) == []


def test_what_counts_as_a_failed_authentication() -> None:
    assert access.is_failed_authentication(401, "robot:r1")  # a wrong password
    assert access.is_failed_authentication(403, "-")  # a bad signature, a forged URL
    assert not access.is_failed_authentication(403, "robot:r1")  # policy denied one call
    assert not access.is_failed_authentication(404, "-")
    assert not access.is_failed_authentication(200, "-")


async def test_an_identified_robot_denied_by_policy_is_not_cut_off() -> None:
    async def deny(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if scope["path"] == "/identified":
            access.note_principal("robot:r1")
        await send({"type": "http.response.start", "status": 403, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    lim = Limits.from_config(
        rate_per_address=1000.0,
        handshakes_per_address=1000.0,
        auth_failures_per_minute=3,
        rate_per_principal=1000.0,
    )
    mw = middleware(deny, io.StringIO(), lim)
    statuses = [(await call_http(mw, "/identified"))[0]["status"] for _ in range(10)]
    assert statuses == [403] * 10
    statuses = [(await call_http(mw, "/anonymous"))[0]["status"] for _ in range(5)]
    assert statuses == [403, 403, 403, 429, 429]


async def test_a_client_that_left_is_logged_as_499() -> None:
    async def waits_for_body(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    sent: list[Message] = []
    out = io.StringIO()
    scope = {"type": "http", "method": "PUT", "path": "/upload/x", "client": ("192.0.2.9", 1),
             "headers": []}  # fmt: skip

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(waits_for_body, out)(scope, receive, send)
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["status"] == 499
    assert sent == []


@pytest.mark.parametrize(
    ("extensions", "sent_type", "status"),
    [
        ({"websocket.http.response": {}}, "websocket.http.response.start", 429),
        ({}, "websocket.close", 403),  # no denial-response extension: closed before accept
    ],
)
async def test_a_throttled_socket_is_refused_before_accept(
    extensions: dict[str, Any], sent_type: str, status: int
) -> None:
    async def never(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not see a throttled socket")

    lim = Limits.from_config(
        rate_per_address=1000.0,
        handshakes_per_address=0.25,  # burst 1
        auth_failures_per_minute=30,
        rate_per_principal=1000.0,
    )
    lim.admit_handshake("192.0.2.9", trio.current_time())  # spend the burst
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    out = io.StringIO()
    scope = {"type": "websocket", "path": "/v1/listen", "client": ("192.0.2.9", 1),
             "headers": [], "extensions": extensions}  # fmt: skip
    await middleware(never, out, lim)(scope, receive, send)
    assert sent[0]["type"] == sent_type
    assert not [m for m in sent if m["type"] == "websocket.accept"]
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert (line["status"], line["path"]) == (status, "/v1/listen")
