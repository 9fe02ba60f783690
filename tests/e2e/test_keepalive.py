"""Keep-alive: the notification socket gets protocol-level pings (PROTOCOL.md §3).

A raw wsproto client is used because trio-websocket answers pings without showing them.
The server runs with a short ``ping_interval`` so the test waits a fraction of a second; the
assertion is that Ping frames arrive and nothing else does, not how fast.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage

from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support.server import start_server


async def test_notification_socket_is_kept_alive_with_pings_only(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", ping_interval=0.05)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    token = answer["token"]
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    ws = WSConnection(ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host="api-socket.jibo.com", target=f"/{token}")))
    seen: list[type] = []
    with trio.fail_after(10):
        while seen.count(Ping) < 2:
            ws.receive_data(await stream.receive_some(65536))
            for event in ws.events():
                seen.append(type(event))
                if isinstance(event, Ping):
                    await stream.send_all(ws.send(event.response()))
    await stream.aclose()
    server.stop()
    assert seen[0] is AcceptConnection
    assert TextMessage not in seen  # §3: nothing unsolicited the robot would not understand
    assert seen.count(Ping) == 2
