"""The robot's Close ends a hub socket at once, whatever the turn is doing (docs/hub.md).

A real socket's ``receive`` raises :class:`RobotClosed` when the robot's Close arrives; the
memory socket here does the same when the robot side closes its channel. Two paths end the
socket: the quiet one (the turn is over and nothing runs: the reader returns and the driver
with it) and the raising one (a call task still runs: ``RobotClosed`` goes into the nursery,
which cancels it). Both must end at once, mark the socket "robot closed first" and not send
a close of our own (the edge answered the robot's).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from jibo_cloud.errors import RobotClosed
from jibo_cloud.hub.session import ROBOT_CLOSED_FIRST
from tests.hub.support import MemorySocket, StaticParser, make_runtime, serve_listen
from tests.support import hub_client as hc


class ClosingSocket(MemorySocket):
    """A memory socket whose reader sees the robot's Close as a real socket's does."""

    async def receive(self) -> str | bytes:
        try:
            return await self.hub_inbox.receive()
        except trio.EndOfChannel:
            raise RobotClosed("robot closed: 1000") from None


def _closing_pair() -> ClosingSocket:
    a, b = trio.open_memory_channel[str | bytes](100)
    c, d = trio.open_memory_channel[str](100)
    return ClosingSocket(to_hub=a, hub_inbox=b, to_robot=c, robot_inbox=d)


async def test_close_after_the_final_frame_ends_the_socket_quietly(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    sock = _closing_pair()
    await sock.robot_send(
        hc.listen("CLIENT_NLU"),
        hc.client_nlu("askForTime", {"skill": "@be/clock"}),
        hc.context(),
    )
    async with trio.open_nursery() as nursery:
        done: list[object] = []

        async def serve() -> None:
            done.append(await serve_listen(runtime, sock))

        nursery.start_soon(serve)
        frames = await sock.robot_receive_until_final()
        await trio.testing.wait_all_tasks_blocked()
        closed_at = trio.current_time()
        await sock.to_hub.aclose()  # the robot's Close, before the 2-second rule fires
    hub = done[0]
    assert frames[-1]["final"] is True
    assert trio.current_time() == pytest.approx(closed_at)  # at once, not at +2 s
    assert closed_at < 2.0
    assert hub.end_reason == ROBOT_CLOSED_FIRST  # type: ignore[attr-defined]
    assert sock.close_code is None  # no close of ours after the robot's


async def test_close_while_a_call_runs_cancels_it_and_ends_the_socket(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    parser = StaticParser(hang=True)
    runtime.parser = parser
    sock = _closing_pair()
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hi"))
    async with trio.open_nursery() as nursery:
        done: list[object] = []

        async def serve() -> None:
            done.append(await serve_listen(runtime, sock))

        nursery.start_soon(serve)
        await trio.testing.wait_all_tasks_blocked()
        assert parser.requests  # the parse is under way (it would take its 10 s)
        await sock.to_hub.aclose()
    hub = done[0]
    assert trio.current_time() == pytest.approx(0.0)  # the hanging parse was cancelled
    assert hub.end_reason == ROBOT_CLOSED_FIRST  # type: ignore[attr-defined]
    assert sock.close_code is None
