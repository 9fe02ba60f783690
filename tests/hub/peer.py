"""A real local HTTP server playing the hub's services (parser, skills, history, §5).

Tests start it with ``await nursery.start(serve_peer, peer)`` on an ephemeral port; ``peer``
says what to answer and records every request (method, path, headers, JSON body), so tests
assert on what the hub really sent over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import hypercorn.config
import hypercorn.trio
import trio
from quart import Response, request
from quart_trio import QuartTrio

#: (status, JSON body) or a callable of the request body returning one; a float delays it.
Answer = tuple[int, Any] | Callable[[Any], tuple[int, Any]]


@attrs.define
class Peer:
    routes: dict[str, Answer] = attrs.field(factory=dict)
    delay: dict[str, float] = attrs.field(factory=dict)
    requests: list[dict[str, Any]] = attrs.field(factory=list)
    port: int = 0
    arrived: trio.Event = attrs.field(factory=trio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seen(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    async def wait_for(self, path: str, count: int = 1) -> list[dict[str, Any]]:
        with trio.fail_after(10):
            while len(self.seen(path)) < count:
                await self.arrived.wait()
                self.arrived = trio.Event()
        return self.seen(path)


def _app(peer: Peer) -> QuartTrio:
    app = QuartTrio("peer")

    @app.route("/<path:path>", methods=["POST", "GET"])
    async def any_route(path: str) -> Response:
        raw = await request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        full = "/" + path
        peer.requests.append(
            {"method": request.method, "path": full, "headers": dict(request.headers), "json": body}
        )
        peer.arrived.set()
        if full in peer.delay:
            await trio.sleep(peer.delay[full])
        answer = peer.routes.get(full, (200, {}))
        status, payload = answer(body) if callable(answer) else answer
        return Response(json.dumps(payload), status=status, content_type="application/json")

    return app


async def serve_peer(
    peer: Peer, *, task_status: trio.TaskStatus[Peer] = trio.TASK_STATUS_IGNORED
) -> None:
    config = hypercorn.config.Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None

    async def started(binds: Any = None) -> None:
        pass

    class Status:
        def started(self, binds: list[str]) -> None:
            peer.port = int(binds[0].rsplit(":", 1)[1])
            task_status.started(peer)

    await hypercorn.trio.serve(_app(peer), config, task_status=Status())  # type: ignore[arg-type]
