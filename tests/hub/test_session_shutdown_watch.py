"""Graceful shutdown and the single writer's lock (jibo_cloud/hub/session.py).

Every open socket gets 1001 at once when shutdown starts, a socket opened after shutdown
started is closed at once, a finished socket leaves no task behind, and the writer's lock
fast path keeps concurrent frames whole and in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.lowlevel
import trio.testing

from jibo_cloud.hub import session
from tests.hub.support import MemorySocket, make_runtime, serve_listen
from tests.support import hub_client as hc


def _all_tasks() -> list[trio.lowlevel.Task]:
    found, todo = [], [trio.lowlevel.current_root_task()]
    while todo:
        task = todo.pop()
        found.append(task)
        todo.extend(t for n in task.child_nurseries for t in n.child_tasks)
    return found


async def test_one_event_closes_every_idle_socket_at_once(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    socks = [MemorySocket.pair() for _ in range(5)]
    for sock in socks:
        await nursery.start(serve_listen, runtime, sock)
    await trio.testing.wait_all_tasks_blocked()
    runtime.shutting_down.set()
    for sock in socks:
        await sock.closed.wait()
    assert [s.close_code for s in socks] == [1001] * 5
    assert trio.current_time() == pytest.approx(0.0)
    assert not [t for t in _all_tasks() if t.name.endswith("_watch_shutdown")]


async def test_socket_opened_after_shutdown_closes_at_once(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.shutting_down.set()
    sock = MemorySocket.pair()
    with trio.fail_after(1):
        hub = await serve_listen(runtime, sock)
    assert sock.close_code == 1001
    assert hub.end_reason == "server shutting down"
    assert trio.current_time() == pytest.approx(0.0)


async def test_finished_sockets_leave_no_watcher_behind(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    for _ in range(3):
        sock = MemorySocket.pair()
        await sock.robot_send(
            hc.listen("CLIENT_NLU"),
            hc.client_nlu("askForTime", {"skill": "@be/clock"}),
            hc.context(),
        )
        hub = await serve_listen(runtime, sock)  # returns 2 s after the final frame
        assert sock.close_code == 1000
        assert hub.frames_sent == 3
    # Each socket's watcher ended with its nursery; none waits for the event.
    assert not [t for t in _all_tasks() if t.name.endswith("_watch_shutdown")]


async def test_concurrent_writers_keep_frames_whole_and_ordered(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    class SlowSocket(MemorySocket):
        async def send(self, frame: str) -> None:
            await trio.sleep(0.01)  # a slow transport: writers must queue behind the lock
            await super().send(frame)

    a, b, c, d = *trio.open_memory_channel[str | bytes](100), *trio.open_memory_channel[str](100)
    sock = SlowSocket(to_hub=a, hub_inbox=b, to_robot=c, robot_inbox=d)
    runtime = make_runtime(tmp_path)
    with trio.CancelScope() as scope:
        hub = session.HubSocket(sock=sock, config=runtime.config, scope=scope, now_ms=lambda: 1)  # type: ignore[arg-type]
        async with trio.open_nursery() as nursery:
            for n in range(10):
                nursery.start_soon(hub.send_frame, {"type": "X", "n": n})
                await trio.lowlevel.checkpoint()  # start order = lock order
    received = [await sock.robot_receive() for _ in range(10)]
    assert [f["n"] for f in received] == list(range(10))
    assert hub.frames_sent == 10
    assert not hub.lock.locked()
