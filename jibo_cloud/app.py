"""The Quart-trio application: one port answering all three robot host names (PROTOCOL.md §1).

HTTP: ``GET /`` (the robot's connectivity probe) → 204, ``GET /healthcheck`` → ``ok``; the
REST services and uploads are registered by their own modules.

WebSockets are routed here, by ``Host`` and path, because Quart routes by path only:

- ``neo-hub.*`` hosts: only the exact hub paths; anything else is 404
  ``WebSocket url '<path>' has no handler`` (§4.1).
- ``api-socket.*`` hosts: ``/{robotToken}`` is the notification socket (§3).
- any other host (a bare IP, ``localhost``, a proxy that rewrote ``Host``): exact paths first,
  then a single path segment is taken as a robot token.

Before the prefixes, an operator's host mapping (``jibo-cloud host add``) for the exact host
name (any case, port ignored) wins: ``socket`` behaves like ``api-socket.*``, ``hub`` like
``neo-hub.*``, ``api`` like ``api.jibo.com`` (REST and the probe; every websocket path is the
§4.1 404). :class:`HostMap` keeps the mappings in memory; :meth:`HostMap.serve_refresh`
reloads them every :data:`HOST_REFRESH_SECONDS` for the server's lifetime.

A handler rejects an upgrade by raising :class:`HandshakeRejected`; the router answers it with
that HTTP status and the plain-text reason, before the upgrade is accepted.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import attrs
import trio
from quart import Response, websocket
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException
from werkzeug.routing import WebsocketMismatch

from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.hosts import HostMapping
from jibo_cloud.wsio import QuartSocket

log = logging.getLogger(__name__)

SocketHandler = Callable[[QuartSocket], Awaitable[None]]
HUB_HOST_PREFIX = "neo-hub."
NOTIFICATION_HOST_PREFIX = "api-socket."
#: The content type of AWS JSON errors (the same as ``rest.dispatch.CONTENT_TYPE``; app.py
#: cannot import the REST package, which imports this module).
AWS_JSON = "application/x-amz-json-1.1"


#: How often each server process reloads the host mappings: a mapping added or removed with
#: ``jibo-cloud host`` takes effect within this long, in every worker.
HOST_REFRESH_SECONDS = 30.0
#: Where :func:`create_app` leaves the app's :class:`HostMap` (see :func:`host_map`).
_HOSTS_EXTENSION = "jibo_cloud.hosts"


class HostTable(Protocol):
    """The one storage query the refresh needs (:class:`jibo_cloud.storage.Storage` has it)."""

    async def list_host_mappings(self) -> list[HostMapping]: ...


@attrs.define
class HostMap:
    """The operator's host mappings, in memory: host name (lower case, no port) → service.

    Routing reads it once per websocket upgrade with :meth:`service_for`, a dict lookup (and
    nothing at all while no host is mapped); only :meth:`serve_refresh` touches the storage.
    """

    services: dict[str, str] = attrs.field(factory=dict)

    def service_for(self, host: str) -> str | None:
        """The mapped service of a request's ``Host`` value, or None when it is not mapped."""
        services = self.services
        if not services:
            return None
        name = host.lower()
        if ":" in name and not name.endswith("]"):  # strip the port, not an IPv6 literal
            name = name.rpartition(":")[0]
        return services.get(name.removesuffix("."))

    def replace(self, mappings: Iterable[HostMapping]) -> None:
        """Swap in a new set in one assignment (readers never see a half-built dict)."""
        self.services = {m.host: m.service for m in mappings}

    async def refresh(self, table: HostTable) -> None:
        """Reload every mapping from ``table``; logs when the set changed."""
        before = self.services
        self.replace(await table.list_host_mappings())
        if self.services != before:
            log.info("host mappings loaded: %d host(s)", len(self.services))

    async def serve_refresh(
        self,
        table: HostTable,
        *,
        interval: float = HOST_REFRESH_SECONDS,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Load the mappings, report started, then reload them every ``interval`` seconds.

        Runs until cancelled (the server's nursery owns it). A failed first load raises (the
        storage was just opened, so that is a real fault); a failed later reload is logged
        and the mappings already loaded stay in force until the next one succeeds.
        """
        await self.refresh(table)
        task_status.started()
        while True:
            await trio.sleep(interval)
            try:
                await self.refresh(table)
            except StorageUnavailable:
                log.warning(
                    "host mappings not reloaded (storage unavailable); keeping %d",
                    len(self.services),
                )


def host_map(app: QuartTrio) -> HostMap:
    """The :class:`HostMap` :func:`create_app` built for ``app`` (its router reads it)."""
    hosts = app.extensions[_HOSTS_EXTENSION]
    assert isinstance(hosts, HostMap)
    return hosts


def _prefix_service(hostname: str) -> str | None:
    """The service the robot's own prefixes name (PROTOCOL.md §1); None: no prefix."""
    if hostname.startswith(NOTIFICATION_HOST_PREFIX):
        return "socket"
    if hostname.startswith(HUB_HOST_PREFIX):
        return "hub"
    return None


@attrs.define
class SocketRouter:
    """Exact websocket paths, plus the notification socket's ``/{robotToken}`` fallback."""

    exact: dict[str, SocketHandler] = attrs.field(factory=dict)
    token_handler: SocketHandler | None = None
    hosts: HostMap = attrs.field(factory=HostMap)

    def add(self, path: str, handler: SocketHandler) -> None:
        self.exact[path] = handler

    def resolve(self, host: str, path: str) -> SocketHandler:
        """Pick the handler for ``host`` and ``path``, or raise the §4.1 404.

        The host's service is its mapping if it has one, else its prefix; an unmapped host
        without a prefix is permissive (exact paths, then a token).
        """
        service = self.hosts.service_for(host) or _prefix_service(host.lower())
        single_segment = path.count("/") == 1 and len(path) > 1
        if service == "socket":
            if single_segment and self.token_handler is not None:
                return self.token_handler
        elif service == "hub":
            if path in self.exact:
                return self.exact[path]
        elif service is None:
            if path in self.exact:
                return self.exact[path]
            if single_segment and self.token_handler is not None:
                return self.token_handler
        # "api" (api.jibo.com's role) has no websocket at all.
        raise HandshakeRejected(404, f"WebSocket url '{path}' has no handler")


#: Modules that add routes: each has ``register(app, runtime, sockets)``. Issues add theirs.
ROUTE_MODULES: list[str] = [
    "jibo_cloud.hub.routes",
    "jibo_cloud.portal",
    "jibo_cloud.rest.routes",
]


def create_app(runtime: Runtime) -> QuartTrio:
    """Build the app for ``runtime``; dependencies are closed over, never global."""
    app = QuartTrio(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.config.max_upload_body
    sockets = SocketRouter()
    app.extensions[_HOSTS_EXTENSION] = sockets.hosts

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

    install_json_errors(app)
    for name in ROUTE_MODULES:
        importlib.import_module(name).register(app, runtime, sockets)
    return app


#: The AWS error code for each HTTP error Quart raises itself (unknown path, wrong method …).
_HTTP_ERROR_CODES = {
    400: "ValidationException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    408: "RequestTimeoutException",
    413: "RequestEntityTooLargeException",
}


def _json_error(code: str, message: str, status: int) -> Response:
    body = json.dumps({"__type": code, "message": message})
    return Response(body, status=status, content_type=AWS_JSON,
                    headers={"x-amzn-ErrorType": code})  # fmt: skip


def install_json_errors(app: QuartTrio) -> None:
    """Every error Quart answers itself is the AWS JSON shape (PROTOCOL.md §2.1), never HTML.

    Robots parse REST errors as ``{"__type", "message"}``; an HTML page from a 404, 405, 413
    or a bug is noise to them and tells a prober which framework runs here.
    """

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if isinstance(error, WebsocketMismatch):
            # An HTTP request on a path only the websocket catch-all route matches: for the
            # caller that path simply does not exist.
            status = 404
        if status >= 500:
            return _json_error("InternalFailure", "the server failed to process the request", 500)
        code = _HTTP_ERROR_CODES.get(status, "BadRequestException")
        message = "no such resource" if status == 404 else str(error.name or "bad request")
        answer = _json_error(code, message, status)
        if status == 405 and error.get_headers():  # keep Quart's Allow header
            for name, value in error.get_headers():
                if name.lower() == "allow":
                    answer.headers[name] = value
        return answer

    @app.errorhandler(Exception)
    async def internal_error(error: Exception) -> Response:
        log.error("request failed", exc_info=error)
        return _json_error("InternalFailure", "the server failed to process the request", 500)
