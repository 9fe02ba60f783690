"""Register the hub's sockets: ``/v1/listen``, ``/listen``, ``/v1/proactive``, ``/proactive``.

Each handler checks the Bearer token *before* accepting the upgrade (§4.1): a failure raises
:class:`HandshakeRejected` and the router in :mod:`jibo_cloud.app` answers 401 with the
original plain-text reason. Then the trace headers are parsed into the logging context
(:func:`jibo_cloud.logs.trace_scope`) for every line the socket's tasks log, the upgrade is
accepted and :func:`jibo_cloud.hub.session.serve_socket` runs it.

Before the upgrade too: a server shutting down refuses new sockets (503); the token's robot
and key pair must still exist (:meth:`TokenCache.admit`), all within
``config.handshake_timeout`` (503 when the storage is too slow); and a token or robot already
holding ``config.max_sockets_per_token`` / ``max_sockets_per_robot`` open sockets is refused
with 429 (issue 17: 3,000 sockets were opened on one token). Anonymous sockets
(``JIBO_DISABLE_AUTH``) are not counted.

HTTP requests get the same trace context from a ``before_request`` hook registered here.

One ``httpx.AsyncClient`` for cloud skills is opened when the app starts serving and closed
when it stops, together with remote parser and history clients if the runtime has them.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

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
from jibo_cloud.runtime import Runtime
from jibo_cloud.tokens import HubIdentity
from jibo_cloud.wsio import QuartSocket
from protocol.transaction import Identity

LISTEN_PATHS = ("/v1/listen", "/listen")
PROACTIVE_PATHS = ("/v1/proactive", "/proactive")


class SocketCounts:
    """Open hub sockets per token (its sha-256, never the token) and per robot."""

    def __init__(self) -> None:
        self.per_token: collections.Counter[str] = collections.Counter()
        self.per_robot: collections.Counter[str] = collections.Counter()

    @contextmanager
    def hold(self, runtime: Runtime, authorization: str, identity: HubIdentity) -> Iterator[None]:
        """Count one socket for the block's duration.

        Raises:
            HandshakeRejected: 429 when the token's or the robot's cap is reached.
        """
        if not identity.authenticated:
            yield
            return
        config = runtime.config
        token = hashlib.sha256(authorization.encode()).hexdigest()
        robot = f"{identity.account_id}/{identity.robot_id or identity.access_key_id}"
        if self.per_token[token] >= config.max_sockets_per_token:
            raise HandshakeRejected(429, "Too many sockets for this token")
        if self.per_robot[robot] >= config.max_sockets_per_robot:
            raise HandshakeRejected(429, "Too many sockets for this robot")
        self.per_token[token] += 1
        self.per_robot[robot] += 1
        try:
            yield
        finally:
            for counter, name in ((self.per_token, token), (self.per_robot, robot)):
                counter[name] -= 1
                if counter[name] <= 0:
                    del counter[name]


def register(app: QuartTrio, runtime: Runtime, sockets: Any) -> None:
    """Add the hub's socket handlers to ``sockets`` and its lifecycle hooks to ``app``."""
    clients: dict[str, httpx.AsyncClient] = {}
    tokens = TokenCache()
    counts = SocketCounts()

    @app.before_serving
    async def open_clients() -> None:
        clients["skills"] = new_client()

    @app.after_serving
    async def close_clients() -> None:
        http = clients.pop("skills", None)
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

    def hub_handler(
        runner: Callable[
            [Runtime, HubSocket, trio.Nursery, Identity, httpx.AsyncClient | None], Awaitable[None]
        ],
    ) -> Callable[[QuartSocket], Awaitable[None]]:
        async def handle(sock: QuartSocket) -> None:
            if runtime.shutting_down.is_set():
                raise HandshakeRejected(503, "Service Unavailable")
            try:
                with trio.fail_after(runtime.config.handshake_timeout):
                    token = await tokens.admit(
                        runtime.config,
                        runtime.storage,
                        sock.headers,
                        now_s=runtime.now_ms() / 1000,
                    )
            except trio.TooSlowError:
                raise HandshakeRejected(503, "Service Unavailable") from None
            except HandshakeRejected as rejected:  # issue 14: for jibo-cloud doctor
                note_hub_refusal(runtime, sock.path, sock.headers, rejected.status, rejected.reason)
                raise
            trace = TraceContext.from_headers(
                sock.headers,
                sock.peer,
                trust_forwarded=runtime.config.trust_forwarded,
                trusted_proxies=runtime.config.trusted_proxies,
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
            with (
                counts.hold(runtime, sock.headers.get("authorization", ""), token),
                trace_scope(trace),
            ):
                await sock.accept()

                async def transaction(hub: HubSocket, nursery: trio.Nursery) -> None:
                    await runner(runtime, hub, nursery, identity, clients.get("skills"))

                await serve_socket(
                    sock,
                    runtime.config,
                    runtime.shutting_down,
                    transaction,
                    now_ms=runtime.now_ms,
                )

        return handle

    async def listen(
        rt: Runtime,
        hub: HubSocket,
        nursery: trio.Nursery,
        identity: Identity,
        http: httpx.AsyncClient | None,
    ) -> None:
        await run_listen(rt, hub, nursery, identity, http=http)

    async def proactive(
        rt: Runtime,
        hub: HubSocket,
        nursery: trio.Nursery,
        identity: Identity,
        http: httpx.AsyncClient | None,
    ) -> None:
        await run_proactive(rt, hub, nursery, identity, http=http)

    for path in LISTEN_PATHS:
        sockets.add(path, hub_handler(listen))
    for path in PROACTIVE_PATHS:
        sockets.add(path, hub_handler(proactive))
