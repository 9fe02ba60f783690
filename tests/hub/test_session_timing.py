"""The runner's time rules on trio's virtual clock (PROTOCOL.md §4.4, §4.5).

Each test starts at t=0 and asserts the exact virtual time at which the hub acted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.session import CLOSE_AFTER_FINAL_SECONDS, MAX_SOCKET_SECONDS
from tests.hub.support import MemorySocket, StaticParser, make_runtime, serve_listen
from tests.support import hub_client as hc

TELL_JOKE = {"intent": "tellJoke", "entities": {}, "rules": ["launch"]}


async def test_socket_closes_two_seconds_after_final(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(
        hc.listen("CLIENT_NLU"), hc.client_nlu("askForTime", {"skill": "@be/clock"}), hc.context()
    )
    frames = await sock.robot_receive_until_final()
    t_final = trio.current_time()
    await sock.closed.wait()
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    assert trio.current_time() - t_final == pytest.approx(CLOSE_AFTER_FINAL_SECONDS)
    assert sock.close_code == 1000


async def test_frames_after_final_are_dropped_and_counted(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    sock = MemorySocket.pair()
    await sock.robot_send(
        hc.listen("CLIENT_NLU"),
        hc.client_nlu("askForTime", {"skill": "@be/clock"}),
        hc.context(),
        hc.client_asr("late"),
        hc.context(),
    )
    hub = await serve_listen(runtime, sock)
    assert hub.final_sent
    assert hub.dropped_after_final == 0  # the machine dropped them before the writer saw any
    frames = []
    while True:
        try:
            frames.append(sock.robot_inbox.receive_nowait())
        except trio.WouldBlock:
            break
    assert len(frames) == 3  # SOS, EOS, LISTEN and nothing after


async def test_silent_socket_is_closed_at_the_three_minute_cap(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.closed.wait()
    assert trio.current_time() == pytest.approx(MAX_SOCKET_SECONDS)
    assert sock.close_code == 1000


async def test_context_wait_times_out_after_five_seconds(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.parser = StaticParser()
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.client_asr("hello"))
    frames = await sock.robot_receive_until_final()
    assert trio.current_time() == pytest.approx(5.0)
    assert frames[-1]["data"] == {
        "code": "TIMEOUT_CONTEXT",
        "message": "Timeout of 5000 while waiting for the context message",
    }


async def test_parser_gets_ten_seconds(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.parser = StaticParser(hang=True)
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hello"))
    frames = await sock.robot_receive_until_final()
    assert trio.current_time() == pytest.approx(10.0)
    assert frames[-1]["data"] == {"code": "PARSER", "message": "timeout of 10000ms exceeded"}


async def test_skill_gets_ten_seconds(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.parser = StaticParser(TELL_JOKE)

    async def slow_skill(request: Any) -> dict[str, Any]:
        await trio.sleep(3600)
        raise AssertionError("unreachable")

    runtime.skill_handlers["joke-skill"] = slow_skill
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("a joke"))
    frames = await sock.robot_receive_until_final()
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "ERROR"]
    assert frames[2]["final"] is False
    assert trio.current_time() == pytest.approx(10.0)
    assert frames[-1]["data"]["code"] == "TIMEOUT_SKILL"


async def test_transaction_times_out_after_sixty_seconds(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context())  # the text never comes
    frames = await sock.robot_receive_until_final()
    assert trio.current_time() == pytest.approx(60.0)
    assert frames[-1]["data"]["code"] == "TIMEOUT_TRANSACTION"


async def test_a_crash_becomes_an_error_for_that_robot_only(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)

    class Exploding:
        async def parse(self, request: Any) -> Any:
            if request["text"] == "boom":
                raise RuntimeError("bug in the parser")
            return {"intent": None, "entities": None, "rules": []}

    runtime.parser = Exploding()
    bad, good = MemorySocket.pair(), MemorySocket.pair()
    await nursery.start(serve_listen, runtime, bad)
    await nursery.start(serve_listen, runtime, good)
    await bad.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("boom"))
    crashed = await bad.robot_receive_until_final()
    await good.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("fine"))
    fine = await good.robot_receive_until_final()
    assert crashed[-1]["type"] == "ERROR"
    assert crashed[-1]["data"]["code"] == "GENERAL"
    assert crashed[-1]["final"] is True
    assert "total" in crashed[-1]["timings"]  # the writer adds timings.total when missing
    assert fine[-1]["type"] == "LISTEN"
    assert fine[-1]["data"]["match"] is None


@pytest.mark.parametrize(
    ("kind", "cap"), [("text", "max_text_frame"), ("binary", "max_binary_frame")]
)
async def test_oversized_frames_close_1009(
    autojump_clock: trio.testing.MockClock, tmp_path: Path, kind: str, cap: str
) -> None:
    runtime = make_runtime(tmp_path, **{cap: 1000})
    sock = MemorySocket.pair()
    big: str | bytes = "x" * 1001 if kind == "text" else b"x" * 1001
    await sock.robot_send(big)
    await serve_listen(runtime, sock)
    assert sock.close_code == 1009
    assert trio.current_time() < 1.0


async def test_shutdown_lets_the_transaction_finish_then_closes_1001(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path, grace_seconds=10.0)

    class SlowParser:
        async def parse(self, request: Any) -> Any:
            await trio.sleep(3)
            return {"intent": None, "entities": None, "rules": []}

    runtime.parser = SlowParser()
    busy, idle = MemorySocket.pair(), MemorySocket.pair()
    await nursery.start(serve_listen, runtime, busy)
    await nursery.start(serve_listen, runtime, idle)
    await busy.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hi"))
    await trio.testing.wait_all_tasks_blocked()
    runtime.shutting_down.set()
    await idle.closed.wait()
    assert idle.close_code == 1001
    assert trio.current_time() == pytest.approx(0.0)
    frames = await busy.robot_receive_until_final()
    assert frames[-1]["type"] == "LISTEN"  # finished inside the grace period
    await busy.closed.wait()
    assert trio.current_time() == pytest.approx(3.0 + CLOSE_AFTER_FINAL_SECONDS)


async def test_shutdown_grace_is_bounded(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path, grace_seconds=5.0)
    runtime.parser = StaticParser(hang=True)
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hi"))
    await trio.testing.wait_all_tasks_blocked()
    runtime.shutting_down.set()
    await sock.closed.wait()
    assert sock.close_code == 1001
    assert trio.current_time() == pytest.approx(4.0)  # 0.8 of the grace period


async def test_robot_closing_first_ends_everything(
    autojump_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.parser = StaticParser(hang=True)
    sock = MemorySocket.pair()
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hi"))
    with trio.move_on_after(1.0):  # quart-trio cancels the handler when the robot closes
        await serve_listen(runtime, sock)
    assert trio.current_time() == pytest.approx(1.0)
    assert sock.closed.is_set()  # the close was still attempted, bounded


async def test_upstream_error_text_reaches_the_robot(
    autojump_clock: trio.testing.MockClock, nursery: trio.Nursery, tmp_path: Path
) -> None:
    runtime = make_runtime(tmp_path)
    runtime.parser = StaticParser(
        error=UpstreamError("parser", "Request failed with status code 503")
    )
    sock = MemorySocket.pair()
    await nursery.start(serve_listen, runtime, sock)
    await sock.robot_send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("hi"))
    frames = await sock.robot_receive_until_final()
    assert frames[-1]["data"] == {
        "code": "PARSER",
        "message": "Request failed with status code 503",
    }
