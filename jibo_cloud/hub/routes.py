"""Register the hub's sockets: ``/v1/listen``, ``/listen``, ``/v1/proactive``, ``/proactive``.

Each handler checks the Bearer token *before* accepting the upgrade (§4.1): a failure raises
:class:`HandshakeRejected` and the edge (:mod:`jibo_cloud.edge.websocket`) answers 401 with
the original plain-text reason. Then the trace headers are parsed into the logging context
(:func:`jibo_cloud.logs.trace_scope`) for every line the socket's tasks log, the upgrade is
accepted and :func:`jibo_cloud.hub.session.serve_socket` runs it.

Before the upgrade too: a server shutting down refuses new sockets (503); the token's robot
and key pair must still exist (:meth:`TokenCache.admit`), all within
``config.handshake_timeout`` (503 when the storage is too slow); and a token or robot already
holding ``config.max_sockets_per_token`` / ``max_sockets_per_robot`` open sockets is refused
with 429 (3,000 sockets were once opened on one token). Anonymous sockets
(``JIBO_DISABLE_AUTH``) are not counted.

HTTP requests get the same trace context from a ``before_request`` hook registered here.

Each path is a websocket the server's edge serves itself (:mod:`jibo_cloud.edge.websocket`:
no ASGI, no Quart), routed by the server's router (:mod:`jibo_cloud.router`), from one
shared state (:class:`HubRoutes`).

One ``httpx.AsyncClient`` for cloud skills is opened when the app starts serving and closed
when it stops, together with remote parser and history clients if the runtime has them.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from contextlib import ExitStack, suppress
from typing import Any

import attrs
import httpx
import trio
from quart import g, request
from quart_trio import QuartTrio

from jibo_cloud.access import note_principal
from jibo_cloud.diagnostics import note_hub_admitted, note_hub_refusal
from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hub.auth import TokenCache
from jibo_cloud.hub.clients import RemoteHistory, RemoteParser, new_client
from jibo_cloud.hub.listen import run_listen
from jibo_cloud.hub.proactive import run_proactive
from jibo_cloud.hub.session import HubSocket, serve_socket
from jibo_cloud.logs import TraceContext, trace_scope
from jibo_cloud.router import HostKind, Router
from jibo_cloud.runtime import Runtime
from jibo_cloud.tokens import HubIdentity
from protocol.transaction import Identity

LISTEN_PATHS = ("/v1/listen", "/listen")
PROACTIVE_PATHS = ("/v1/proactive", "/proactive")
#: Where :func:`register` leaves the socket handlers (``app.extensions``).
SOCKET_EXTENSION = "jibo_cloud.hub.socket_handlers"
#: The host kinds the hub's paths answer on (PROTOCOL.md §1: ``neo-hub.*``, or unprefixed).
HUB_HOSTS = (HostKind.HUB, HostKind.ANY)

Runner = Callable[
    [Runtime, HubSocket, trio.Nursery, Identity, httpx.AsyncClient | None], Awaitable[None]
]


class SocketCounts:
    """Open hub sockets per token (its sha-256, never the token) and per robot."""

    def __init__(self) -> None:
        self.per_token: collections.Counter[str] = collections.Counter()
        self.per_robot: collections.Counter[str] = collections.Counter()

    def take(
        self, runtime: Runtime, authorization: str, identity: HubIdentity
    ) -> tuple[str, str] | None:
        """Count one socket; give the result to :meth:`give_back` when it ends (None for
        anonymous sockets, which are not counted).

        Raises:
            HandshakeRejected: 429 when the token's or the robot's cap is reached.
        """
        if not identity.authenticated:
            return None
        config = runtime.config
        token = hashlib.sha256(authorization.encode()).hexdigest()
        robot = f"{identity.account_id}/{identity.robot_id or identity.access_key_id}"
        if self.per_token[token] >= config.max_sockets_per_token:
            raise HandshakeRejected(429, "Too many sockets for this token")
        if self.per_robot[robot] >= config.max_sockets_per_robot:
            raise HandshakeRejected(429, "Too many sockets for this robot")
        self.per_token[token] += 1
        self.per_robot[robot] += 1
        return token, robot

    def give_back(self, held: tuple[str, str] | None) -> None:
        if held is None:
            return
        for counter, name in zip((self.per_token, self.per_robot), held, strict=True):
            counter[name] -= 1
            if counter[name] <= 0:
                del counter[name]


@attrs.define(eq=False)
class HubRoutes:
    """What every hub socket of one app shares: the runtime, the token cache, the socket
    counts and the skills' HTTP client (opened while the app serves)."""

    runtime: Runtime
    tokens: TokenCache = attrs.field(factory=TokenCache)
    counts: SocketCounts = attrs.field(factory=SocketCounts)
    http: httpx.AsyncClient | None = None

    async def admit(self, sock: Any) -> HubIdentity:
        """The checks before the upgrade (module docstring); the storage is asked only when
        the cache cannot answer, within ``config.handshake_timeout``.

        Raises:
            HandshakeRejected: the refusal to answer.
        """
        runtime = self.runtime
        if runtime.shutting_down.is_set():
            raise HandshakeRejected(503, "Service Unavailable")
        now_s = runtime.now_ms() / 1000
        try:
            token = self.tokens.admit_cached(runtime.config, sock.headers, now_s=now_s)
            if token is None:
                with trio.fail_after(runtime.config.handshake_timeout):
                    token = await self.tokens.admit(
                        runtime.config, runtime.storage, sock.headers, now_s=now_s
                    )
        except trio.TooSlowError:
            raise HandshakeRejected(503, "Service Unavailable") from None
        except HandshakeRejected as rejected:  # for jibo-cloud doctor
            note_hub_refusal(runtime, sock.path, sock.headers, rejected.status, rejected.reason)
            raise
        return token

    def handler(self, runner: Runner) -> Callable[[Any], Awaitable[None]]:
        """The socket handler for one path: admission, the upgrade, then ``runner``."""
        runtime = self.runtime
        config = runtime.config

        async def handle(sock: Any) -> None:
            token = await self.admit(sock)
            trace = TraceContext.from_headers(
                sock.headers,
                sock.peer,
                trust_forwarded=config.trust_forwarded,
                trusted_proxies=config.trusted_proxies,
                kind="hub",
                target=sock.path,
                robot_fallback=token.robot_id or "",
            )
            if token.authenticated:
                note_principal(f"robot:{token.robot_id}")
                note_hub_admitted(runtime, token.robot_id, sock.path)
            identity = Identity(
                account_id=token.account_id if token.authenticated else None,
                robot_id=token.robot_id if token.authenticated else None,
                remote_address=trace.client,
                anonymous_account_id=None if token.authenticated else token.account_id,
                anonymous_robot_id=None if token.authenticated else token.robot_id,
            )
            held = self.counts.take(runtime, sock.headers.get("authorization", ""), token)
            try:
                with trace_scope(trace):
                    await sock.accept()

                    async def transaction(conn: HubSocket, nursery: trio.Nursery) -> None:
                        await runner(runtime, conn, nursery, identity, self.http)

                    await serve_socket(
                        sock,
                        config,
                        runtime.shutting_down,
                        transaction,
                        now_ms=runtime.now_ms,
                        kind="proactive" if sock.path.endswith("proactive") else "listen",
                    )
            finally:
                self.counts.give_back(held)

        return handle


