"""The edge's own websockets (jibo_cloud/edge/websocket.py): the hub's handlers on a
:class:`WebSocket` over a memory stream, a wsproto client on the other end, on trio's virtual
clock. The real server's path to them (the first request, the router, the access line) is
covered end to end in tests/e2e and tests/rest/test_rate_limits.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h11
import pytest
import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from jibo_cloud.edge.websocket import WebSocket, serve_native
from jibo_cloud.hub.routes import hub_socket_handlers, register
from jibo_cloud.hub.session import CLOSE_AFTER_FINAL_SECONDS
from jibo_cloud.router import WEBSOCKET, HostKind, Router
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import connect_storage
from jibo_cloud.storage.hosts import HostMapping
from tests.hub.support import make_runtime
from tests.support import hub_client as hc


class _App:
    """What ``register`` needs of the Quart app: lifecycle decorators and ``extensions``."""

    def __init__(self) -> None:
        self.extensions: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return lambda fn: fn


class Robot:
    """The client end: a wsproto connection over the memory stream."""

    def __init__(self, stream: trio.StapledStream[Any, Any], ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.events: list[Event] = []

    async def next(self) -> Event:
        while not self.events:
            data = await self.stream.receive_some(65536)
            self.ws.receive_data(bytes(data) or None)
            self.events.extend(self.ws.events())
        return self.events.pop(0)

    async def send(self, event: Event) -> None:
        await self.stream.send_all(self.ws.send(event))

    async def text(self, frame: dict[str, Any]) -> None:
        await self.send(TextMessage(data=json.dumps(frame)))


async def _open(
    nursery: trio.Nursery, handler: Any, path: str, headers: tuple[tuple[bytes, bytes], ...] = (),
    *, ping_interval: float = 0.0, max_message: int = 100_000,
) -> tuple[Robot, WebSocket, Event]:  # fmt: skip
    robot_end, server_end = trio.testing.memory_stream_pair()
    client = WSConnection(ConnectionType.CLIENT)
    request_event = Request(host="neo-hub.jibo.com", target=path, extra_headers=list(headers))
    upgrade = client.send(request_event)
    handshake = h11.Connection(h11.SERVER)
    handshake.receive_data(upgrade)
    request = handshake.next_event()
    assert isinstance(request, h11.Request)
    sock = WebSocket(
        server_end, handshake, request, path, "127.0.0.1",
        max_message=max_message, ping_interval=ping_interval, response_headers=[],
    )  # fmt: skip
    nursery.start_soon(serve_native, handler, sock, None)
    robot = Robot(robot_end, client)
    return robot, sock, await robot.next()


def _hub_handler(runtime: Runtime, path: str) -> Any:
    app = _App()
    register(app, runtime, Router())  # type: ignore[arg-type]
    return hub_socket_handlers(app)[path]  # type: ignore[arg-type]


async def test_a_hub_turn_closes_two_seconds_after_final(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    handler = _hub_handler(make_runtime(tmp_path, disable_auth=True), "/v1/listen")
    robot, sock, answer = await _open(nursery, handler, "/v1/listen")
    assert isinstance(answer, AcceptConnection)
    for frame in (
        hc.listen("CLIENT_NLU"),
        hc.client_nlu("askForTime", {"skill": "@be/clock"}),
        hc.context(),
    ):
        await robot.text(frame)
    frames = []
    for _ in range(3):
        event = await robot.next()
        assert isinstance(event, TextMessage)
        frames.append(json.loads(event.data))
    t_final = trio.current_time()
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert frames[-1]["final"] is True
    closing = await robot.next()
    assert isinstance(closing, CloseConnection)
    assert closing.code == 1000
    assert trio.current_time() - t_final == pytest.approx(CLOSE_AFTER_FINAL_SECONDS)
    assert (sock.status, sock.close_code) == (101, 1000)


async def test_the_robot_closing_first_ends_the_socket_quietly(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    handler = _hub_handler(make_runtime(tmp_path, disable_auth=True), "/listen")
    robot, sock, _ = await _open(nursery, handler, "/listen")
    await robot.text(hc.listen("CLIENT_NLU"))
    event = await robot.next()
    assert isinstance(event, TextMessage)
    assert json.loads(event.data)["type"] == "SOS"
    await robot.send(CloseConnection(code=1000))
    reply = await robot.next()  # the close handshake's answer, and nothing after it
    assert isinstance(reply, CloseConnection)
    with trio.move_on_after(10):
        assert await robot.stream.receive_some(65536) == b""  # nothing more, ever
    assert sock.close_code == 1000


async def test_a_socket_without_a_token_is_refused_before_the_upgrade(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.storage = await connect_storage(runtime.config)  # refusals are noted for doctor
    try:
        robot, sock, answer = await _open(nursery, _hub_handler(runtime, "/v1/proactive"),
                                          "/v1/proactive")  # fmt: skip
        body = await robot.next()
    finally:
        await runtime.storage.aclose()
    assert isinstance(answer, RejectConnection)
    assert answer.status_code == 401
    assert (b"content-type", b"text/plain") in answer.headers
    assert isinstance(body, RejectData)
    assert body.data == b"Authorization is required"
    assert sock.status == 401


def test_the_hub_paths_are_the_edges_own_on_hub_and_unprefixed_hosts(tmp_path: Path) -> None:
    router = Router()
    app = _App()
    register(app, make_runtime(tmp_path), router)  # type: ignore[arg-type]
    handlers = hub_socket_handlers(app)  # type: ignore[arg-type]
    for path in ("/v1/listen", "/listen", "/v1/proactive", "/proactive"):
        for host in ("neo-hub.jibo.com", "127.0.0.1:8080"):
            route = router.native_socket(host, path)
            assert route is not None
            assert route.socket is handlers[path]
            assert route.keep_alive
        assert router.native_socket("api-socket.jibo.com", path) is None
        assert router.resolve("api-socket.jibo.com", WEBSOCKET, path) is None
    router.hosts.replace([_mapping("portal.example", "portal")])
    assert router.native_socket("portal.example", "/v1/listen") is None  # the gate's 404


def _mapping(host: str, service: str) -> HostMapping:
    return HostMapping(host=host, service=service, created=0)


async def _echo(sock: Any) -> None:
    await sock.accept()
    while True:
        await sock.send(await sock.receive())


async def test_a_message_over_the_cap_is_closed_1009_and_dropped_whole(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    robot, sock, _ = await _open(nursery, _echo, "/v1/listen", max_message=1000)
    await robot.send(BytesMessage(data=b"\x00" * 600, message_finished=False))
    await robot.send(BytesMessage(data=b"\x00" * 600, message_finished=True))
    await robot.text({"type": "LISTEN"})  # hypercorn crashed on this one
    closing = await robot.next()
    assert isinstance(closing, CloseConnection)
    assert closing.code == 1009
    await robot.send(closing.response())
    await trio.testing.wait_all_tasks_blocked()
    assert robot.events == []  # the text after the 1009 was not echoed
    assert sock.close_code == 1009


async def test_keep_alive_pings_go_out_while_the_handler_waits(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    start = trio.current_time()
    robot, _sock, _ = await _open(nursery, _echo, "/v1/listen", ping_interval=30.0)
    ping = await robot.next()
    assert isinstance(ping, Ping)
    assert trio.current_time() - start == pytest.approx(30.0)
    await robot.send(TextMessage(data="still here"))  # traffic does not move the next one
    echoed = await robot.next()
    assert isinstance(echoed, TextMessage)
    assert isinstance(await robot.next(), Ping)
    assert trio.current_time() - start == pytest.approx(60.0)


async def test_a_handler_bug_closes_its_socket_only(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery
) -> None:
    async def after_accept(sock: Any) -> None:
        await sock.accept()
        raise RuntimeError("a bug")

    async def before_accept(sock: Any) -> None:
        raise RuntimeError("a bug")

    robot, sock, _ = await _open(nursery, after_accept, "/v1/listen")
    closing = await robot.next()
    assert isinstance(closing, CloseConnection)
    assert closing.code == 1011
    _robot, sock, answer = await _open(nursery, before_accept, "/v1/listen")
    assert isinstance(answer, RejectConnection)
    assert answer.status_code == 500
    assert sock.status == 500


def test_only_hub_and_any_hosts_get_the_hub_paths() -> None:
    router = Router()

    async def handler(sock: Any) -> None: ...

    router.socket((HostKind.HUB,), "/v1/listen", handler)
    assert router.native_socket("neo-hub.jibo.com", "/v1/listen") is not None
    assert router.native_socket("127.0.0.1", "/v1/listen") is None


async def test_writers_take_turns_and_a_cancel_never_cuts_a_frame() -> None:
    """Over a real socket pair (the direct-send path): frames far bigger than the kernel's buffers,
    written by several tasks at once, arrive whole and in the order the writers came; a
    writer cancelled while parked sends nothing, and one cancelled halfway through its frame
    still finishes it (the rest goes out shielded)."""
    sock, robot = _over_a_socket_pair(max_message=100_000_000, ping_interval=0.0)
    big = {name: name * 2_000_000 for name in "abcd"}
    async with trio.open_nursery() as nursery:
        await sock.accept()
        assert isinstance(await robot.next(), AcceptConnection)
        halfway = trio.CancelScope()
        nursery.start_soon(_send_in, halfway, sock, big["a"])  # fills the buffers, waits
        await trio.sleep(0.05)
        assert sock._writing
        parked = trio.CancelScope()
        nursery.start_soon(_send_in, parked, sock, "never")
        await trio.sleep(0.05)
        for name in "bcd":
            nursery.start_soon(sock.send, big[name])
            await trio.sleep(0.05)
        parked.cancel()
        halfway.cancel()  # too late for "a": its first bytes are out
        got, part = [], ""
        while len(got) < 4:
            event = await robot.next()
            assert isinstance(event, TextMessage)
            part += event.data
            if event.message_finished:
                got.append(part)
                part = ""
    assert got == [big["a"], big["b"], big["c"], big["d"]]
    assert sock._waiters is None
    assert not sock._writing


def _over_a_socket_pair(*, max_message: int, ping_interval: float) -> tuple[WebSocket, Robot]:
    """A :class:`WebSocket` on one end of a real socket pair (so on a ``trio.SocketStream``,
    the direct-send path), the upgrade already read; the robot on the other end."""
    a, b = trio.socket.socketpair()
    client = WSConnection(ConnectionType.CLIENT)
    handshake = h11.Connection(h11.SERVER)
    handshake.receive_data(client.send(Request(host="neo-hub.jibo.com", target="/v1/listen")))
    request = handshake.next_event()
    assert isinstance(request, h11.Request)
    sock = WebSocket(
        trio.SocketStream(a), handshake, request, "/v1/listen", "127.0.0.1",
        max_message=max_message, ping_interval=ping_interval, response_headers=[],
    )  # fmt: skip
    return sock, Robot(trio.SocketStream(b), client)  # type: ignore[arg-type]


async def _send_in(scope: trio.CancelScope, sock: WebSocket, text: str) -> None:
    with scope:
        await sock.send(text)


async def test_keep_alive_over_a_real_socket_only_when_it_can_matter() -> None:
    """On a socket pair (the path that skips the Ping's cancel scope when it cannot matter):
    a reader waiting with nothing to read still sends the Ping when due; a read under an
    earlier deadline of its own ends at that deadline with no Ping; waiting bytes are read
    at once."""
    sock, robot = _over_a_socket_pair(max_message=1000, ping_interval=0.3)
    with trio.fail_after(5):
        await sock.accept()
        assert isinstance(await robot.next(), AcceptConnection)
        with trio.move_on_after(0.1):  # before the Ping is due: no Ping, the wait just ends
            await sock.receive()
        await robot.text({"type": "LISTEN"})
        await trio.sleep(0.05)
        assert json.loads(await sock.receive()) == {"type": "LISTEN"}  # waiting: read at once
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sock.receive)  # waits past the Ping's time
            assert isinstance(await robot.next(), Ping)
            nursery.cancel_scope.cancel()
    assert robot.events == []
