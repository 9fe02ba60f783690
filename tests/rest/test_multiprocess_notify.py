"""Two server processes on one storage, in one test process: two Runtimes (own instance ids,
own storage connections) and two NotificationHubs, each holding its robots' sockets, driven
through the hub's real socket entry point (``serve_socket``) over memory channels. SQLite and
PostgreSQL.

Time: the poll is timed on a virtual clock that only jumps when nothing, not even a database
worker thread, has run for :data:`IDLE_REAL_SECONDS` (``autojump_clock`` would jump while a
query is still running in its thread).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from trio.testing import MockClock

from jibo_cloud.errors import RobotClosed, StorageUnavailable, UpstreamError
from jibo_cloud.hub.history import StorageHistory
from jibo_cloud.notify import MAX_QUEUED, NOTIFY_POLL_SECONDS, NotificationHub, hash_token
from jibo_cloud.rest.context import Call, Caller
from jibo_cloud.rest.models import load_models
from jibo_cloud.rest.services.notification import handlers
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Storage, open_storage
from jibo_cloud.storage.records import RobotToken
from tests.e2e.test_durability import Relay
from tests.storage.backends import BACKENDS, fresh_schema
from tests.storage.test_storage import OWNER, ROBOT, provision
from tests.support import env
from tests.support.server import test_config as make_config

#: Long enough for any single database call under load (the suite shares 2 cores).
IDLE_REAL_SECONDS = 0.25
TOKEN = "robot-token-for-the-multiprocess-tests"


@pytest.fixture
def patient_clock() -> MockClock:
    return MockClock(autojump_threshold=IDLE_REAL_SECONDS)


@attrs.define
class Process:
    """One "server process": its runtime (own storage connections) and notification hub."""

    runtime: Runtime
    hub: NotificationHub

    async def get_status(self, account_id: str) -> Any:
        op = load_models().find("Notification_20150505.GetStatus")
        assert op is not None
        call = Call(
            op=op, body={"accountId": account_id}, raw=b"", headers={},
            caller=Caller(kind="robot", account_id=account_id),
            base_url="https://api.jibo.com", now_ms=self.runtime.now_ms(),
        )  # fmt: skip
        return await handlers(self.hub)["Notification_20150505.GetStatus"](self.runtime, call)


class _ServerSocket:
    """The server's end of one notification socket over memory channels (the surface of the
    edge's websocket that :func:`jibo_cloud.notify.transport.serve_socket` uses)."""

    def __init__(self) -> None:
        self.path = f"/{TOKEN}"
        self.to_server, self.inbox = trio.open_memory_channel[str | None](10)
        self.outbox, self.from_server = trio.open_memory_channel[str | int](1000)
        self.accepted = trio.Event()

    async def accept(self) -> None:
        self.accepted.set()

    async def receive(self) -> str | bytes:
        frame = await self.inbox.receive()
        if frame is None:
            raise RobotClosed("robot closed first")
        return frame

    async def send(self, frame: str | bytes) -> None:
        assert isinstance(frame, str)
        await self.outbox.send(frame)

    async def close(self, code: int, reason: str = "") -> None:
        await self.outbox.send(code)


@attrs.define
class RobotSocket:
    """The robot's end of one notification socket (the frames a server would carry)."""

    sock: _ServerSocket

    async def notification(self) -> Any:
        message = await self.sock.from_server.receive()
        assert isinstance(message, str), message
        return json.loads(message)

    def nothing_more(self) -> bool:
        try:
            message = self.sock.from_server.receive_nowait()
        except trio.WouldBlock:
            return True
        raise AssertionError(f"unexpected {message}")


@asynccontextmanager
async def robot_socket(process: Process) -> AsyncIterator[RobotSocket]:
    """Open the robot's socket on ``process``; closed (robot disconnects) on exit."""
    sock = _ServerSocket()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(process.hub.serve_socket, sock)
        await sock.accepted.wait()
        await process.hub.wait_connected(ROBOT.name)
        yield RobotSocket(sock)
        await sock.to_server.send(None)
    # The handler returned: the session is recorded closed and the hub forgot the socket.
    assert not process.hub.is_connected(ROBOT.name)


