"""Nothing acknowledged is lost: kill -9 and database outages (the storage issue's promise).

- kill -9: the server runs as a subprocess (``python -m jibo_cloud serve --port 0``); writes
  the robot got a 200 for are read back after a restart on the same data directory/database.
- PostgreSQL outages: the server's sessions are terminated (``pg_terminate_backend``) and the
  server must carry on by itself; with the database unreachable (a local TCP relay the test
  stops) requests fail fast with a retryable 503 ``ServiceUnavailableException`` and succeed
  again once it is back, without a restart.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import trio

from jibo_cloud.storage.postgres import APPLICATION_NAME
from tests.rest.support import (
    LOOP_ID,
    ROBOT_NAME,
    SPEC,
    RestClient,
    postgres_server_url,
    register_robot,
    start_backend_server,
)
from tests.rest.test_errors import assert_aws_error
from tests.storage.backends import BACKENDS, fresh_schema
from tests.support import env
from tests.support.server import serve_subprocess


def store_args(backend: str, data_dir: Path, schema: str | None) -> list[str]:
    args = ["--data-dir", str(data_dir)]
    if backend == "postgres":
        assert schema is not None
        args += ["--database-url", postgres_server_url(schema)]
    return args


@asynccontextmanager
async def maybe_schema(backend: str) -> AsyncIterator[str | None]:
    if backend == "postgres":
        async with fresh_schema(env.postgres_url()) as schema:
            yield schema
    else:
        yield None


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_acknowledged_writes_survive_kill_9(backend: str, tmp_path: Path) -> None:
    from jibo_cloud.cli import main

    data_dir = tmp_path / "data"
    payload = {"SSID": "ExampleWifi", "platform": "12.10.0", "connectedAt": 1776279236031}
    image = os.urandom(20_000)
    async with maybe_schema(backend) as schema:
        args = store_args(backend, data_dir, schema)
        add = ["robot", "add", "--name", SPEC.name, "--serial", SPEC.serial,
               "--robot-id", SPEC.robot_id, "--owner", SPEC.owner_email,
               "--loop-id", LOOP_ID, "--access-key-id", str(SPEC.access_key_id),
               "--secret-access-key", str(SPEC.secret_access_key), *args]  # fmt: skip
        assert await trio.to_thread.run_sync(main, add) == 0
        operator = await trio.to_thread.run_sync(_add_operator_key, args)
        with serve_subprocess(args) as (proc, port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                client = RestClient(http)
                await client.ok(
                    "Robot_20160225.UpdateRobot", {"id": ROBOT_NAME, "payload": payload}
                )
                headers = {"x-loop-id": LOOP_ID, "x-path": "photo-1", "x-type": "image"}
                await client.ok("Media_20160725.Create", raw=image, headers=headers)
                created = await client.ok("Account_20151111.Create",
                                          {"email": "x@example.com", "password": "pw"},
                                          **operator)  # fmt: skip
            proc.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed
            proc.wait(timeout=10)
        with serve_subprocess(args) as (_proc, port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                client = RestClient(http)
                robot = await client.ok("Robot_20160225.GetRobot", {"id": ROBOT_NAME})
                (media,) = await client.ok("Media_20160725.List", {"loopIds": [LOOP_ID]})
                download = await client.get(media["url"])
                login = await client.ok("Account_20151111.Login",
                                        {"email": "x@example.com", "password": "pw"})  # fmt: skip
    assert robot["payload"] == payload
    assert download.content == image
    assert login["id"] == created["id"]


def _add_operator_key(store: list[str]) -> dict[str, str]:
    """An operator key in the store ``store`` names (creating accounts is the operator's)."""
    import argparse

    from jibo_cloud.commands import add_store_options, run_on_store
    from tests.rest.support import OPERATOR_KEY, OPERATOR_SECRET

    parser = argparse.ArgumentParser()
    add_store_options(parser)

    async def work(config: Any, storage: Any) -> None:
        from jibo_cloud.storage.principals import OperatorKey

        await storage.add_operator_key(OperatorKey(OPERATOR_KEY, OPERATOR_SECRET, 1, "tests"))

    run_on_store(parser.parse_args(store), work)
    return {"key": OPERATOR_KEY, "secret": OPERATOR_SECRET}


def terminate_our_sessions() -> int:
    with psycopg.connect(env.postgres_url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (APPLICATION_NAME,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
async def test_terminated_postgres_sessions_recover_by_themselves(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, "postgres", stack)
        await register_robot(server)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            client = RestClient(http)
            await client.ok("Loop_20160324.ListLoops", {})
            assert await trio.to_thread.run_sync(terminate_our_sessions) >= 1
            # The pool checks connections as they leave it: the dead one is replaced.
            loops = await client.ok("Loop_20160324.ListLoops", {})
            assert loops[0]["robotFriendlyId"] == ROBOT_NAME
        server.stop()


class Relay:
    """A TCP relay to PostgreSQL that the test can stop (an outage) and start again."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        self.port = 0
        self.scope: trio.CancelScope | None = None

    async def _pipe(self, src: trio.SocketStream, dst: trio.SocketStream) -> None:
        try:
            while data := await src.receive_some(65536):
                await dst.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    async def _handle(self, client: trio.SocketStream) -> None:
        try:
            upstream = await trio.open_tcp_stream("127.0.0.1", 5432)
        except OSError:
            await client.aclose()
            return
        async with client, upstream, trio.open_nursery() as n:
            n.start_soon(self._pipe, client, upstream)
            n.start_soon(self._pipe, upstream, client)

    async def _serve(self, task_status: trio.TaskStatus[int]) -> None:
        with trio.CancelScope() as scope:
            self.scope = scope
            listeners = await trio.open_tcp_listeners(self.port, host="127.0.0.1")
            self.port = listeners[0].socket.getsockname()[1]
            async with trio.open_nursery() as n:
                await n.start(trio.serve_listeners, self._handle, listeners)
                task_status.started(self.port)

    async def start(self) -> int:
        return await self.nursery.start(self._serve)  # type: ignore[no-any-return]

    def stop(self) -> None:
        assert self.scope is not None
        self.scope.cancel()  # closes the listener and every relayed connection


@pytest.mark.postgres
@pytest.mark.slow
async def test_database_down_fails_fast_then_recovers(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    base = env.postgres_url()
    relay = Relay(nursery)
    port = await relay.start()
    async with fresh_schema(base) as schema:
        url = postgres_server_url(schema).replace("127.0.0.1:5432", f"127.0.0.1:{port}")
        from tests.support.server import start_server

        server = await start_server(nursery, tmp_path / "data", database_url=url)
        await register_robot(server)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            client = RestClient(http)
            await client.ok("Loop_20160324.ListLoops", {})
            relay.stop()
            with trio.fail_after(15):  # fails fast: bounded by the pool timeout, never hangs
                down = await client.call("Loop_20160324.ListLoops", {})
            assert_aws_error(down, 503, "ServiceUnavailableException")
            await relay.start()  # same port: the database is back
            statuses = []
            with trio.fail_after(30):
                for _ in range(100):
                    response = await client.call("Loop_20160324.ListLoops", {})
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        break
                    await trio.sleep(0.2)
            assert statuses[-1] == 200, statuses
            assert set(statuses) <= {200, 503}
        server.stop()
