"""The one router: a table from (host kind, method, path) to an ASGI handler.

One port answers all three robot host names (PROTOCOL.md §1), so a request's **host kind**
decides as much as its path. The kind of a ``Host`` value is, in order: (1) its operator
mapping (``jibo-cloud host add``; exact host, any case, port stripped; :class:`HostMap`);
(2) its prefix: ``api-socket.*`` → :attr:`HostKind.SOCKET`, ``neo-hub.*`` →
:attr:`HostKind.HUB`; (3) else :attr:`HostKind.ANY` (a bare IP, ``localhost``, a proxy that
rewrote ``Host``), which is permissive.

The table (filled by the route modules, see :func:`jibo_cloud.app.create_app`):

========================  =============  =====================  ==============================
host kind                 method         path                   handler
========================  =============  =====================  ==============================
every host                POST           ``/``                  REST, by X-Amz-Target
every host                GET, HEAD      ``/``                  the probe: 204
socket, any               WEBSOCKET      ``/{robotToken}``      the notification socket (*)
hub, any                  WEBSOCKET      the hub paths          the hub's sockets (*)
========================  =============  =====================  ==============================

(*) Websockets the edge serves itself (:meth:`Router.socket`, :meth:`Router.native_socket`,
:mod:`jibo_cloud.edge.websocket`): the handler takes the socket, no ASGI. Such an upgrade
arriving through ASGI (after HTTP requests on a kept-alive connection: no robot does that) is
refused 400 :data:`REUSED_CONNECTION`.

A host mapped to the **portal** (``jibo-cloud host add NAME --service portal``) serves only
the owner's portal: ``GET /`` redirects to ``/portal/``, ``/portal…`` and ``/healthcheck`` go
to Quart, and every other path and every websocket is 404 (no REST, no robot sockets). With
:attr:`Router.portal_hosts_only` (``JIBO_PORTAL_HOSTS_ONLY``), ``/portal…`` is 404 on every
other host. While no host is mapped to the portal and the switch is off, none of this costs
a request anything.

``/{robotToken}`` (:data:`TOKEN_PATH`) matches any single path segment, after the exact
paths. A path in the table with another method is 405 (AWS JSON, with ``Allow``). Any other
HTTP request goes to the Quart app (``/healthcheck``, uploads and downloads, ``/portal/…``,
and Quart's own JSON 404s); any other websocket is refused before the upgrade with 404
``WebSocket url '<path>' has no handler`` (§4.1), as is every websocket on an ``api`` host.

Websocket handlers reject an upgrade by raising :class:`~jibo_cloud.errors.HandshakeRejected`,
answered with its status and plain-text reason. Keep-alive (a route's ``keep_alive``): the
socket pings from the task waiting in its ``receive``. Every websocket is the edge's: the
router answers none through ASGI but with a refusal (404, the portal's 404, or 400 for an
upgrade on a used connection), and Quart's websocket route never runs.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any, Protocol

import attrs
import trio

from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.storage.hosts import HostMapping

log = logging.getLogger("jibo_cloud.router")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIHandler = Callable[[Scope, Receive, Send], Awaitable[None]]
#: A websocket handler served by the edge: takes a socket with ``accept``/``receive``/
#: ``send``/``close`` and ``path``/``host``/``headers``/``peer``.
SocketHandler = Callable[[Any], Awaitable[None]]

#: The method of a websocket upgrade in the table.
WEBSOCKET = "WEBSOCKET"
#: A single path segment (``/{robotToken}``), matched after the exact paths.
TOKEN_PATH = "/{robotToken}"  # noqa: S105 - a path pattern
HUB_HOST_PREFIX = "neo-hub."
NOTIFICATION_HOST_PREFIX = "api-socket."
#: How often each server process reloads the host mappings: a mapping added or removed with
#: ``jibo-cloud host`` takes effect within this long, in every worker.
HOST_REFRESH_SECONDS = 30.0
_AWS_JSON = b"application/x-amz-json-1.1"
PORTAL_SERVICE = "portal"
PORTAL_PREFIX = "/portal"
#: Paths a portal host serves besides ``/portal…`` (``/`` redirects there).
_PORTAL_HOST_PATHS = frozenset({"/healthcheck"})
#: The refusal of an upgrade to a path the edge serves, arriving on a used connection.
REUSED_CONNECTION = "WebSocket upgrade must open its own connection"


class HostKind(enum.Enum):
    """What a host name is for (its mapping, else its prefix)."""

    #: ``api.jibo.com``'s role: REST and HTTP only; no websocket.
    API = "api"
    #: ``api-socket.*``: the notification socket.
    SOCKET = "socket"
    #: ``neo-hub.*``: the hub's sockets.
    HUB = "hub"
    #: Not mapped and no robot prefix: the exact paths, then the token socket.
    ANY = "any"
    #: Mapped to the owner's web portal: ``/portal`` only (see the module docstring).
    PORTAL = "portal"


ALL_KINDS = frozenset(HostKind)


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
    #: Is any host mapped to the portal? (Requests check host kinds only when one is.)
    has_portal: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self.has_portal = PORTAL_SERVICE in self.services.values()

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
        services = {m.host: m.service for m in mappings}
        self.services = services
        self.has_portal = PORTAL_SERVICE in services.values()

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


def host_kind(hosts: HostMap, host: str) -> HostKind:
    """The kind of a ``Host`` value: its mapping, else its prefix, else :attr:`HostKind.ANY`."""
    service = hosts.service_for(host)
    if service is not None:
        return HostKind(service)
    name = host.lower()
    if name.startswith(NOTIFICATION_HOST_PREFIX):
        return HostKind.SOCKET
    if name.startswith(HUB_HOST_PREFIX):
        return HostKind.HUB
    return HostKind.ANY


def scope_host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if bytes(name).lower() == b"host":
            return bytes(value).decode("latin-1")
    return ""


@attrs.frozen
class Route:
    """One handler of the table: an ASGI app, or a websocket the edge serves itself."""

    handler: ASGIHandler | None = None
    #: For a websocket: keep-alive Pings, sent by the task waiting in the socket's
    #: ``receive`` (False: none).
    keep_alive: bool = False
    #: A websocket the edge serves itself (:mod:`jibo_cloud.edge.websocket`): the handler
    #: takes the socket (``accept``/``receive``/``send``/``close``).
    socket: SocketHandler | None = None


@attrs.define(eq=False)
class Router:
    """The table, and the ASGI app that serves it (see the module docstring)."""

    hosts: HostMap = attrs.field(factory=HostMap)
    #: Seconds between keep-alive pings of websockets that get them (0: none).
    ping_interval: float = 0.0
    #: Where every HTTP request not in the table goes (the Quart app's own ASGI app).
    fallback: ASGIHandler | None = None
    #: (None: every host, or a host kind; method; path) → route.
    _routes: dict[tuple[HostKind | None, str, str], Route] = attrs.field(factory=dict)
    #: Methods with host-specific routes (only those lookups need the Host header).
    _by_kind_methods: set[str] = attrs.field(factory=set)
    #: Every-host HTTP paths and their methods (another method there is 405).
    _http_methods: dict[str, set[str]] = attrs.field(factory=dict)
    #: ``JIBO_PORTAL_HOSTS_ONLY``: ``/portal`` answers only on hosts mapped to the portal.
    portal_hosts_only: bool = False

    # -- filling the table ------------------------------------------------------------------

    def route(
        self, kinds: Iterable[HostKind] | None, method: str, path: str, handler: ASGIHandler
    ) -> None:
        """Serve the HTTP ``method path`` on hosts of ``kinds`` (None: every host) with the
        ASGI ``handler`` (websockets: :meth:`socket`)."""
        entry = Route(handler)
        if kinds is None:
            self._routes[None, method, path] = entry
            if method != WEBSOCKET:
                self._http_methods.setdefault(path, set()).add(method)
            return
        self._by_kind_methods.add(method)
        for kind in kinds:
            self._routes[kind, method, path] = entry

    def socket(
        self, kinds: Iterable[HostKind], path: str, handler: SocketHandler,
        *, keep_alive: bool = False,
    ) -> None:  # fmt: skip
        """A websocket the edge serves itself on hosts of ``kinds`` (no ASGI, no Quart:
        :mod:`jibo_cloud.edge.websocket`); ``handler`` gets the socket."""
        self._by_kind_methods.add(WEBSOCKET)
        entry = Route(keep_alive=keep_alive, socket=handler)
        for kind in kinds:
            self._routes[kind, WEBSOCKET, path] = entry

    # -- looking up -------------------------------------------------------------------------

    def resolve(self, host: str, method: str, path: str) -> Route | None:
        """The route for a request, or None (not in the table)."""
        routes = self._routes
        found = routes.get((None, method, path))
        if found is not None or method not in self._by_kind_methods:
            return found
        kind = host_kind(self.hosts, host)
        found = routes.get((kind, method, path))
        if found is None and path.count("/") == 1 and len(path) > 1:
            found = routes.get((kind, method, TOKEN_PATH))
        return found

    def native_socket(self, host: str, path: str) -> Route | None:
        """The route of a websocket upgrade the edge serves itself, or None (the request
        goes to the ASGI app: another socket, a 404, a portal host's refusal)."""
        found = self.resolve(host, WEBSOCKET, path)
        if found is None or found.socket is None:
            return None
        if self.hosts.has_portal and host_kind(self.hosts, host) is HostKind.PORTAL:
            return None  # a portal host serves no robot socket: the gate answers 404
        return found

    # -- serving ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        gated = self.hosts.has_portal or self.portal_hosts_only
        if gated and kind != "lifespan" and await self._portal_gate(scope, receive, send):
            return
        if kind == "http":
            method, path = scope["method"], scope["path"]
            found = self._routes.get((None, method, path))
            if found is None and method in self._by_kind_methods:
                found = self.resolve(scope_host(scope), method, path)
            if found is not None and found.handler is not None:
                await found.handler(scope, receive, send)
            elif path in self._http_methods:
                await _method_not_allowed(send, sorted(self._http_methods[path]))
            else:
                await self._fall_back(scope, receive, send)
        elif kind == "websocket":
            path = scope["path"]
            found = self.resolve(scope_host(scope), WEBSOCKET, path)
            if found is None:
                await receive()  # websocket.connect
                # The path is not logged: on the notification socket it is the robot's token.
                log.info("socket refused: 404 no handler")
                await refuse_upgrade(scope, send, HandshakeRejected(404, no_handler(path)))
            else:
                # The edge serves this path when the upgrade opens its connection; here it
                # came after HTTP requests on a kept-alive connection (no robot does that).
                await receive()  # websocket.connect
                log.info("socket refused: 400 upgrade on a used connection")
                await refuse_upgrade(scope, send, HandshakeRejected(400, REUSED_CONNECTION))
        else:  # lifespan
            await self._fall_back(scope, receive, send)

    def on_portal_host(self, scope: Scope) -> bool:
        """Is this request for a host mapped to the portal? (Blob routes, which sit in front
        of the router, ask so as not to serve one there.)"""
        return self.hosts.has_portal and host_kind(self.hosts, scope_host(scope)) is HostKind.PORTAL

    async def _portal_gate(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a request a portal host (or the portal-hosts-only switch) decides; False
        when the request goes on to the table as usual."""
        path = str(scope.get("path", ""))
        portal_path = path == PORTAL_PREFIX or path.startswith(PORTAL_PREFIX + "/")
        on_portal = self.on_portal_host(scope)
        if scope["type"] == "websocket":
            if not on_portal:
                return False
            await receive()  # websocket.connect
            await refuse_upgrade(scope, send, HandshakeRejected(404, no_handler(path)))
            return True
        if on_portal:
            if portal_path or path in _PORTAL_HOST_PATHS:
                await self._fall_back(scope, receive, send)
            elif path == "/" and scope.get("method") in ("GET", "HEAD"):
                await _plain(send, 302, b"", [(b"location", b"/portal/")])
            else:
                await _plain(send, 404, b"not found")
            return True
        if portal_path and self.portal_hosts_only:
            await _plain(send, 404, b"not found")
            return True
        return False

    async def _fall_back(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fallback is None:
            raise RuntimeError("the router has no fallback app (create_app sets Quart's)")
        await self.fallback(scope, receive, send)


def no_handler(path: str) -> str:
    """PROTOCOL.md §4.1's refusal text for a websocket path nobody serves."""
    return f"WebSocket url '{path}' has no handler"


async def refuse_upgrade(scope: Mapping[str, Any], send: Send, rejected: HandshakeRejected) -> None:
    """Refuse a websocket upgrade with the HTTP status and plain-text reason (ASGI
    ``websocket.http.response``; a server without it closes with 1008 before accepting)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = rejected.reason.encode()
    await send({
        "type": "websocket.http.response.start", "status": rejected.status,
        "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "websocket.http.response.body", "body": body})


async def _plain(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    sent = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
            *(headers or [])]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body})


async def _method_not_allowed(send: Send, allowed: list[str]) -> None:
    code = "MethodNotAllowedException"
    body = json.dumps({"__type": code, "message": "Method Not Allowed"}).encode()
    headers = [
        (b"content-type", _AWS_JSON),
        (b"x-amzn-errortype", code.encode()),
        (b"allow", ", ".join(allowed).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send({"type": "http.response.body", "body": body})
