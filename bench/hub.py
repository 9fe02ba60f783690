"""Hub benchmark: N simulated robots, one socket per turn, CLIENT_NLU and CLIENT_ASR turns.

The server runs in a subprocess (``jibo-cloud serve`` on a free port, fresh data dir) so its
CPU time can be read from ``/proc/<pid>/stat`` before and after each run. The robots run here,
on raw sockets (:func:`run_robots`, the one load generator of the hub benches), as robots do:
open ``/v1/listen`` with a hub token, send LISTEN, the client message and CONTEXT, wait for
the final frame, close. Latency is LISTEN sent → final frame received.

Reported per N (1, 10, 100): turns/s, p50 and p99 latency, and server CPU ms per turn. The
client shares the machine, so on 2 cores the turns/s figure is a floor for the server alone.
Set ``JIBO_BENCH_SECONDS`` to change the measuring window (default 8 s per N).

The token names :data:`bench.server.ROBOT`, registered in the server's store (the
hub refuses any other), and the server runs with :data:`bench.server.BENCH_LIMITS` (100
robots on one token from one address would otherwise meet the socket caps and handshake
rate limits: the bench measures the turn path, not the limits).

Two baselines run the same robots against the bare stacks, to show where the time goes: a
quart-trio websocket answering three static frames, and a raw ASGI app on hypercorn (no
Quart) doing the same.

``python -m bench hub --profile`` runs :mod:`bench.hub_profile` instead: per turn, the tasks,
nurseries, cancel scopes and context switches the server makes and its CPU time, beside the
bare trio-websocket hub of :mod:`bench.bare_hub` answering the same frames, in one run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import trio

from bench import server
from jibo_cloud.tools.robot import client_nlu_data, envelope, listen_data

SECRET = server.SECRET
ROBOT_COUNTS = (1, 10, 100)
WINDOW_SECONDS = float(os.environ.get("JIBO_BENCH_SECONDS", "8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _frames(mode: str, n: int) -> list[str]:
    """One turn's robot frames (LISTEN, CLIENT_NLU or CLIENT_ASR, CONTEXT) as JSON text."""
    trans_id, ts = f"tid-bench-{n}", 1776303996941
    if mode == "CLIENT_NLU":
        client = ("CLIENT_NLU", client_nlu_data("menu", {"skill": "@be/clock"}, ["launch"]))
    else:
        client = ("CLIENT_ASR", {"text": "tell me a joke"})
    context = {
        "general": {"release": "1.9.2"},
        "runtime": {
            "perception": {"speaker": None, "peoplePresent": []},
            "loop": {"users": [{"firstName": "Alex", "id": "u1"}]},
        },
        "skill": {"id": None},
    }
    frames = [
        ("LISTEN", listen_data(mode, hotphrase=mode == "CLIENT_ASR"), "l"),
        (*client, "c"),
        ("CONTEXT", context, "x"),
    ]
    return [
        json.dumps(envelope(kind, data, trans_id=trans_id, msg_id=f"mid-{tag}{n}", ts=ts))
        for kind, data, tag in frames
    ]


# --------------------------------------------------------------------------- the robots
# One raw-socket load generator for every hub bench (``hub``, ``hub --profile``): it must cost
# far less than the servers it measures (a trio-websocket client saturates its core before a
# bare trio-websocket server does).


