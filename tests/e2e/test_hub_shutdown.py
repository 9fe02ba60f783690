"""On SIGTERM idle sockets close at once (1001), only a turn in flight gets
the grace period, and new connections are refused from the first moment.

Before the fix the server closed idle hub sockets with 1001 at once but then waited the whole
grace period (hypercorn's ping task slept out its interval behind every closed socket), and
notification sockets were not closed at all until the grace ran out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from tests.support import hub_client as hc
from tests.support.server import TEST_SECRET, serve_subprocess, start_server

IDLE = 200


async def _hold_until_closed(url: str, opened: list[int], codes: list[int | None]) -> None:
    async with open_websocket_url(url) as ws:
        opened.append(1)
        try:
            await ws.get_message()
        except ConnectionClosed as closed:
            codes.append(closed.reason.code)


async def _read_until_closed(robot: hc.HubRobot) -> None:
    while True:
        await robot.ws.get_message()


async def test_idle_hub_sockets_do_not_hold_a_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIBO_DISABLE_AUTH", "true")  # 200 sockets of one robot, no caps
    monkeypatch.setenv("JIBO_HANDSHAKES_PER_ADDRESS", "100000")  # all from 127.0.0.1
    with serve_subprocess(["--data-dir", str(tmp_path)]) as (proc, port):
        opened: list[int] = []
        codes: list[int | None] = []
        async with trio.open_nursery() as nursery:
            for _ in range(IDLE):
                nursery.start_soon(_hold_until_closed, f"ws://127.0.0.1:{port}/v1/listen", opened,
                                   codes)  # fmt: skip
            with trio.fail_after(30):
                while len(opened) < IDLE:  # noqa: ASYNC110 - counting 200 clients
                    await trio.sleep(0.05)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            await trio.to_thread.run_sync(proc.wait, 10)
            took = time.monotonic() - started
        assert codes == [1001] * IDLE
        # Was 10.5 s: idle sockets held the whole 10 s grace period; under 1 s on a quiet
        # machine (docs/hub.md). A real-time bound here only has to tell "not held for the
        # grace" from "held", so it stays far from that figure and does not flake on a loaded
        # machine (a clean CI-style run under load once took 1.006 s).
        assert took < 5.0, took


async def test_only_the_turn_in_flight_gets_the_grace(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", grace_seconds=4.0)
    token = hc.hub_token(server.config)
    hub = server.runtime
    async with (
        hc.open_hub(server.port, token=token) as busy,
        hc.open_hub(server.port, token=token) as idle,
    ):
        await busy.send(hc.listen("CLIENT_NLU"))  # a turn in flight (waits for more frames)
        await trio.sleep(0.2)
        started = trio.current_time()
        server.stop()
        with trio.fail_after(1):
            with pytest.raises(ConnectionClosed) as idle_closed:
                await idle.ws.get_message()
        assert idle_closed.value.reason.code == 1001
        assert trio.current_time() - started < 0.5
        # New sockets are refused from the first moment.
        with pytest.raises((ConnectionRejected, OSError)):
            async with hc.open_hub(server.port, token=token):
                pass
        # The busy one is still open: its turn gets the grace (0.8 * grace_seconds).
        assert not busy.ws.closed
        with trio.fail_after(5), pytest.raises(ConnectionClosed) as busy_closed:
            await _read_until_closed(busy)
        assert busy_closed.value.reason.code == 1001
        assert trio.current_time() - started > 2.0
    assert hub.shutting_down.is_set()


def _cli(*args: str) -> str:
    env = {**os.environ, "JIBO_TOKEN_SECRET": TEST_SECRET}
    return subprocess.run([sys.executable, "-m", "jibo_cloud", *args], env=env, check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


async def _refused(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return True
    await stream.aclose()
    return False


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_new_connections_are_refused_while_a_turn_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    data = ["--data-dir", str(tmp_path)]
    _cli("robot", "add", "--name", "Test-Robot-Name", "--serial", "BOJW-1000-0000-0000-0007",
         "--robot-id", "5f1d2c3b4a5968778695a4b7", "--owner", "o@example.com", *data)  # fmt: skip
    token = _cli("token", "--robot", "Test-Robot-Name", *data).strip()
    monkeypatch.setenv("JIBO_GRACE_SECONDS", "6")
    with serve_subprocess([*data, "--workers", workers]) as (proc, port):
        async with hc.open_hub(port, token=token) as busy:
            await busy.send(hc.listen("CLIENT_NLU"))  # a turn in flight holds the process
            await trio.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            with trio.fail_after(3):
                while not await _refused(port):  # noqa: ASYNC110 - polling another process
                    await trio.sleep(0.05)
            assert proc.poll() is None  # refused while the turn still runs, not after exit
        await trio.to_thread.run_sync(proc.wait, 20)
