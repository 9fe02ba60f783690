"""``jibo-cloud sim turn|proactive``: one hub transaction exactly as a robot sends it.

A transaction is a *script* of frames (text objects, binary audio pages, pauses between
audio pages); :func:`run_transaction` sends it on one socket, records every frame both ways
with its time, and ends on the first ``final: true`` frame (PROTOCOL.md §4.5), the server's
close, or a time limit. Like a real robot, the simulator closes its side after the final frame
unless asked to watch the server's own close (2 s after final, §4.5).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jibo_cloud.tools import robot as rb
from jibo_cloud.tools.target import SocketRejected, Target, bearer, open_socket
from jibo_cloud.tools.transcript import HUB, ROBOT, FrameRecord

#: How long to wait for the final frame after the last robot frame (§4.4: the context wait
#: is 5 s and the parser and skill 10 s each, so a healthy hub answers well inside 30 s).
FINAL_TIMEOUT_SECONDS = 30.0
#: How long to watch for the server's close after final when asked (§4.5: 2 s, plus margin).
CLOSE_WATCH_SECONDS = 3.0


@attrs.frozen
class Pause:
    """Wait before the next frame (audio pages are paced like a robot's microphone)."""

    seconds: float


ScriptItem = dict[str, Any] | bytes | str | Pause


@attrs.define
class HubResult:
    """What happened on one hub socket."""

    path: str
    frames: list[FrameRecord] = attrs.field(factory=list)
    error: str | None = None

    @property
    def final(self) -> FrameRecord | None:
        return next((f for f in self.frames if f.sender == HUB and f.final), None)

    @property
    def ok(self) -> bool:
        """True when the hub answered with a final frame that is not an ERROR."""
        final = self.final
        return self.error is None and final is not None and final.type != "ERROR"

    def to_json(self) -> dict[str, Any]:
        final = self.final
        return {
            "path": self.path,
            "ok": self.ok,
            "error": self.error,
            "final_type": final.type if final else None,
            "frames": [f.to_json() for f in self.frames],
        }


async def run_transaction(
    target: Target,
    path: str,
    script: Sequence[ScriptItem],
    *,
    token: str | None,
    on_frame: Callable[[FrameRecord], None] = lambda _: None,
    final_timeout: float = FINAL_TIMEOUT_SECONDS,
    watch_close: bool = False,
    host_header: str | None = None,
) -> HubResult:
    """Open ``path`` on the hub, send ``script``, and record the exchange until final.

    Never raises for what the server does (refusals, closes, silence): those are recorded in
    the result. Raises :class:`~jibo_cloud.tools.target.ToolError` only when the server is
    unreachable.
    """
    result = HubResult(path=path)
    start = trio.current_time()

    def record(frame: FrameRecord) -> None:
        result.frames.append(frame)
        on_frame(frame)

    def elapsed() -> float:
        return (trio.current_time() - start) * 1000.0

    try:
        async with open_socket(
            target, "hub", path, headers=bearer(token), host_header=host_header
        ) as ws:
            await _exchange(ws, script, record, elapsed, final_timeout, watch_close, result)
    except SocketRejected as rejected:
        record(FrameRecord(elapsed(), HUB, "rejected", raw=rejected.body, code=rejected.status))
        result.error = f"upgrade refused: HTTP {rejected.status} {rejected.body}"
    return result


async def _exchange(
    ws: WebSocketConnection,
    script: Sequence[ScriptItem],
    record: Callable[[FrameRecord], None],
    elapsed: Callable[[], float],
    final_timeout: float,
    watch_close: bool,
    result: HubResult,
) -> None:
    got_final = trio.Event()
    closed = trio.Event()

    async def read() -> None:
        try:
            while True:
                message = await ws.get_message()
                if isinstance(message, str):
                    frame = FrameRecord.text(elapsed(), HUB, message)
                else:
                    frame = FrameRecord(elapsed(), HUB, "binary", size=len(message))
                record(frame)
                if frame.final:
                    got_final.set()
        except ConnectionClosed as exc:
            # The simulator cancels this reader before closing its side, so a close seen
            # here is always the server's.
            reason = exc.reason
            record(
                FrameRecord(
                    elapsed(),
                    HUB,
                    "close",
                    code=getattr(reason, "code", None),
                    raw=getattr(reason, "reason", None),
                )
            )
            closed.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        for item in script:
            if closed.is_set():
                result.error = "the server closed the socket before the robot finished sending"
                break
            if isinstance(item, Pause):
                await trio.sleep(item.seconds)
                continue
            try:
                if isinstance(item, bytes):
                    await ws.send_message(item)
                    record(FrameRecord(elapsed(), ROBOT, "binary", size=len(item)))
                else:
                    text = item if isinstance(item, str) else json.dumps(item)
                    await ws.send_message(text)
                    record(FrameRecord.text(elapsed(), ROBOT, text))
            except ConnectionClosed:
                await closed.wait()
                break
        with trio.move_on_after(final_timeout):
            while not (got_final.is_set() or closed.is_set()):
                await _first_of(got_final, closed)
        if not got_final.is_set() and result.error is None:
            result.error = (
                "the server closed the socket without a final frame"
                if closed.is_set()
                else f"no final frame within {final_timeout:g} s"
            )
        if watch_close and got_final.is_set():
            with trio.move_on_after(CLOSE_WATCH_SECONDS):
                await closed.wait()
        nursery.cancel_scope.cancel()


async def _first_of(*events: trio.Event) -> None:
    async with trio.open_nursery() as nursery:
        for event in events:

            async def wait(e: trio.Event = event) -> None:
                await e.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(wait)


def client_asr_script(text: str, robot: rb.RobotIdentity) -> list[ScriptItem]:
    """``LISTEN(CLIENT_ASR) → CLIENT_ASR → CONTEXT`` (§4.3)."""
    tid = rb.new_trans_id()
    return [
        rb.envelope("LISTEN", rb.listen_data("CLIENT_ASR"), trans_id=tid),
        rb.envelope("CLIENT_ASR", {"text": text}, trans_id=tid),
        rb.envelope("CONTEXT", rb.context_data(robot), trans_id=tid),
    ]


def client_nlu_script(
    intent: str,
    entities: dict[str, Any],
    rules: Sequence[str],
    robot: rb.RobotIdentity,
) -> list[ScriptItem]:
    """``LISTEN(CLIENT_NLU, hotphrase false) → CLIENT_NLU → CONTEXT`` (§4.3), e.g. a screen tap."""
    tid = rb.new_trans_id()
    return [
        rb.envelope(
            "LISTEN", rb.listen_data("CLIENT_NLU", rules=rules, hotphrase=False), trans_id=tid
        ),
        rb.envelope("CLIENT_NLU", rb.client_nlu_data(intent, entities, rules), trans_id=tid),
        rb.envelope("CONTEXT", rb.context_data(robot), trans_id=tid),
    ]


def audio_script(
    pages: Sequence[tuple[bytes, float]], robot: rb.RobotIdentity, *, pace: bool
) -> list[ScriptItem]:
    """``LISTEN("") → audio… → CONTEXT → audio…``, the most common real sequence (§4.3).

    Args:
        pages: Ogg pages with the seconds of audio each carries (for pacing).
        pace: send pages at the speed a microphone produces them, as a robot does.
    """
    tid = rb.new_trans_id()
    script: list[ScriptItem] = [rb.envelope("LISTEN", rb.listen_data(""), trans_id=tid)]
    context = rb.envelope("CONTEXT", rb.context_data(robot), trans_id=tid)
    for index, (page, seconds) in enumerate(pages):
        script.append(page)
        if index == min(2, len(pages) - 1):
            script.append(context)
        if pace and seconds > 0:
            script.append(Pause(seconds))
    if not pages:
        script.append(context)
    return script


def proactive_script(source: str, robot: rb.RobotIdentity) -> list[ScriptItem]:
    """``TRIGGER → CONTEXT`` on the proactive socket (§4.3, §4.6)."""
    tid = rb.new_trans_id()
    return [
        rb.envelope("TRIGGER", rb.trigger_data(source, "0" * 23 + "1"), trans_id=tid),
        rb.envelope("CONTEXT", rb.context_data(robot), trans_id=tid),
    ]
