"""Register the hub's sockets: ``/v1/listen``, ``/listen``, ``/v1/proactive``, ``/proactive``.

Each handler checks the Bearer token *before* accepting the upgrade (§4.1): a failure raises
:class:`HandshakeRejected` and the router in :mod:`jibo_cloud.app` answers 401 with the
original plain-text reason. Then the trace headers are parsed into the logging context
(:func:`jibo_cloud.logs.trace_scope`) for every line the socket's tasks log, the upgrade is
accepted and :func:`jibo_cloud.hub.session.serve_socket` runs it.

HTTP requests get the same trace context from a ``before_request`` hook registered here.

One ``httpx.AsyncClient`` for cloud skills is opened when the app starts serving and closed
when it stops, together with remote parser and history clients if the runtime has them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import ExitStack, suppress
from typing import Any

import httpx
from quart import g, request
from quart_trio import QuartTrio

from jibo_cloud.hub.auth import TokenCache
from jibo_cloud.hub.clients import RemoteHistory, RemoteParser, new_client
from jibo_cloud.hub.listen import run_listen
from jibo_cloud.hub.proactive import run_proactive
from jibo_cloud.hub.session import HubSocket, serve_socket
from jibo_cloud.logs import TraceContext, trace_scope
from jibo_cloud.runtime import Runtime
from jibo_cloud.wsio import QuartSocket
from protocol.transaction import Identity

LISTEN_PATHS = ("/v1/listen", "/listen")
PROACTIVE_PATHS = ("/v1/proactive", "/proactive")


def register(app: QuartTrio, runtime: Runtime, sockets: Any) -> None:
    """Add the hub's socket handlers to ``sockets`` and its lifecycle hooks to ``app``."""
    clients: dict[str, httpx.AsyncClient] = {}
    tokens = TokenCache()

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
        runner: Callable[[Runtime, HubSocket, Identity, httpx.AsyncClient | None], Awaitable[None]],
    ) -> Callable[[QuartSocket], Awaitable[None]]:
        async def handle(sock: QuartSocket) -> None:
            token = tokens.authenticate(runtime.config, sock.headers, now_s=runtime.now_ms() / 1000)
            trace = TraceContext.from_headers(
                sock.headers, sock.peer, trust_forwarded=runtime.config.trust_forwarded
            )
            identity = Identity(
                account_id=token.account_id if token.authenticated else None,
                robot_id=token.robot_id if token.authenticated else None,
                remote_address=trace.client,
                anonymous_account_id=None if token.authenticated else token.account_id,
                anonymous_robot_id=None if token.authenticated else token.robot_id,
            )
            with trace_scope(trace):
                await sock.accept()

                async def transaction(hub: HubSocket) -> None:
                    await runner(runtime, hub, identity, clients.get("skills"))

                await serve_socket(
                    sock,
                    runtime.config,
                    runtime.shutting_down,
                    transaction,
                    now_ms=runtime.now_ms,
                )

        return handle

    async def listen(
        rt: Runtime, hub: HubSocket, identity: Identity, http: httpx.AsyncClient | None
    ) -> None:
        await run_listen(rt, hub, identity, http=http)

    async def proactive(
        rt: Runtime, hub: HubSocket, identity: Identity, http: httpx.AsyncClient | None
    ) -> None:
        await run_proactive(rt, hub, identity, http=http)

    for path in LISTEN_PATHS:
        sockets.add(path, hub_handler(listen))
    for path in PROACTIVE_PATHS:
        sockets.add(path, hub_handler(proactive))
