"""The Quart-trio application: one port answering all three robot host names (PROTOCOL.md §1).

HTTP: ``GET /`` (the robot's connectivity probe) → 204, ``GET /healthcheck`` → ``ok``; the
REST services and uploads are registered by their own modules.

WebSockets are routed here, by ``Host`` and path, because Quart routes by path only:

- ``neo-hub.*`` hosts: only the exact hub paths; anything else is 404
  ``WebSocket url '<path>' has no handler`` (§4.1).
- ``api-socket.*`` hosts: ``/{robotToken}`` is the notification socket (§3).
- any other host (a bare IP, ``localhost``, a proxy that rewrote ``Host``): exact paths first,
  then a single path segment is taken as a robot token.

A handler rejects an upgrade by raising :class:`HandshakeRejected`; the router answers it with
that HTTP status and the plain-text reason, before the upgrade is accepted.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable

import attrs
from quart import Response, websocket
from quart_trio import QuartTrio

from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.runtime import Runtime
from jibo_cloud.wsio import QuartSocket

log = logging.getLogger(__name__)

SocketHandler = Callable[[QuartSocket], Awaitable[None]]
HUB_HOST_PREFIX = "neo-hub."
NOTIFICATION_HOST_PREFIX = "api-socket."


@attrs.define
class SocketRouter:
    """Exact websocket paths, plus the notification socket's ``/{robotToken}`` fallback."""

    exact: dict[str, SocketHandler] = attrs.field(factory=dict)
    token_handler: SocketHandler | None = None

    def add(self, path: str, handler: SocketHandler) -> None:
        self.exact[path] = handler

    def resolve(self, host: str, path: str) -> SocketHandler:
        """Pick the handler for ``host`` and ``path``, or raise the §4.1 404."""
        hostname = host.lower()
        single_segment = path.count("/") == 1 and len(path) > 1
        if hostname.startswith(NOTIFICATION_HOST_PREFIX):
            if single_segment and self.token_handler is not None:
                return self.token_handler
        elif path in self.exact:
            return self.exact[path]
        elif (
            not hostname.startswith(HUB_HOST_PREFIX)
            and single_segment
            and self.token_handler is not None
        ):
            return self.token_handler
        raise HandshakeRejected(404, f"WebSocket url '{path}' has no handler")


#: Modules that add routes: each has ``register(app, runtime, sockets)``. Issues add theirs.
ROUTE_MODULES: list[str] = [
    "jibo_cloud.hub.routes",
    "jibo_cloud.rest.routes",
]


def create_app(runtime: Runtime) -> QuartTrio:
    """Build the app for ``runtime``; dependencies are closed over, never global."""
    app = QuartTrio(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.config.max_upload_body
    sockets = SocketRouter()

    @app.get("/healthcheck")
    async def healthcheck() -> Response:
        return Response("ok", status=200, content_type="text/plain")

    @app.get("/")
    async def probe() -> Response:
        # §1: the robot polls GET / about every 10 s; any failure shows "connection lost".
        return Response("", status=204)

    @app.websocket("/", defaults={"path": ""})
    @app.websocket("/<path:path>")
    async def any_socket(path: str) -> Response | None:
        # Quart's websocket global is a proxy: unwrap it once, here in the route (STYLE.md).
        current = websocket._get_current_object()  # type: ignore[attr-defined]
        sock = QuartSocket.wrap(current, "/" + path)
        try:
            handler = sockets.resolve(sock.host, sock.path)
            await handler(sock)
        except HandshakeRejected as rejected:
            # The path is not logged: on the notification socket it is the robot's token.
            log.info("socket refused: %s %s", rejected.status, rejected.reason)
            return Response(rejected.reason, status=rejected.status, content_type="text/plain")
        return None

    for name in ROUTE_MODULES:
        importlib.import_module(name).register(app, runtime, sockets)
    return app