async def _listen(
    rt: Runtime,
    conn: HubSocket,
    nursery: trio.Nursery,
    identity: Identity,
    http: httpx.AsyncClient | None,
) -> None:
    await run_listen(rt, conn, nursery, identity, http=http)


async def _proactive(
    rt: Runtime,
    conn: HubSocket,
    nursery: trio.Nursery,
    identity: Identity,
    http: httpx.AsyncClient | None,
) -> None:
    await run_proactive(rt, conn, nursery, identity, http=http)


def register(app: QuartTrio, runtime: Runtime, router: Router) -> None:
    """Route the hub's paths (hub and unprefixed hosts) to their socket handlers, which the
    edge serves itself, and add the hub's lifecycle hooks to ``app``. The handlers are also kept in
    ``app.extensions`` (:func:`hub_socket_handlers`)."""
    routes = HubRoutes(runtime)

    @app.before_serving
    async def open_clients() -> None:
        routes.http = new_client()

    @app.after_serving
    async def close_clients() -> None:
        http, routes.http = routes.http, None
        if http is not None:
            await http.aclose()
        for service in (runtime.parser, runtime.history):
            if isinstance(service, RemoteParser | RemoteHistory):  # only what the hub opened
                await service.aclose()

    @app.before_request
    async def enter_trace() -> None:
        trace = TraceContext.from_headers(
            {k.lower(): v for k, v in request.headers.items()},
            request.remote_addr,
            trust_forwarded=runtime.config.trust_forwarded,
            trusted_proxies=runtime.config.trusted_proxies,
        )
        stack = ExitStack()
        stack.enter_context(trace_scope(trace))
        g.jibo_trace_stack = stack

    @app.teardown_request
    async def leave_trace(_exc: BaseException | None) -> None:
        stack = g.pop("jibo_trace_stack", None)
        if stack is not None:
            # The context variable is reset in the same task; a different task just drops it.
            with suppress(ValueError):
                stack.close()

    handlers: dict[str, Callable[[Any], Awaitable[None]]] = {}
    for paths, runner in ((LISTEN_PATHS, _listen), (PROACTIVE_PATHS, _proactive)):
        handle = routes.handler(runner)
        for path in paths:
            handlers[path] = handle
            # Served by the edge itself (jibo_cloud/edge/websocket.py: no ASGI, no Quart):
            # a hub socket lives one turn (docs/hub.md "Where a turn's CPU goes").
            router.socket(HUB_HOSTS, path, handle, keep_alive=True)
    app.extensions[SOCKET_EXTENSION] = handlers


def hub_socket_handlers(app: QuartTrio) -> Mapping[str, Callable[[Any], Awaitable[None]]]:
    """The hub's paths' socket handlers, after :func:`register`: ``{"/v1/listen": handle,
    "/listen": …, "/v1/proactive": …, "/proactive": …}``, each taking an accept/receive/
    send/close socket (:class:`jibo_cloud.edge.websocket.WebSocket`'s surface). Each checks
    the token before accepting (a refusal raises ``HandshakeRejected``, §4.1). For the
    edge (through the router) and for in-process benches and tools that bring their own
    socket."""
    handlers: Mapping[str, Callable[[Any], Awaitable[None]]] = app.extensions[SOCKET_EXTENSION]
    return handlers