def _client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame with the all-zero mask key (legal; the payload stays as is)."""
    n = len(payload)
    head = (
        bytes([0x80 | opcode, 0x80 | n])
        if n < 126
        else bytes([0x80 | opcode, 0xFE, n >> 8, n & 255])
    )
    return head + b"\0\0\0\0" + payload


_CLOSE = _client_frame((1000).to_bytes(2, "big"), opcode=0x8)


def _server_frames(buf: bytearray) -> Iterator[tuple[int, bytes]]:
    """Complete (opcode, payload) frames at the start of ``buf`` (consumed); unmasked."""
    while len(buf) >= 2:
        n, at = buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                return
            n, at = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                return
            n, at = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < at + n:
            return
        yield buf[0] & 0x0F, bytes(buf[at : at + n])
        del buf[: at + n]


def _is_final(payload: bytes) -> bool:
    return b'"final":true' in payload or b'"final": true' in payload


async def _robot(
    port: int, token: str, mode: str, stop_at: float, lat: list[float], err: list[str]
) -> None:
    """One robot, one socket per turn (as robots do): upgrade ``/v1/listen`` with the token,
    send LISTEN, the client message and CONTEXT at once, read until the final frame, close.
    Latency: LISTEN sent → final frame received."""
    n = 0
    upgrade = (
        "GET /v1/listen HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    while trio.current_time() < stop_at:
        n += 1
        frames = b"".join(_client_frame(f.encode()) for f in _frames(mode, n))
        try:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
        except OSError as exc:
            err.append(f"connect: {exc}")
            continue
        try:
            await stream.send_all(upgrade)
            buf = bytearray()
            while b"\r\n\r\n" not in buf:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    raise ConnectionError("closed during the upgrade")
                buf += chunk
            head, _, rest = bytes(buf).partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
            buf = bytearray(rest)
            start = time.perf_counter()
            await stream.send_all(frames)
            final: Any = None
            while final is None:
                for opcode, payload in _server_frames(buf):
                    if opcode == 0x1 and _is_final(payload):
                        final = json.loads(payload)
                        break
                    if opcode == 0x8:
                        raise ConnectionError("closed before the final frame")
                if final is None:
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        raise ConnectionError("closed before the final frame")
                    buf += chunk
            lat.append(time.perf_counter() - start)
            if final.get("type") == "ERROR":
                err.append(str(final.get("data")))
            await stream.send_all(_CLOSE)
        except (OSError, ConnectionError, trio.BrokenResourceError) as exc:
            err.append(f"{type(exc).__name__}: {exc}")
        finally:
            await stream.aclose()


#: The robots' first turns are spread over this long (robot i starts at i/N of it). Started
#: in the same millisecond, 100 robots made one burst of 100 handshakes and turns whose
#: first turns waited ~30 ms for one another: ~80 turns of a 6 s window, the window's whole
#: p99, a transient of the load generator rather than of the load (docs/hub.md, round of
#: 2026-12-06 20:10). 0.2 s is about one turn cycle of 100 robots at 700 turns/s.
RAMP_SECONDS = 0.2


async def run_robots(
    port: int,
    token: str,
    robots: int,
    mode: str,
    seconds: float = WINDOW_SECONDS,
    *,
    ramp: float = RAMP_SECONDS,
) -> tuple[list[float], list[str], float]:
    """``robots`` robots doing ``mode`` turns for ``seconds``, their first turns spread over
    ``ramp`` seconds (:data:`RAMP_SECONDS`): (latencies in s, errors, elapsed s). Every
    turn counts, those of the ramp included."""
    latencies: list[float] = []
    errors: list[str] = []
    start = trio.current_time()

    async def staggered(delay: float) -> None:
        await trio.sleep(delay)
        await _robot(port, token, mode, start + seconds, latencies, errors)

    async with trio.open_nursery() as nursery:
        for i in range(robots):
            nursery.start_soon(staggered, ramp * i / robots)
    return latencies, errors, trio.current_time() - start


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _wait_ready(port: int) -> None:
    with trio.fail_after(30):
        while True:
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                await trio.sleep(0.1)
                continue
            await stream.aclose()
            return


def run(report: Any) -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        # The hub refuses a token whose robot is not registered; and the bench's
        # server gets BENCH_LIMITS (100 robots on one token from one address are the load
        # here, not an abuse to refuse: the bench measures the turn path, not the limits).
        server.add_robot(["--data-dir", tmp])
        # No recogniser warm-up: these turns never decode audio, and loading the speech
        # models in the background would land in the measured windows.
        env = server.bench_env(
            JIBO_TOKEN_SECRET=SECRET, JIBO_DATA_DIR=tmp, JIBO_ASR_WARM_UP="false"
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jibo_cloud",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "WARNING",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            trio.run(_wait_ready, port)
            token = server.hub_token(server.bench_config(tmp))
            for mode in ("CLIENT_NLU", "CLIENT_ASR"):
                trio.run(run_robots, port, token, 1, mode, 1.0)  # warm-up
                for robots in ROBOT_COUNTS:
                    cpu0 = server.cpu_seconds(proc.pid)
                    latencies, errors, elapsed = trio.run(run_robots, port, token, robots, mode)
                    cpu = server.cpu_seconds(proc.pid) - cpu0
                    turns = len(latencies)
                    tag = f"{mode} N={robots}"
                    report.add(
                        f"{tag} turns/s",
                        turns / elapsed,
                        "turns/s",
                        f"{turns} turns, {len(errors)} errors",
                    )
                    report.add(f"{tag} p50 latency", _pct(latencies, 0.5) * 1000, "ms")
                    report.add(f"{tag} p99 latency", _pct(latencies, 0.99) * 1000, "ms")
                    report.add(f"{tag} server CPU per turn", cpu * 1000 / max(turns, 1), "ms")
                    if errors:
                        print(
                            f"    first error: {errors[0]}  (median of all: "
                            f"{statistics.median(latencies) * 1000 if latencies else 0:.1f} ms)"
                        )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    run_memory(report)
    run_baseline(report)


# --------------------------------------------------------------------------- in process

#: Turns per mode for the in-process measurement (our code alone, no hypercorn, no Quart).
MEMORY_TURNS = int(os.environ.get("JIBO_BENCH_MEMORY_TURNS", "2000"))


class _MemorySocket:
    """The hub side of a socket over memory channels (the surface of the edge's
    ``jibo_cloud.edge.websocket.WebSocket``)."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.host = "neo-hub.jibo.com"
        self.path = "/v1/listen"
        self.peer: str | None = "127.0.0.1"
        self.to_hub, self.inbox = trio.open_memory_channel[str | bytes](8)
        self.to_robot, self.outbox = trio.open_memory_channel[str | bytes](8)

    async def accept(self) -> None:
        return None

    async def receive(self) -> str | bytes:
        return await self.inbox.receive()

    async def send(self, frame: str | bytes) -> None:
        await self.to_robot.send(frame)

    async def close(self, code: int, reason: str = "") -> None:
        return None


