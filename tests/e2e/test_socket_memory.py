"""What an idle notification socket keeps in the server (memory per socket).

These check the structure behind ``python -m bench sockets`` (which measures the bytes):
each test fails if the matching choice of our connection (:mod:`jibo_cloud.edge.connection`,
:mod:`jibo_cloud.edge.websocket`) or of :mod:`jibo_cloud.notify.transport` is undone.
Keep-alive behaviour itself is checked in ``test_keepalive.py``; here the server runs in the
test's process, so its tasks and objects can be counted.
"""

from __future__ import annotations

import gc
import types
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request

from jibo_cloud.edge.websocket import WebSocket
from jibo_cloud.notify import hub_for
from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support.server import RunningServer, start_server

SOCKETS = 3


def all_tasks() -> list[trio.lowlevel.Task]:
    tasks: list[trio.lowlevel.Task] = []
    pending = [trio.lowlevel.current_root_task()]
    while pending:
        task = pending.pop()
        if task is None:
            continue
        tasks.append(task)
        pending.extend(child for n in task.child_nurseries for child in n.child_tasks)
    return tasks


def fail_after_generators() -> int:
    """Live ``trio.fail_after`` generators (each such scope being held holds one)."""
    code = trio.fail_after.__wrapped__.__code__  # type: ignore[attr-defined]
    return sum(
        1 for o in gc.get_objects() if isinstance(o, types.GeneratorType) and o.gi_code is code
    )


async def robot_token(server: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    return str(answer["token"])


@asynccontextmanager
async def raw_socket(
    port: int, token: str, host: str = "api-socket.jibo.com"
) -> AsyncIterator[tuple[trio.SocketStream, WSConnection]]:
    """An accepted websocket held open with no reader (an idle robot), closed on exit."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=host, target=f"/{token}")))
    accepted = False
    while not accepted:
        data = await stream.receive_some(65536)
        assert data, "the server closed during the handshake"
        ws.receive_data(data)
        accepted = any(isinstance(event, AcceptConnection) for event in ws.events())
    try:
        yield stream, ws
    finally:
        await stream.aclose()


async def test_idle_notification_sockets_keep_one_task_no_timer_and_no_lock(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    await register_robot(server)
    token = await robot_token(server)
    hub = hub_for(server.runtime)
    assert hub is not None
    with trio.fail_after(30):
        gc.collect()
        timers_before = fail_after_generators()
        async with AsyncExitStack() as stack:
            for _ in range(SOCKETS):
                await stack.enter_async_context(raw_socket(server.port, token))
            await hub.wait_connected(ROBOT_NAME)
            await trio.testing.wait_all_tasks_blocked(0.05)
            gc.collect()  # earlier tests' closed connections are not counted below
            # The edge serves the notification socket itself: one task per connection
            # (the connection's own, holding no nursery: no app task, no ping task, no
            # idle timer). An HTTP connection still open has its idle timer's nursery.
            conns = [task for task in all_tasks() if task.name.endswith("listeners._run_handler")]
            assert len([task for task in conns if not task.child_nurseries]) == SOCKETS
            assert not any(task.name.endswith("_send_pings") for task in all_tasks())
            # No read timer: the socket's reader holds no fail_after(inf) scope.
            assert fail_after_generators() == timers_before
            # No parking lot while nobody writes; the upgrade's parser is dropped once answered.
            sockets = [o for o in gc.get_objects() if isinstance(o, WebSocket)]
            assert len(sockets) == SOCKETS
            assert all(
                sock._waiters is None and not sock._writing and sock._h11 is None
                for sock in sockets
            )
        server.stop()


async def test_notification_sockets_are_pinged_on_every_host(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    # api-socket.* and a bare IP both reach the notification socket the edge serves; it
    # pings from its own task while it waits in receive.
    server = await start_server(nursery, tmp_path / "data", ping_interval=0.05)
    await register_robot(server)
    token = await robot_token(server)
    for host in ("api-socket.jibo.com", "127.0.0.1"):
        with trio.fail_after(10):
            async with raw_socket(server.port, token, host) as (stream, ws):
                pings = 0
                while pings < 2:
                    ws.receive_data(await stream.receive_some(65536))
                    for event in ws.events():
                        if isinstance(event, Ping):
                            pings += 1
                            await stream.send_all(ws.send(event.response()))
        assert pings == 2, host
    server.stop()
