"""A reconnect storm: 4,000 hub sockets opened 200 at a time.

What a fleet does after a server restart. Before the configurable backlog the listen queue
was hypercorn's 100: the kernel dropped SYNs, clients waited out a retransmission (1 s, then
3 s), connect p99 was 4.5 s and some sockets were lost. Reported for jibo-cloud (``serve``,
one process, SQLite, a registered robot and a token from ``jibo-cloud token``) and, side by
side, for a bare trio-websocket hub (:mod:`bench.bare_hub`): connect time p50/p99 (TCP
connect until the ``101``), sockets lost (no ``101`` within :data:`SOCKET_TIMEOUT`), total
time, and the kernel's listen-overflow counter (``TcpExtListenOverflows``) during the run.
Medians of :data:`ROUNDS` runs, each on a fresh server. Loopback only; the open-files limit
is raised to the hard limit in this process (and inherited by the servers).

The per-token and per-robot socket caps and the per-address handshake rate limit would
refuse a storm from one address with one token by design, so they are raised for this
server, with every other limit (:data:`bench.server.BENCH_LIMITS`): the bench
measures the accept path, not the limits.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trio

from bench import server
from bench.sockets import raise_fd_limit
from tests.support.server import serve_subprocess

SOCKETS = 4_000
AT_ONCE = 200
ROUNDS = 3
#: A socket without its 101 this long after it started connecting counts as lost.
SOCKET_TIMEOUT = 15.0
UPGRADE = (
    "GET /v1/listen HTTP/1.1\r\nHost: neo-hub.jibo.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
)


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(table.get("ListenOverflows", 0))
    return 0


async def open_one(port: int, request: bytes, times: list[float], held: list[Any]) -> None:
    started = time.perf_counter()
    with trio.move_on_after(SOCKET_TIMEOUT):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        try:
            await stream.send_all(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    break
                data += chunk
        except (trio.BrokenResourceError, OSError):
            data = b""
        if data.startswith(b"HTTP/1.1 101"):
            times.append(time.perf_counter() - started)
            held.append(stream)
        else:
            await stream.aclose()


async def storm(port: int, token: str) -> dict[str, float]:
    request = UPGRADE.format(token=token).encode()
    times: list[float] = []
    held: list[Any] = []
    limiter = trio.CapacityLimiter(AT_ONCE)
    overflows = listen_overflows()

    async def one() -> None:
        async with limiter:
            await open_one(port, request, times, held)

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(SOCKETS):
            nursery.start_soon(one)
    total = time.perf_counter() - started
    overflowed = listen_overflows() - overflows
    for stream in held:
        with contextlib.suppress(Exception):
            await stream.aclose()
    times.sort()
    return {
        "p50": times[len(times) // 2] if times else float("nan"),
        "p99": times[int(len(times) * 0.99) - 1] if times else float("nan"),
        "lost": SOCKETS - len(times),
        "total": total,
        "overflows": overflowed,
    }


def hub_token(store_args: list[str]) -> str:
    env = {**os.environ, "JIBO_TOKEN_SECRET": server.SECRET}
    out = subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "token", "--robot", server.ROBOT["name"],
         *store_args], cwd=server.REPO, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip()


@contextlib.contextmanager
def bare_hub() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_hub", str(port)], cwd=server.REPO,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        if "listening" not in proc.stdout.readline():
            raise RuntimeError("the bare hub did not start")
        yield port
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _report(report: Any, name: str, runs: list[dict[str, float]]) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    note = f"median of {len(runs)}; {SOCKETS} sockets, {AT_ONCE} at a time"
    report.add(f"storm: {name} connect p50", med("p50") * 1000, "ms", note)
    report.add(f"storm: {name} connect p99", med("p99") * 1000, "ms", "goal <= 1000 ms")
    report.add(f"storm: {name} sockets lost", med("lost"), "sockets",
               f"max {max(r['lost'] for r in runs):g} over the runs")  # fmt: skip
    report.add(f"storm: {name} total time", med("total"), "s")
    report.add(f"storm: {name} listen overflows", med("overflows"), "drops",
               "kernel TcpExtListenOverflows during the run")  # fmt: skip


def run(report: Any) -> None:
    raise_fd_limit()
    ours: list[dict[str, float]] = []
    old: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    # The bench's servers take BENCH_LIMITS from this process's environment (see above).
    with server.limits_raised(), server.store("sqlite") as args:
        server.add_robot(args)
        token = hub_token(args)
        for _ in range(ROUNDS):
            with server.serve(args) as (_proc, port):
                ours.append(trio.run(storm, port, token))
            # The same server with hypercorn's old default queue, for the before/after.
            with serve_subprocess(["--log-level", "WARNING", "--backlog", "100", *args],
                                  secret=server.SECRET) as (_proc, port):  # fmt: skip
                old.append(trio.run(storm, port, token))
            with bare_hub() as port:
                bare.append(trio.run(storm, port, token))
    _report(report, "jibo-cloud", ours)
    _report(report, "jibo-cloud --backlog 100 (before)", old)
    _report(report, "bare trio-websocket", bare)
