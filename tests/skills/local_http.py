"""A tiny real HTTP/1.1 server for tests: stands in for an operator's OpenAI-compatible box.

Built on trio + h11 (already a dependency of the server stack). ``handler(request)`` returns
``(status, body_bytes)`` or awaits forever to simulate a hung service. Every request seen is
kept in ``LocalHttp.requests`` so tests can check what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import h11
import trio


@attrs.frozen
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[SeenRequest], Awaitable[tuple[int, bytes]]]


@attrs.define
class LocalHttp:
    port: int
    requests: list[SeenRequest] = attrs.field(factory=list)
    #: TCP connections accepted (fewer than requests when clients keep connections alive).
    connections: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _serve_one(stream: trio.SocketStream, handler: Handler, server: LocalHttp) -> None:
    """Serve one connection: requests one after another until the client closes it
    (HTTP/1.1 keep-alive, as real servers do; tests check that clients reuse it)."""
    server.connections += 1
    conn = h11.Connection(h11.SERVER)
    async with stream:
        while True:
            head: h11.Request | None = None
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await stream.receive_some(65536)
                    conn.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    head = event
                elif isinstance(event, h11.Data):
                    body += bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    return
            assert head is not None
            request = SeenRequest(
                method=head.method.decode(),
                path=head.target.decode(),
                headers={k.decode().lower(): v.decode() for k, v in head.headers},
                body=body,
            )
            server.requests.append(request)
            status, payload = await handler(request)
            headers = [("content-type", "application/json"), ("content-length", str(len(payload)))]
            await stream.send_all(
                conn.send(h11.Response(status_code=status, headers=headers)) or b""
            )
            await stream.send_all(conn.send(h11.Data(data=payload)) or b"")
            await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()


async def start_local_http(nursery: trio.Nursery, handler: Handler) -> LocalHttp:
    """Listen on an ephemeral 127.0.0.1 port inside ``nursery``; return once accepting."""
    server = LocalHttp(port=0)
    listeners = await nursery.start(trio.serve_tcp, lambda s: _serve_one(s, handler, server), 0)
    server.port = listeners[0].socket.getsockname()[1]
    return server


def json_reply(status: int, value: Any) -> tuple[int, bytes]:
    return status, json.dumps(value).encode()