async def _memory_turns(mode: str, turns: int) -> tuple[float, int]:
    """Run ``turns`` turns through the hub's real handler over memory sockets.

    Everything a turn costs in our code runs: the token check (cached), the check that its
    robot is registered (cached too, as in the server), the trace context,
    ``serve_socket``, the listen driver, the machine, the codec, the embedded parser and the
    in-process skill for CLIENT_ASR. The robot "closes" after the final frame by cancelling
    the handler, as quart-trio does when the peer goes away. Returns (CPU seconds, errors).
    """
    from jibo_cloud.hub.history import MemoryHistory
    from jibo_cloud.hub.manifests import load_skills
    from jibo_cloud.nlu.parser import EmbeddedParser
    from jibo_cloud.runtime import Runtime
    from jibo_cloud.skills.registry import builtin_handlers
    from jibo_cloud.storage import connect_storage

    with tempfile.TemporaryDirectory() as tmp:
        config = server.bench_config(tmp)
        runtime = Runtime(config=config)
        runtime.parser = EmbeddedParser()
        runtime.skill_handlers.update(
            builtin_handlers(
                now_ms=runtime.now_ms, chat_url=None, default_time_zone=config.time_zone
            )
        )
        runtime.skills = load_skills([config.skills_dir])
        runtime.history = MemoryHistory(now_ms=runtime.now_ms)
        # The token check asks the storage whether the token's robot exists (at
        # most once per ROBOT_CHECK_SECONDS), so the runtime gets the embedded SQLite store
        # ``serve`` opens, with the robot registered as ``jibo-cloud robot add`` does.
        runtime.storage = await connect_storage(config)
        try:
            await server.register_robot(runtime.storage)
            return await _memory_loop(runtime, mode, turns)
        finally:
            with trio.move_on_after(5, shield=True):
                await runtime.storage.aclose()


async def _memory_loop(runtime: Any, mode: str, turns: int) -> tuple[float, int]:
    """The turns of :func:`_memory_turns`, on its runtime."""
    from jibo_cloud.hub.routes import hub_socket_handlers, register
    from jibo_cloud.router import Router

    token = server.hub_token(runtime.config)

    class _App:
        extensions: dict[str, Any] = {}

        def __getattr__(self, name: str) -> Any:
            return lambda fn: fn  # before_serving & co: not needed here

    app = _App()
    register(app, runtime, Router())  # type: ignore[arg-type]
    handle = hub_socket_handlers(app)["/v1/listen"]  # type: ignore[arg-type]
    headers = {"authorization": f"Bearer {token}", "host": "neo-hub.jibo.com"}
    errors = 0
    cpu0 = time.process_time()
    for n in range(turns):
        sock = _MemorySocket(headers)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(handle, sock)
            for frame in _frames(mode, n):
                await sock.to_hub.send(frame)
            while True:
                reply = json.loads(await sock.outbox.receive())
                if reply.get("final") is True:
                    break
            errors += reply["type"] == "ERROR"
            nursery.cancel_scope.cancel()
    return time.process_time() - cpu0, errors