@asynccontextmanager
async def two_processes(
    backend: str, tmp_path: Path, workers: int = 2, *, relay_port: int | None = None
) -> AsyncIterator[tuple[Process, Process]]:
    """Processes A and B, each with its own storage connections to one database, polling.
    ``relay_port``: PostgreSQL reached through that local relay (a test's outage switch)."""
    async with AsyncExitStack() as stack:
        overrides: dict[str, Any] = {"workers": workers}
        schema = None
        if backend == "postgres":
            url = overrides["database_url"] = env.postgres_url()
            schema = await stack.enter_async_context(fresh_schema(url))
            if relay_port is not None:
                overrides["database_url"] = url.replace(":5432", f":{relay_port}")
        config = make_config(tmp_path / "data", **overrides)
        processes = []
        for name in ("worker-a", "worker-b"):
            storage: Storage = await stack.enter_async_context(open_storage(config, schema=schema))
            runtime = Runtime(config=config, storage=storage, instance_id=name)
            processes.append(Process(runtime, NotificationHub(runtime)))
        a, b = processes
        await provision(a.runtime.storage)
        now = a.runtime.now_ms()
        await a.runtime.storage.add_robot_token(
            RobotToken(hash_token(TOKEN), ROBOT.name, now, now + 3_600_000, OWNER.id)
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(a.hub.serve_polling)
            await nursery.start(b.hub.serve_polling)
            yield a, b
            a.hub.stop_polling()  # the polls end (else this nursery would never exit)
            b.hub.stop_polling()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_get_status_on_b_sees_the_socket_on_a(backend: str, tmp_path: Path) -> None:
    async with two_processes(backend, tmp_path) as (a, b):
        assert await b.get_status(OWNER.id) == {"connected": False}
        async with robot_socket(a):
            assert not b.hub.is_connected(ROBOT.name)  # B holds no socket of its own...
            assert await b.get_status(OWNER.id) == {"connected": True}  # ...but knows
            assert await b.get_status("another-account") == {"connected": False}
        assert await b.get_status(OWNER.id) == {"connected": False}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_notify_on_b_reaches_the_socket_on_a_within_one_poll(
    backend: str, tmp_path: Path, patient_clock: MockClock
) -> None:
    async with two_processes(backend, tmp_path) as (a, b), robot_socket(a) as robot:
        sent_at = trio.current_time()
        assert not await b.hub.notify(ROBOT.name, {"type": "remote", "n": 1})
        with trio.fail_after(3 * NOTIFY_POLL_SECONDS):
            assert await robot.notification() == {"type": "remote", "n": 1}
        assert trio.current_time() - sent_at <= NOTIFY_POLL_SECONDS  # the next poll's tick
        # Sent once, then dropped from the queue: later polls send nothing more.
        await trio.sleep(3 * NOTIFY_POLL_SECONDS)
        assert robot.nothing_more()
        assert await a.runtime.storage.queued_notifications(ROBOT.name) == []
        # A's own notify() still goes straight to its socket.
        assert await a.hub.notify(ROBOT.name, {"n": 2})
        assert await robot.notification() == {"n": 2}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_offline_robot_gets_its_notifications_when_it_opens_on_either(
    backend: str, tmp_path: Path
) -> None:
    async with two_processes(backend, tmp_path, workers=1) as (a, b):
        assert not await b.hub.notify(ROBOT.name, {"n": 1})
        assert not await b.hub.notify(ROBOT.name, {"n": 2})
        async with robot_socket(a) as robot:  # queued by B, delivered by A
            assert [await robot.notification() for _ in range(2)] == [{"n": 1}, {"n": 2}]
        assert await a.runtime.storage.queued_notifications(ROBOT.name) == []
        assert not await a.hub.notify(ROBOT.name, {"n": 3})
        async with robot_socket(b) as robot:  # queued by A, delivered by B
            assert await robot.notification() == {"n": 3}
            assert robot.nothing_more()  # 1 and 2 were not sent again
        async with robot_socket(a) as robot:
            assert robot.nothing_more()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_queue_keeps_the_newest_notifications(backend: str, tmp_path: Path) -> None:
    async with two_processes(backend, tmp_path) as (a, b):
        for n in range(MAX_QUEUED + 5):
            await b.hub.notify(ROBOT.name, {"n": n})
        async with robot_socket(a) as robot:
            got = [(await robot.notification())["n"] for _ in range(MAX_QUEUED)]
            assert robot.nothing_more()
        assert got == list(range(5, MAX_QUEUED + 5))


async def test_the_poll_does_not_run_with_one_process(
    tmp_path: Path, patient_clock: MockClock
) -> None:
    """workers == 1: serve_polling returns at once; notify() always knows the sockets."""
    async with two_processes("sqlite", tmp_path, workers=1) as (a, b), robot_socket(a) as robot:
        assert not await b.hub.notify(ROBOT.name, {"from": "another server"})
        await trio.sleep(5 * NOTIFY_POLL_SECONDS)
        assert robot.nothing_more()
        assert len(await a.runtime.storage.queued_notifications(ROBOT.name)) == 1


@pytest.mark.postgres
@pytest.mark.slow
async def test_storage_down_notify_raises_and_nothing_crashes(
    nursery: trio.Nursery, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL unreachable (a relay the test stops), real time: notify() for a robot on
    another process raises StorageUnavailable; the polls log and carry on; a socket in this
    process still gets notifications; all is delivered once the database is back."""
    relay = Relay(nursery)
    port = await relay.start()
    async with (
        two_processes("postgres", tmp_path, relay_port=port) as (a, b),
        robot_socket(a) as robot,
    ):
        relay.stop()
        with trio.fail_after(15), pytest.raises(StorageUnavailable):
            await b.hub.notify(ROBOT.name, {"lost": True})
        history = StorageHistory(storage=b.runtime.storage, now_ms=b.runtime.now_ms)
        with trio.fail_after(15), pytest.raises(UpstreamError, match="history"):
            await history.launches(ROBOT.name)
        assert await a.hub.notify(ROBOT.name, {"local": True})  # no storage on this path
        assert await robot.notification() == {"local": True}
        with trio.fail_after(15):
            while "notification queue not polled: storage down" not in caplog.text:  # noqa: ASYNC110 - log of a poll running in real time
                await trio.sleep(0.1)
        await relay.start()  # the same port: the database is back
        with trio.fail_after(30):
            while True:
                try:
                    await b.hub.notify(ROBOT.name, {"after": "outage"})
                    break
                except StorageUnavailable:
                    await trio.sleep(0.2)
            assert await robot.notification() == {"after": "outage"}  # by A's poll


@attrs.define
class GatedQueueWrites:
    """The real storage, except that ``queue_notification`` waits for ``gate`` before it
    writes: the test decides what happens while a notify() is between "no socket here" and
    its row being committed."""

    real: Storage
    entered: trio.Event = attrs.field(factory=trio.Event)
    gate: trio.Event = attrs.field(factory=trio.Event)

    async def queue_notification(self, *args: Any, **kwargs: Any) -> None:
        self.entered.set()
        await self.gate.wait()
        await self.real.queue_notification(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_socket_opening_while_notify_writes_still_gets_it(
    backend: str, tmp_path: Path
) -> None:
    """One process, no poll: the robot's socket opens (and reads its empty queue) after
    notify() found no socket but before its row is written; notify() sends it itself."""
    async with two_processes(backend, tmp_path, workers=1) as (a, _):
        gated = GatedQueueWrites(a.runtime.storage)
        a.runtime.storage = gated
        async with trio.open_nursery() as nursery:
            sent_now: list[bool] = []

            async def notify() -> None:
                sent_now.append(await a.hub.notify(ROBOT.name, {"raced": True}))

            nursery.start_soon(notify)
            await gated.entered.wait()
            async with robot_socket(a) as robot:  # opened; its batch found nothing queued
                gated.gate.set()
                with trio.fail_after(10):
                    assert await robot.notification() == {"raced": True}
                assert robot.nothing_more()
        assert sent_now == [False]
        assert await gated.real.queued_notifications(ROBOT.name) == []
        a.runtime.storage = gated.real


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_poll_forgets_the_address_of_rows_whose_robot_left(
    backend: str, tmp_path: Path
) -> None:
    """A row addressed to A (the robot's session was open there when it was queued) while A
    no longer holds the robot's socket: A's poll sends nothing and stops reading it."""
    async with two_processes(backend, tmp_path, workers=2) as (a, b):
        storage = a.runtime.storage
        now = a.runtime.now_ms()
        await storage.record_sessions(
            [("open", "left", ROBOT.name, "notification", now)], instance_id="worker-a"
        )
        assert not await b.hub.notify(ROBOT.name, {"n": 1})
        assert len(await storage.notifications_for_instance("worker-a", now, 10)) == 1
        await storage.record_sessions([("close", "left", "", "", now + 1)])
        await a.hub.poll_once()
        assert await storage.notifications_for_instance("worker-a", 0, 10) == []
        async with robot_socket(b) as robot:  # the robot's next socket still gets it
            assert await robot.notification() == {"n": 1}
