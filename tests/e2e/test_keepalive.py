"""Keep-alive: the notification socket gets protocol-level pings (PROTOCOL.md §3).

A raw wsproto client is used because trio-websocket answers pings without showing them.
The server runs with a short ``ping_interval`` so the test waits a fraction of a second; the
assertion is that Ping frames arrive and nothing else does, not how fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage

from tests.rest.support import ROBOT_NAME, RestClient, register_robot
from tests.support.hub_client import client_nlu, context, hub_token, listen
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


async def test_a_hub_turn_is_not_pinged(nursery: trio.Nursery, tmp_path: Path) -> None:
    # hypercorn used to ping the moment a socket was accepted; a client closing at once then
    # raced it (trio-websocket failed answering the ping while closing). With the default
    # 30 s interval a seconds-long hub turn sees no ping at all.
    server = await start_server(nursery, tmp_path / "data")
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    ws = WSConnection(ConnectionType.CLIENT)
    headers = [(b"authorization", f"Bearer {hub_token(server.config)}".encode())]
    await stream.send_all(
        ws.send(Request(host="neo-hub.jibo.com", target="/v1/listen", extra_headers=headers))
    )
    seen: list[object] = []
    finals = 0
    with trio.fail_after(10):
        while finals == 0:
            ws.receive_data(await stream.receive_some(65536))
            for event in ws.events():
                seen.append(event)
                if isinstance(event, AcceptConnection):
                    for frame in (listen("CLIENT_NLU"), client_nlu("askForTime"), context()):
                        await stream.send_all(ws.send(TextMessage(json.dumps(frame))))
                elif isinstance(event, TextMessage) and json.loads(event.data).get("final"):
                    finals += 1
    await stream.aclose()
    server.stop()
    assert not any(isinstance(event, Ping) for event in seen)