def run_memory(report: Any) -> None:
    """Our share of a turn: the hub's handler over memory sockets, one turn at a time.

    Logging is set up as ``jibo-cloud serve --log-level WARNING`` sets it (the server bench's
    level), so the records our code makes cost what they cost there.
    """
    import logging

    from jibo_cloud.logs import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("WARNING")
    try:
        for mode in ("CLIENT_NLU", "CLIENT_ASR"):
            trio.run(_memory_turns, mode, 50)  # warm-up (imports, caches)
            cpu, errors = trio.run(_memory_turns, mode, MEMORY_TURNS)
            report.add(
                f"in-process hub {mode} CPU per turn",
                cpu * 1000 / MEMORY_TURNS,
                "ms",
                f"{MEMORY_TURNS} turns, {errors} errors",
            )
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


# --------------------------------------------------------------------------- baseline


def _baseline_main(port: int) -> None:
    """A bare quart-trio websocket on hypercorn answering every turn with three static
    frames: the floor this stack costs before the hub does any work."""
    import hypercorn.config
    import hypercorn.trio
    from quart import websocket
    from quart_trio import QuartTrio

    app = QuartTrio("baseline")
    sos = json.dumps(
        {"type": "SOS", "msgID": "m1", "ts": 1, "data": None, "timings": {"total": -1}}
    )
    eos = json.dumps(
        {"type": "EOS", "msgID": "m2", "ts": 1, "data": None, "timings": {"total": -1}}
    )
    reply = json.dumps(
        {
            "type": "LISTEN",
            "msgID": "m3",
            "ts": 1,
            "final": True,
            "data": {"asr": {"text": "", "confidence": 1}, "nlu": {}, "match": None},
        }
    )

    @app.websocket("/v1/listen")
    async def listen() -> None:
        await websocket.accept()
        await websocket.receive()
        await websocket.send(sos)
        await websocket.receive()
        await websocket.send(eos)
        await websocket.receive()
        await websocket.send(reply)
        while True:
            await websocket.receive()

    config = hypercorn.config.Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    trio.run(hypercorn.trio.serve, app, config)


def _raw_main(port: int) -> None:
    """A raw ASGI websocket app on hypercorn (no Quart): hypercorn's own share."""
    import hypercorn.config
    import hypercorn.trio

    replies = [
        json.dumps({"type": "SOS", "msgID": "m1", "ts": 1, "data": None, "timings": {"total": -1}}),
        json.dumps({"type": "EOS", "msgID": "m2", "ts": 1, "data": None, "timings": {"total": -1}}),
        json.dumps(
            {
                "type": "LISTEN",
                "msgID": "m3",
                "ts": 1,
                "final": True,
                "data": {"asr": {"text": "", "confidence": 1}, "nlu": {}, "match": None},
            }
        ),
    ]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        for reply in replies:
            if (await receive())["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": reply})
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = hypercorn.config.Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    trio.run(hypercorn.trio.serve, app, config)


def run_baseline(report: Any) -> None:
    """The same robots against the bare stacks (N=1 and N=10, CLIENT_NLU)."""
    for flag, name in (("--baseline", "quart-trio"), ("--raw", "raw ASGI hypercorn")):
        _run_one_baseline(report, flag, name)


def _run_one_baseline(report: Any, flag: str, name: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.hub", flag, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        trio.run(_wait_ready, port)
        trio.run(run_robots, port, "x", 1, "CLIENT_NLU", 1.0)
        for robots in (1, 10):
            cpu0 = server.cpu_seconds(proc.pid)
            latencies, errors, elapsed = trio.run(run_robots, port, "x", robots, "CLIENT_NLU")
            cpu = server.cpu_seconds(proc.pid) - cpu0
            turns = len(latencies)
            tag = f"baseline {name} N={robots}"
            report.add(f"{tag} turns/s", turns / elapsed, "turns/s", f"{len(errors)} errors")
            report.add(f"{tag} p50 latency", _pct(latencies, 0.5) * 1000, "ms")
            report.add(f"{tag} server CPU per turn", cpu * 1000 / max(turns, 1), "ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__" and sys.argv[1:2] == ["--baseline"]:
    _baseline_main(int(sys.argv[2]))
elif __name__ == "__main__" and sys.argv[1:2] == ["--raw"]:
    _raw_main(int(sys.argv[2]))
elif __name__ == "__main__" and sys.argv[1:2] == ["--memory"]:
    from bench.__main__ import Report

    run_memory(Report())
