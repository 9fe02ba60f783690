"""``jibo-cloud capture --listen HOST:PORT --upstream URL --out DIR``: a recording proxy.

Point the robot (hosts file or DNS for api.jibo.com, api-socket.jibo.com, neo-hub.jibo.com)
at the proxy; it forwards HTTP and WebSocket traffic to the upstream cloud and writes scrubbed
flow files to DIR. Stop it with Ctrl-C; the files are complete after every exchange.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

import trio

from jibo_cloud.tools.capture import CaptureProxy, serve_capture
from jibo_cloud.tools.target import Target


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("capture", help="record robot ↔ cloud traffic as scrubbed flow files")
    p.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT", help="bind here")
    p.add_argument("--upstream", required=True, metavar="URL", help="the cloud to forward to")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="where flows go")
    p.add_argument(
        "--keep-audio",
        action="store_true",
        help="keep the robot's audio frames (household voices!) instead of their lengths",
    )
    p.add_argument("--certfile", help="TLS certificate for the proxy (robots speak HTTPS)")
    p.add_argument("--keyfile", help="TLS key for the proxy")
    p.add_argument(
        "--robot-hosts",
        action="store_true",
        help="present the robot's host names to an https:// upstream as the TLS server name",
    )
    p.add_argument(
        "--ca-file",
        metavar="PEM",
        help="trust only this CA for an https:// upstream (e.g. DATA_DIR/tls/ca.pem from"
        " 'jibo-cloud certs init'), as the robot trusts only its own store",
    )
    p.add_argument("--json", action="store_true", help="print events as JSON lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    upstream = Target.parse(args.upstream, robot_hosts=args.robot_hosts, ca_file=args.ca_file)

    def event(text: str) -> None:
        print(json.dumps({"event": text}) if args.json else text, flush=True)

    proxy = CaptureProxy(upstream, args.out, keep_audio=args.keep_audio, on_event=event)

    async def until_signal() -> None:
        # Ctrl-C (or SIGTERM) is how a capture ends: a graceful stop, exit status 0.
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                event("stopping: writing the last flows")
                return

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                lambda task_status: serve_capture(
                    proxy,
                    args.listen,
                    certfile=args.certfile,
                    keyfile=args.keyfile,
                    shutdown_trigger=until_signal,
                    task_status=task_status,
                )
            )
            event(f"capturing on {', '.join(binds)} → {upstream.base_url}, writing {args.out}")
            if args.keep_audio:
                event("WARNING: audio is kept; it may contain voices of the household")

    trio.run(main)
    return 0
