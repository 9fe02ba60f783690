"""Server memory per idle notification socket, with 10,000 held at once (PROTOCOL.md §3).

The server runs in a subprocess; this process opens the sockets with a minimal raw
websocket handshake (no client library, so the client stays light) and holds them idle.
RSS is read from ``/proc/PID/status`` after a warm-up of 2,000 sockets (so code, SQLite page
caches and allocator arenas have reached their steady size) and again with all of them open;
the difference per additional socket is the cost of one idle notification socket. The total
RSS is reported too. ``ulimit -n`` is raised to the hard limit for both processes.

Every socket uses one robot's token, so the hub's per-robot bookkeeping is under-counted:
with distinct robots it costs ~90 B per socket, ~40 B more than here (docs/rest.md).
"""

from __future__ import annotations

import json
import resource
import statistics
from typing import Any

import trio

from bench import boot, server

SOCKETS = 10_000
#: Sockets opened before the first RSS reading: enough for caches (SQLite pages, allocator
#: arenas, thread stacks) to reach their steady size, so the slope is the per-socket cost.
WARMUP = 2_000
OPEN_AT_ONCE = 100
ROUNDS = 1
HANDSHAKE = (
    "GET /{token} HTTP/1.1\r\nHost: api-socket.jibo.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def robot_token(port: int) -> str:
    """A robot token from ``NewRobotToken``, signed like the robot signs it."""
    (request,) = [r for r in boot.raw_requests(boot.signed()) if b"NewRobotToken" in r]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        buf = bytearray()
        status, _ = await boot.read_response(stream, buf)
        assert status == 200, status
    # read_response dropped the body; ask again and keep it this time.
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(request)
        data = b""
        while b"}" not in data:
            data += await stream.receive_some(65536)
    return str(json.loads(data.split(b"\r\n\r\n", 1)[1])["token"])


async def open_socket(port: int, token: str, held: list[trio.SocketStream]) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(HANDSHAKE.format(token=token).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise ConnectionError("server closed during the handshake")
        data += chunk
    if not data.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(data.split(b"\r\n", 1)[0].decode())
    held.append(stream)


async def open_many(port: int, token: str, count: int, held: list[trio.SocketStream]) -> None:
    limiter = trio.CapacityLimiter(OPEN_AT_ONCE)

    async def one() -> None:
        async with limiter:
            await open_socket(port, token, held)

    async with trio.open_nursery() as nursery:
        for _ in range(count):
            nursery.start_soon(one)


async def measure(pid: int, port: int) -> tuple[float, int, int]:
    token = await robot_token(port)
    held: list[trio.SocketStream] = []
    try:
        await open_many(port, token, WARMUP, held)
        await trio.sleep(1)  # let the server settle (allocator, first pings)
        before = server.rss_kib(pid)
        await open_many(port, token, SOCKETS - WARMUP, held)
        await trio.sleep(2)
        after = server.rss_kib(pid)
    finally:
        for stream in held:
            await stream.aclose()
    return (after - before) / (SOCKETS - WARMUP), after, len(held)


def run(report: Any) -> None:
    raise_fd_limit()
    with server.store("sqlite") as args:
        server.add_robot(args)
        results = []
        for _ in range(ROUNDS):
            with server.serve(args) as (proc, port):
                results.append(trio.run(measure, proc.pid, port))
    per_socket = statistics.median(r[0] for r in results)
    _, total, held = results[-1]
    report.add("sockets: server RSS per idle notification socket", per_socket, "KiB",
               f"{held} held; goal <=25 KiB ({per_socket / 25:.2f}x of goal)")  # fmt: skip
    report.add("sockets: server RSS with all sockets open", total / 1024, "MiB")
