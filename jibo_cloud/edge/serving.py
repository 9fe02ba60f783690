"""The serve loop: our copy of hypercorn's trio ``worker_serve`` (hypercorn 0.17/0.18,
``hypercorn/trio/run.py``) around our :class:`~.connection.Connection`.

What it does, in order: run the app's lifespan startup (Quart's ``before_serving``), wrap
the listening sockets (TLS ones in ``trio.SSLListener``; the handshake happens in the
connection, so a slow one holds no accept loop), report the bound addresses through
``task_status``, accept with trio's :func:`trio.serve_listeners` until the shutdown trigger
returns, then stop accepting, let connections finish within ``config.graceful_timeout``
(idle keep-alive connections close at once) and run the lifespan shutdown.

Differences from hypercorn's: the connection class; no QUIC/HTTP/3 listeners, statsd or
``max_requests`` (we configure none of them).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import hypercorn.config
import trio
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ASGIFramework, ConnectionState, LifespanState
from hypercorn.utils import repr_socket_addr

from jibo_cloud.edge.connection import Connection, NativeSockets, Stream
from jibo_cloud.edge.handshakes import HandshakeLog

log = logging.getLogger("jibo_cloud.edge")


class _Shutdown(Exception):
    """The shutdown trigger returned (ends the accept loops' nursery)."""


async def _raise_when(trigger: Callable[[], Awaitable[None]]) -> None:
    await trigger()
    raise _Shutdown


async def _serve_connection(
    app: ASGIFramework,
    config: hypercorn.config.Config,
    context: WorkerContext,
    state: ConnectionState,
    handshakes: HandshakeLog,
    native: NativeSockets | None,
    stream: Stream,
) -> None:
    await Connection(app, config, context, state, handshakes, stream, native).run()


async def serve_app(
    app: ASGIFramework,
    config: hypercorn.config.Config,
    *,
    sockets: hypercorn.config.Sockets,
    shutdown_trigger: Callable[[], Awaitable[None]],
    native: NativeSockets | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on ``sockets`` (already listening) until ``shutdown_trigger`` returns.

    Args:
        app: an ASGI 3 application.
        config: hypercorn's settings (timeouts, limits, TLS files through
            ``create_ssl_context``).
        sockets: the listening sockets (``secure_sockets`` get TLS).
        shutdown_trigger: returns to start a graceful shutdown.
        native: the websockets the connections serve themselves (the router's native
            routes, :mod:`.websocket`); None: every request goes to ``app``.
        task_status: receives the bound addresses (``http://…``, ``https://…``) once
            connections are accepted.
    """
    lifespan_state: LifespanState = {}
    lifespan = Lifespan(ASGIWrapper(app), config, lifespan_state)
    context = WorkerContext(None)
    handshakes = HandshakeLog()
    async with trio.open_nursery() as lifespan_nursery:
        await lifespan_nursery.start(lifespan.handle_lifespan)
        await lifespan.wait_for_startup()
        async with trio.open_nursery() as server_nursery:
            ssl_context = config.create_ssl_context() if sockets.secure_sockets else None
            listeners: list[trio.abc.Listener[Stream]] = []
            binds: list[str] = []
            for sock in sockets.secure_sockets:
                assert ssl_context is not None  # create_ssl_context has files for a TLS port
                plain = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
                listeners.append(trio.SSLListener(plain, ssl_context, https_compatible=True))
                binds.append(f"https://{repr_socket_addr(sock.family, sock.getsockname())}")
            for sock in sockets.insecure_sockets:
                listeners.append(trio.SocketListener(trio.socket.from_stdlib_socket(sock)))
                binds.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
            for bind in binds:
                log.info("accepting connections on %s", bind)
            handler = functools.partial(
                _serve_connection, app, config, context,
                ConnectionState(lifespan_state.copy()), handshakes, native,
            )  # fmt: skip
            task_status.started(binds)
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_raise_when, shutdown_trigger)
                    nursery.start_soon(
                        functools.partial(
                            trio.serve_listeners, handler, listeners, handler_nursery=server_nursery
                        )
                    )
            except BaseExceptionGroup as group:
                _, other = group.split((_Shutdown, KeyboardInterrupt))
                if other is not None:
                    raise other from None
            finally:
                # Idle keep-alive connections close now; the rest get the grace period.
                await context.terminated.set()
                if native is not None:
                    native.shut_down()
                server_nursery.cancel_scope.deadline = trio.current_time() + config.graceful_timeout
        await lifespan.wait_for_shutdown()
        lifespan_nursery.cancel_scope.cancel()
