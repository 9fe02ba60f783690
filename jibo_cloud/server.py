"""Run the app on our serve loop (:mod:`jibo_cloud.edge`, hypercorn's protocol classes), with
graceful shutdown.

:func:`serve` is what ``jibo-cloud serve`` runs and what end-to-end tests start with
``await nursery.start(serve, config)``: it reports the bound addresses through
``task_status`` once the socket accepts connections (port 0 gives an ephemeral port).

Shutdown (SIGTERM/SIGINT, or the ``shutdown_trigger`` a test passes):
:attr:`Runtime.shutting_down` is set and the serve loop closes the listening sockets at once (new
connections are refused; an upgrade already on its way is answered 503). Hub sockets with no
turn in flight and every notification socket close at once with 1001; only a hub turn in
flight gets the grace period (``0.8 * config.grace_seconds``, :mod:`jibo_cloud.hub.session`),
and after ``config.grace_seconds`` whatever is left is cancelled. So the process exits as soon
as no turn is in flight (200 idle hub sockets used to hold it the whole 10 s).
"""

from __future__ import annotations

import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import hypercorn.config
import trio

from jibo_cloud import access, logs
from jibo_cloud.app import create_app, host_map, router_of
from jibo_cloud.config import Config
from jibo_cloud.edge.connection import NativeSockets
from jibo_cloud.edge.serving import serve_app
from jibo_cloud.edge.websocket import SocketAccess
from jibo_cloud.errors import ConfigError, UpstreamError
from jibo_cloud.heap import freeze_startup_heap
from jibo_cloud.router import HOST_REFRESH_SECONDS
from jibo_cloud.runtime import Runtime, open_runtime
from jibo_cloud.storage import Storage
from jibo_cloud.storage.instances import serve_lease
from jibo_cloud.storage.pubsub import serve_wakeups
from jibo_cloud.tls.certs import server_cert_files
from jibo_cloud.tls.listen import TLSHypercornConfig, bind_tls, plan_tls

log = logging.getLogger(__name__)


async def wait_for_signal() -> None:
    """Return on the first SIGTERM or SIGINT (the default shutdown trigger)."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("received %s: shutting down gracefully", signal.Signals(signum).name)
            return


#: Where Linux keeps the ceiling on every listen queue (``listen()`` silently truncates to it).
SOMAXCONN_PATH = Path("/proc/sys/net/core/somaxconn")


def kernel_somaxconn(path: Path = SOMAXCONN_PATH) -> int | None:
    """The kernel's listen-queue ceiling, or None where it cannot be read (not Linux)."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@functools.cache
def listen_backlog(requested: int, somaxconn: int | None) -> int:
    """The backlog every listening socket gets: ``requested``, capped by ``somaxconn``.

    A reconnect storm (a fleet after a server restart) overflows hypercorn's default
    queue of 100: the kernel drops the SYNs and clients wait out a retransmission (1 s, 3 s…).
    The kernel would truncate a larger value silently, so the cap is said once, in the log,
    with what to change. Cached so the line appears once per process and value.
    """
    if somaxconn is not None and 0 < somaxconn < requested:
        log.warning(
            "listen backlog %d capped to %d by net.core.somaxconn; raise it"
            " (sysctl -w net.core.somaxconn=%d) for the full queue",
            requested,
            somaxconn,
            requested,
        )
        return somaxconn
    return requested


async def warn_open_doors(config: Config, storage: Storage) -> None:
    """Say loudly, once at start-up, which settings let a caller in without proof.

    ``pending`` records unknown SigV4 keys for approval; an approved ("adopted") key is
    accepted without its signature being verified, so anyone who learns its id can act as
    that robot. ``JIBO_TRUSTED_PROXIES`` without ``JIBO_TRUST_FORWARDED`` has no effect.
    """
    if config.unknown_sigv4_keys == "pending":
        log.warning(
            "unknown SigV4 keys are recorded for approval (JIBO_UNKNOWN_SIGV4_KEYS=pending); "
            "see 'jibo-cloud robot pending'"
        )
        if await storage.any_adopted_key():
            log.warning(
                "approved robot keys are accepted WITHOUT signature verification: anyone who "
                "learns such a key id can act as its robot; import the robot's own keys "
                "('jibo-cloud robot add --from-credentials') and deny the adopted ones "
                "(docs/security.md#adopting-a-robot-whose-keys-you-do-not-have)"
            )
    if config.trusted_proxies and not config.trust_forwarded:
        log.warning(
            "JIBO_TRUSTED_PROXIES is set but JIBO_TRUST_FORWARDED is not: X-Forwarded-For "
            "is ignored and every client is logged and rate-limited as its proxy"
        )


