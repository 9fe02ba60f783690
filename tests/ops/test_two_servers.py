"""Two independent servers on one PostgreSQL database (not ``--workers``: two ``serve``s).

- A notification sent through either server reaches the robot whose socket the other holds,
  woken through ``LISTEN/NOTIFY`` (the latency is measured by ``python -m bench.soak
  notify-latency``, not asserted here).
- A server starting beside a running one leaves its sessions alone; kill -9 one and its
  robots' sessions are closed by the other once its lease lapses, while the other keeps
  serving.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import trio

from jibo_cloud import metrics
from tests.e2e.test_workers import add_robot, get_status, robot_token, wait_until
from tests.rest.support import ACCOUNT_ID, ROBOT_NAME, postgres_server_url, register_robot
from tests.storage.backends import fresh_schema
from tests.support import env
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer, serve_subprocess, start_server

LEASE_SECONDS = "1.5"


@pytest.fixture
async def schema_url() -> AsyncIterator[str]:
    async with fresh_schema(env.postgres_url()) as schema:
        yield postgres_server_url(schema)


@pytest.fixture
async def two_servers(
    nursery: trio.Nursery, tmp_path: Path, schema_url: str
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    async with AsyncExitStack():
        first = await start_server(nursery, tmp_path / "a", database_url=schema_url)
        second = await start_server(nursery, tmp_path / "b", database_url=schema_url)
        await register_robot(first)
        yield first, second
        first.stop()
        second.stop()


def wakeups() -> float:
    return metrics.WAKEUPS._value.get()


async def test_a_notification_through_either_server_reaches_the_robot(
    two_servers: tuple[RunningServer, RunningServer],
) -> None:
    for sender, holder in (two_servers, two_servers[::-1]):
        token = await robot_token(holder.port)
        async with open_robot_socket(holder.port, f"/{token}", host="api-socket.jibo.com") as ws:
            await wait_until(lambda h=holder: h.runtime.notifications.is_connected(ROBOT_NAME))
            # Its session is in the database: the sender sees the robot held elsewhere.
            with trio.fail_after(10):
                while not await sender.runtime.storage.account_connected(ACCOUNT_ID):  # noqa: ASYNC110 - a database poll
                    await trio.sleep(0.02)
            before = wakeups()
            message = {"type": "test", "n": sender.port}
            assert not await sender.runtime.notifications.notify(ROBOT_NAME, message)
            with trio.fail_after(5):
                received = json.loads(await ws.get_message())
            assert received == message
            assert wakeups() > before  # woken by NOTIFY, not found by the 1 s poll


async def test_kill_9_closes_only_that_servers_sessions_after_its_lease(
    tmp_path: Path, schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ["--database-url", schema_url]
    await trio.to_thread.run_sync(add_robot, ["--data-dir", str(tmp_path / "cli"), *store])
    monkeypatch.setenv("JIBO_INSTANCE_LEASE_SECONDS", LEASE_SECONDS)
    with serve_subprocess(["--data-dir", str(tmp_path / "a"), *store]) as (first, port_a):
        token = await robot_token(port_a)
        async with open_robot_socket(port_a, f"/{token}", host="api-socket.jibo.com"):
            deadline = time.monotonic() + 10
            while not await get_status(port_a):
                assert time.monotonic() < deadline
                await trio.sleep(0.05)
            with serve_subprocess(["--data-dir", str(tmp_path / "b"), *store]) as (_second, port_b):
                # Starting beside it, the second server left the first's session open.
                assert await get_status(port_b)
                await trio.sleep(float(LEASE_SECONDS) * 2)  # renewed: still open
                assert await get_status(port_b)
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
                started = time.monotonic()
                while await get_status(port_b):
                    assert time.monotonic() - started < 20, "the session stayed open"
                    await trio.sleep(0.1)
                # The survivor keeps serving robots.
                token_b = await robot_token(port_b)
                async with open_robot_socket(port_b, f"/{token_b}",
                                             host="api-socket.jibo.com"):  # fmt: skip
                    deadline = time.monotonic() + 10
                    while not await get_status(port_b):
                        assert time.monotonic() < deadline
                        await trio.sleep(0.05)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_b}") as http:
                    assert (await http.get("/healthcheck")).text == "ok"
