"""The hub's sockets as bare ASGI apps (below Quart): the same admission, turn and close.

Driven with ASGI events over memory channels, on trio's virtual clock, as hypercorn would
call the app the server's router routes to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.hub.routes import hub_asgi_handlers, register
from jibo_cloud.hub.session import CLOSE_AFTER_FINAL_SECONDS
from jibo_cloud.router import WEBSOCKET, Router
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import connect_storage
from tests.hub.support import make_runtime
from tests.support import hub_client as hc


class _App:
    """What ``register`` needs of the Quart app: lifecycle decorators and ``extensions``."""

    def __init__(self) -> None:
        self.extensions: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return lambda fn: fn


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": path,
        "headers": [(b"host", b"neo-hub.jibo.com"), *headers],
        "client": ("127.0.0.1", 40000),
        "extensions": {"websocket.http.response": {}},
    }


async def _serve(
    nursery: trio.Nursery, runtime: Runtime, path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[trio.MemorySendChannel[dict[str, Any]], trio.MemoryReceiveChannel[dict[str, Any]]]:
    app = _App()
    register(app, runtime, Router())  # type: ignore[arg-type]
    handler = hub_asgi_handlers(app)[path]  # type: ignore[arg-type]
    to_app, app_inbox = trio.open_memory_channel[dict[str, Any]](100)
    to_test, sent = trio.open_memory_channel[dict[str, Any]](100)
    await to_app.send({"type": "websocket.connect"})
    nursery.start_soon(handler, _scope(path, headers), app_inbox.receive, to_test.send)
    return to_app, sent


async def test_a_turn_below_quart_closes_two_seconds_after_final(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    to_app, sent = await _serve(
        nursery, make_runtime(tmp_path, disable_auth=True), "/v1/listen", []
    )
    assert (await sent.receive())["type"] == "websocket.accept"
    for frame in (
        hc.listen("CLIENT_NLU"),
        hc.client_nlu("askForTime", {"skill": "@be/clock"}),
        hc.context(),
    ):
        await to_app.send({"type": "websocket.receive", "text": json.dumps(frame)})
    frames = [json.loads((await sent.receive())["text"]) for _ in range(3)]
    t_final = trio.current_time()
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[-1]["final"] is True
    closing = await sent.receive()
    assert closing["type"] == "websocket.close"
    assert closing["code"] == 1000
    assert trio.current_time() - t_final == pytest.approx(CLOSE_AFTER_FINAL_SECONDS)


async def test_the_robot_closing_first_ends_the_socket_quietly(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    to_app, sent = await _serve(nursery, make_runtime(tmp_path, disable_auth=True), "/listen", [])
    assert (await sent.receive())["type"] == "websocket.accept"
    await to_app.send({"type": "websocket.receive", "text": json.dumps(hc.listen("CLIENT_NLU"))})
    assert json.loads((await sent.receive())["text"])["type"] == "SOS"
    await to_app.send({"type": "websocket.disconnect", "code": 1000})
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.WouldBlock):
        sent.receive_nowait()  # no close frame after the robot's


async def test_a_socket_without_a_token_is_refused_before_the_upgrade(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.storage = await connect_storage(runtime.config)  # refusals are noted for doctor
    try:
        _to_app, sent = await _serve(nursery, runtime, "/v1/proactive", [])
        start = await sent.receive()
        body = await sent.receive()
    finally:
        await runtime.storage.aclose()
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 401
    assert (b"content-type", b"text/plain") in start["headers"]
    assert body["type"] == "websocket.http.response.body"
    assert body["body"]


def test_the_hub_paths_are_routed_below_quart_on_hub_and_unprefixed_hosts(
    tmp_path: Path,
) -> None:
    router = Router()
    app = _App()
    register(app, make_runtime(tmp_path), router)  # type: ignore[arg-type]
    handlers = hub_asgi_handlers(app)  # type: ignore[arg-type]
    for path in ("/v1/listen", "/listen", "/v1/proactive", "/proactive"):
        for host in ("neo-hub.jibo.com", "127.0.0.1:8080"):
            route = router.resolve(host, WEBSOCKET, path)
            assert route is not None
            assert route.handler is handlers[path]
            assert route.keep_alive  # pinged as through Quart
        assert router.resolve("api-socket.jibo.com", WEBSOCKET, path) is None