def hypercorn_config(config: Config) -> hypercorn.config.Config:
    hc = TLSHypercornConfig()  # our TLS settings on the TLS port (jibo_cloud/tls/listen.py)
    hc.bind = [f"{config.host}:{config.port}"]
    # A TLS handshake must complete within the handshake timeout too (a stalled one is dropped).
    hc.ssl_handshake_timeout = config.handshake_timeout
    hc.alpn_protocols = ["http/1.1"]
    hc.backlog = listen_backlog(config.backlog, kernel_somaxconn())
    # A connection must send a complete request head (an HTTP request or a websocket
    # upgrade) within the handshake timeout: a connection that stays
    # "idle" (no complete request yet, or between keep-alive requests) this long.
    hc.keep_alive_timeout = config.handshake_timeout
    hc.graceful_timeout = config.grace_seconds
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    # The hub enforces its own, smaller, per-kind caps (text vs binary) and closes 1009.
    hc.websocket_max_message_size = max(config.max_text_frame, config.max_binary_frame) + 1
    hc.max_app_queue_size = 64
    # hypercorn accepts no websocket here (the edge serves them, pinging from each socket's
    # reader every config.ping_interval seconds); no ping task in any case.
    hc.websocket_ping_interval = None
    return hc


def listen(config: Config) -> hypercorn.config.Sockets:
    """Bind and listen on ``config.host:config.port`` before anything else starts.

    Done up front (not inside hypercorn's serve loop) so a port in use or an address that
    is not ours is one clear line at start-up, and so the supervisor of ``--workers`` can
    hand the one listening socket to every worker.

    Raises:
        ConfigError: the address cannot be bound.
    """
    hc = hypercorn_config(config)
    hc.workers = config.workers  # >1: SO_REUSEPORT, as hypercorn's own multi-worker runner
    try:
        sockets = hc.create_sockets()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None
    for sock in sockets.insecure_sockets:
        sock.listen(hc.backlog)
    # The TLS port: decided and bound here too, so workers share it as well.
    try:
        tls_sockets, _ = bind_tls(config, plan_tls(config), hc.backlog)
    except ConfigError:
        for sock in sockets.insecure_sockets:
            sock.close()
        raise
    return hypercorn.config.Sockets(tls_sockets, sockets.insecure_sockets, [])


