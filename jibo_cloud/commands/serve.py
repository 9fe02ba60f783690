"""``jibo-cloud serve``: run the server until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import functools
import logging
from pathlib import Path
from typing import Any

import trio

from jibo_cloud.commands import add_store_options
from jibo_cloud.config import (
    SECRET_FILE_NAME,
    Config,
    load_config,
    metrics_port_value,
    tls_port_value,
)
from jibo_cloud.heap import freeze_startup_heap
from jibo_cloud.logs import setup_logging
from jibo_cloud.runtime import Runtime
from jibo_cloud.server import listen, serve, warm_up_then_freeze
from jibo_cloud.tls.listen import tls_line
from jibo_cloud.workers import Supervisor

log = logging.getLogger("jibo_cloud.serve")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the server (REST, notification and hub sockets)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1, or $JIBO_HOST)")
    p.add_argument("--port", type=int, help="port to bind (default 8080, or $JIBO_PORT)")
    p.add_argument(
        "--workers",
        type=int,
        help="server processes sharing the port (default 1, or $JIBO_WORKERS); one per core",
    )
    p.add_argument(
        "--backlog",
        type=int,
        help="listen queue of every listening socket (default 4096, or $JIBO_BACKLOG);"
        " capped by net.core.somaxconn",
    )
    p.add_argument(
        "--tls-port",
        metavar="PORT|auto|off",
        help="HTTPS/WSS port beside the plain one (default auto: 443 when a certificate exists"
        " and the port can be bound, or $JIBO_TLS_PORT); docs/tls.md",
    )
    p.add_argument(
        "--certfile",
        metavar="PEM",
        help="server certificate chain (default $JIBO_TLS_CERTFILE, else 'certs init''s)",
    )
    p.add_argument("--keyfile", metavar="PEM", help="its private key ($JIBO_TLS_KEYFILE)")
    p.add_argument(
        "--metrics-port",
        metavar="PORT|off",
        help="operator port for /metrics, /healthz and /readyz (default off, or"
        " $JIBO_METRICS_PORT; with --workers, worker k uses PORT+k); docs/deployment.md",
    )
    p.add_argument(
        "--warm-up",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start the speech decoder workers and load their models (Whisper) at start-up, in"
        " the background (default on, or $JIBO_ASR_WARM_UP); --no-warm-up: with the first"
        " spoken turn",
    )
    add_store_options(p)
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    p.set_defaults(func=run)


def startup_lines(config: Config, binds: list[str]) -> list[str]:
    """What an operator needs to know at start-up, without printing any secret."""
    plain = [b for b in binds if b.startswith("http://")]
    url = plain[0] if plain else f"http://{config.host}:{config.port}"
    ws = url.replace("http://", "ws://", 1)
    store = "PostgreSQL" if config.uses_postgres else f"SQLite at {config.sqlite_path}"
    lines = [
        f"jibo-cloud listening on {url}",
        f"  REST: POST {url}/ (X-Amz-Target), hub: {ws}/v1/listen and {ws}/v1/proactive",
        f"  data directory: {config.data_dir}; store: {store}",
    ]
    if config.token_secret_source == "file":  # noqa: S105 - a label
        lines.append(
            f"  hub token secret: generated and kept in {config.data_dir / SECRET_FILE_NAME}"
        )
    else:
        lines.append("  hub token secret: from the environment")
    lines.append(
        f"  a hub token for a robot: jibo-cloud token --robot NAME --data-dir {config.data_dir}"
    )
    lines.append(tls_line(config, binds))
    return lines


#: RFC 7518 §3.2: an HS256 key should be at least as long as the hash (32 bytes).
MIN_SECRET_BYTES = 32


def weak_secrets(config: Config) -> list[str]:
    """Warnings for configured HS256 keys shorter than RFC 7518 asks (never the keys)."""
    problems = []
    if len(config.token_secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"the hub token secret is shorter than {MIN_SECRET_BYTES} bytes")
    problems.extend(
        f"hub token key {kid!r} is shorter than {MIN_SECRET_BYTES} bytes"
        for kid, key in config.token_keys.items()
        if len(key.encode()) < MIN_SECRET_BYTES
    )
    return problems


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.workers is not None:
        overrides["workers"] = args.workers
    if args.backlog is not None:
        overrides["backlog"] = args.backlog
    if args.tls_port is not None:
        overrides["tls_port"] = tls_port_value(args.tls_port)
    if args.certfile is not None:
        overrides["tls_certfile"] = Path(args.certfile)
    if args.keyfile is not None:
        overrides["tls_keyfile"] = Path(args.keyfile)
    if args.metrics_port is not None:
        overrides["metrics_port"] = metrics_port_value(args.metrics_port)
    if args.warm_up is not None:
        overrides["asr_warm_up"] = args.warm_up
    config = load_config(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        database_url=args.database_url,
        **overrides,
    )
    setup_logging(args.log_level)
    if config.disable_auth:
        log.warning("hub authentication is DISABLED (JIBO_DISABLE_AUTH): development only")
    for problem in weak_secrets(config):
        log.warning("%s", problem)
    if config.workers > 1:
        return run_workers(config, args.log_level)
    sockets = listen(config)
    runtimes: list[Runtime] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                functools.partial(serve, config, sockets=sockets, runtime_hook=runtimes.append)
            )
            for line in startup_lines(config, binds):
                print(line, flush=True)
            freeze_startup_heap("started")
            if config.asr_warm_up:
                nursery.start_soon(warm_up_then_freeze, runtimes[0].recognizer)
            else:
                log.info("speech: no warm-up; the recogniser starts with the first spoken turn")

    trio.run(main)
    return 0


def run_workers(config: Config, log_level: str) -> int:
    """``--workers N`` with N > 1: a supervisor and N worker processes (jibo_cloud.workers)."""
    supervisor = Supervisor(config, log_level)
    try:
        supervisor.start()
    except RuntimeError as exc:  # a worker could not start: its own log says why
        log.error("%s", exc)
        return 1
    for line in startup_lines(config, supervisor.binds):
        print(line, flush=True)
    print(f"  {config.workers} worker processes", flush=True)
    return supervisor.run()