async def serve(
    config: Config,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]] | None = None,
    runtime_hook: Callable[[Runtime], None] | None = None,
    sockets: hypercorn.config.Sockets | None = None,
    instance_id: str | None = None,
    supervised: bool = False,
    host_refresh_seconds: float = HOST_REFRESH_SECONDS,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until the shutdown trigger returns.

    Args:
        config: the resolved configuration.
        shutdown_trigger: returns to start a graceful shutdown; default: SIGTERM/SIGINT.
        runtime_hook: called with the runtime before the app is built (tests swap services).
        sockets: already listening sockets to accept on (a worker of
            :mod:`jibo_cloud.workers`); default: bind ``config.host:config.port``.
        instance_id: this process's id among the workers (default: a fresh one).
        supervised: a worker of :mod:`jibo_cloud.workers`: the supervisor gives the start-up
            warnings once, not once per worker.
        host_refresh_seconds: how often the host mappings are reloaded (tests shorten it).
        task_status: receives the bound addresses, e.g. ``["http://127.0.0.1:54321"]``.
    """
    trigger = shutdown_trigger or wait_for_signal
    async with open_runtime(config, instance_id) as runtime:
        logs.set_instance(runtime.instance_id)
        if not supervised:
            await warn_open_doors(runtime.config, runtime.storage)
        if runtime_hook is not None:
            runtime_hook(runtime)
        app = create_app(runtime)

        async def shutdown() -> None:
            await trigger()
            runtime.shutting_down.set()

        hc = hypercorn_config(config)
        if sockets is None:
            sockets = listen(config)
        if sockets.secure_sockets:  # the TLS port: each connection handshakes with our context
            files = server_cert_files(config)
            if files is None:
                raise ConfigError("the TLS certificate disappeared after start-up")
            hc.certfile, hc.keyfile = str(files[0]), str(files[1])
        async with trio.open_nursery() as nursery:
            hub = runtime.notifications
            # This process's lease: registered (and lapsed servers' sessions closed, only
            # theirs) before the first socket; renewed until shutdown, then released.
            await nursery.start(
                functools.partial(
                    serve_lease,
                    runtime.storage,
                    runtime.instance_id,
                    runtime.now_ms,
                    lease_seconds=config.instance_lease_seconds,
                )
            )
            # Delivers what other processes queue (returns at once for one SQLite process).
            await nursery.start(hub.serve_polling)
            # PostgreSQL: woken by NOTIFY when another server queues for a robot held here.
            wake = functools.partial(hub.poll_once, "pubsub")
            await nursery.start(serve_wakeups, config, runtime.instance_id, wake)
            if config.metrics_port is not None:  # /metrics, /healthz, /readyz
                from jibo_cloud.operator_port import serve_operator_port  # only when asked

                await nursery.start(
                    serve_operator_port, runtime, config.metrics_port, config.metrics_host
                )
            # Notification sockets are idle by nature: closed with 1001 as shutdown starts.
            await nursery.start(hub.serve_shutdown)
            # Host mappings: loaded before the first connection, then every 30 s (app.py).
            await nursery.start(
                functools.partial(
                    host_map(app).serve_refresh, runtime.storage, interval=host_refresh_seconds
                )
            )
            # The robots' websockets are served by the edge itself (router.native_socket),
            # with the access middleware's limits and log line.
            middleware = app.extensions.get(access.EXTENSION)
            native = NativeSockets(
                router_of(app), SocketAccess(middleware) if middleware is not None else None
            )
            await serve_app(
                app, hc, sockets=sockets, shutdown_trigger=shutdown, native=native,
                task_status=task_status,
            )  # fmt: skip
            nursery.cancel_scope.cancel()


def bound_port(binds: list[str]) -> int:
    """The port of the first plain address (``http://127.0.0.1:54321`` → 54321)."""
    plain = [b for b in binds if b.startswith("http://")] or binds
    return int(plain[0].rsplit(":", 1)[1])


def tls_port(binds: list[str]) -> int | None:
    """The port of the TLS address (``https://…``), or None when TLS is off."""
    secure = [b for b in binds if b.startswith("https://")]
    return int(secure[0].rsplit(":", 1)[1]) if secure else None


async def warm_up_speech(recognizer: object) -> bool:
    """Start the recogniser's decoder workers and load their models now, while the server
    already accepts connections (``--warm-up``, the default): otherwise the first spoken turn
    pays for it (seconds with Whisper). A turn that arrives meanwhile waits for its worker.
    True when the recogniser was warmed up (False: nothing to start, or stopped by shutdown).
    """
    warm_up = getattr(recognizer, "warm_up", None)
    if warm_up is None:  # remote or no recogniser: nothing to start
        return False
    log.info("speech: warming up the recogniser in the background")
    started = trio.current_time()
    try:
        await warm_up()
    except UpstreamError as exc:  # shut down while starting
        log.info("speech: warm-up stopped: %s", exc.detail)
        return False
    log.info("speech: recogniser warmed up in %.1f s", trio.current_time() - started)
    return True


async def warm_up_then_freeze(recognizer: object) -> None:
    """:func:`warm_up_speech`, then the heap it grew is frozen too (:mod:`jibo_cloud.heap`):
    for ``jibo-cloud serve`` and its workers, which serve until they exit. Nothing warmed up,
    nothing new to freeze: no second full collection."""
    if await warm_up_speech(recognizer):
        freeze_startup_heap("speech warmed up")
