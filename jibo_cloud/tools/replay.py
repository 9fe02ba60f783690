"""``jibo-cloud replay``: send flow files to a cloud and check its replies.

Replies are checked in order across the whole socket (frame types, then JSON subsets), so a
reply is not lost because it arrived after the robot's next frame. After each step that
expects replies, replay waits for them (up to ``step_timeout``) before sending the next
frame, like a robot waiting for SOS; after the last step it waits (as long again) for a final
frame (§4.5).
Every mismatch is reported with a diff; the exit status is 1 when any flow fails.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from typing import Any

import attrs
import httpx
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jibo_cloud.tools import robot as rb
from jibo_cloud.tools.flows import HTTP_KIND, Flow
from jibo_cloud.tools.target import SocketRejected, Target, bearer, open_socket
from jibo_cloud.tools.transcript import HUB, ROBOT, FrameRecord

#: Per-step wait for the replies a step expects (§4.4: context 5 s, parser/skill 10 s each).
STEP_TIMEOUT_SECONDS = 12.0


def subset_diff(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``expected`` is not contained in ``actual``: one line per difference.

    Objects match when every expected key matches; lists must have the same length and match
    element by element; anything else must be equal.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {json.dumps(actual)[:80]}"]
        out: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{path}.{key}: missing (expected {json.dumps(value)[:80]})")
            else:
                out.extend(subset_diff(value, actual[key], f"{path}.{key}"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {json.dumps(expected)[:80]}, got {json.dumps(actual)[:80]}"]
        out = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out.extend(subset_diff(e, a, f"{path}[{index}]"))
        return out
    # JSON's true is not 1 even though Python says True == 1.
    if expected != actual or isinstance(expected, bool) != isinstance(actual, bool):
        return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)[:80]}"]
    return []


@attrs.define
class FlowResult:
    flow: Flow
    frames: list[FrameRecord] = attrs.field(factory=list)
    mismatches: list[str] = attrs.field(factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow.name,
            "source": self.flow.source,
            "ok": self.ok,
            "error": self.error,
            "mismatches": self.mismatches,
            "frames": [f.to_json() for f in self.frames],
        }


def check_replies(flow: Flow, frames: list[FrameRecord]) -> list[str]:
    """Compare the hub's text frames with what the flow expects, in order."""
    replies = [f for f in frames if f.sender == HUB and f.kind == "text"]
    expected_types = [t for s in flow.steps for t in (s.expected_types or [])]
    actual_types = [f.type or "<not JSON>" for f in replies]
    out: list[str] = []
    checks_types = any(s.expected_types is not None for s in flow.steps)
    if checks_types and expected_types != actual_types:
        diff = difflib.unified_diff(
            expected_types, actual_types, "expected reply types", "actual reply types", lineterm=""
        )
        out.append("reply types differ:\n" + "\n".join(diff))
    position = 0
    for step_index, step in enumerate(flow.steps):
        for reply in step.expected_replies:
            match = next(
                (i for i in range(position, len(replies)) if replies[i].type == reply.type), None
            )
            if match is None:
                out.append(f"step {step_index} ({step.label}): no {reply.type} reply")
                continue
            position = match + 1
            if reply.json_subset is not None:
                diffs = subset_diff(reply.json_subset, replies[match].obj)
                if diffs:
                    head = f"step {step_index} ({step.label}): {reply.type} reply differs:"
                    out.append("\n  ".join([head, *diffs]))
    return out


def _fill_envelope(obj: Any) -> Any:
    """Add the ``msgID``/``ts`` real robots always send when a hand-made flow left them out."""
    if isinstance(obj, dict) and "type" in obj:
        filled = dict(obj)
        filled.setdefault("msgID", rb.new_msg_id())
        filled.setdefault("ts", rb.now_ms())
        return filled
    return obj


async def replay_flow(
    target: Target,
    flow: Flow,
    *,
    token: str | None,
    host_header: str | None = None,
    verbatim: bool = False,
    step_timeout: float = STEP_TIMEOUT_SECONDS,
    on_frame: Callable[[FrameRecord], None] | None = None,
) -> FlowResult:
    """Replay one flow; never raises for what the server does (that goes in the result)."""
    if flow.kind == HTTP_KIND:
        return await replay_http(target, flow, host_header=host_header)
    result = FlowResult(flow)
    start = trio.current_time()

    def record(frame: FrameRecord) -> None:
        result.frames.append(frame)
        if on_frame is not None:
            on_frame(frame)

    def elapsed() -> float:
        return (trio.current_time() - start) * 1000.0

    host = host_header or flow.host_name
    try:
        async with open_socket(
            target, "hub", flow.path, headers=bearer(token), host_header=host
        ) as ws:
            await _run_steps(ws, flow, record, elapsed, verbatim, step_timeout, result)
    except SocketRejected as rejected:
        record(FrameRecord(elapsed(), HUB, "rejected", raw=rejected.body, code=rejected.status))
        result.error = f"upgrade refused: HTTP {rejected.status} {rejected.body}"
        return result
    result.mismatches = check_replies(flow, result.frames)
    return result


async def _run_steps(
    ws: WebSocketConnection,
    flow: Flow,
    record: Callable[[FrameRecord], None],
    elapsed: Callable[[], float],
    verbatim: bool,
    step_timeout: float,
    result: FlowResult,
) -> None:
    changed = trio.Event()
    state = {"replies": 0, "final": False, "closed": False}

    async def read() -> None:
        nonlocal changed
        try:
            while True:
                message = await ws.get_message()
                if isinstance(message, str):
                    frame = FrameRecord.text(elapsed(), HUB, message)
                    state["replies"] += 1
                    state["final"] = state["final"] or frame.final
                else:
                    frame = FrameRecord(elapsed(), HUB, "binary", size=len(message))
                record(frame)
                changed.set()
                changed = trio.Event()
        except ConnectionClosed as exc:
            code = getattr(exc.reason, "code", None)
            record(FrameRecord(elapsed(), HUB, "close", code=code))
            state["closed"] = True
            changed.set()

    async def wait_until(done: Callable[[], bool], seconds: float) -> None:
        with trio.move_on_after(seconds):
            while not done() and not state["closed"]:
                await changed.wait()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        wanted = 0
        for step in flow.steps:
            if state["closed"]:
                result.error = f"the server closed the socket before step {step.label}"
                break
            try:
                if step.binary is not None:
                    await ws.send_message(step.binary)
                    record(FrameRecord(elapsed(), ROBOT, "binary", size=len(step.binary)))
                else:
                    obj = step.text if verbatim else _fill_envelope(step.text)
                    text = obj if isinstance(obj, str) else json.dumps(obj)
                    await ws.send_message(text)
                    record(FrameRecord.text(elapsed(), ROBOT, text))
            except ConnectionClosed:
                await wait_until(lambda: False, 1.0)
                result.error = f"the server closed the socket during step {step.label}"
                break
            wanted += len(step.expected_types or [])
            if step.expected_types:

                def enough(count: int = wanted) -> bool:
                    return int(state["replies"]) >= count

                await wait_until(enough, step_timeout)
        await wait_until(lambda: bool(state["final"]), step_timeout)
        nursery.cancel_scope.cancel()


async def replay_http(target: Target, flow: Flow, *, host_header: str | None) -> FlowResult:
    """Replay an HTTP flow (the capture proxy's REST exchanges), checking status and body."""
    result = FlowResult(flow)
    async with target.http_client() as client:
        for index, step in enumerate(flow.steps):
            if step.http is None:
                result.error = f"step {index}: an http flow holds only http steps"
                return result
            spec = step.http
            headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
            headers["Host"] = host_header or flow.host_name or target.host_header("api")
            body = spec.get("body")
            content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            if body is None:
                content = b""
            try:
                response = await client.request(
                    str(spec.get("method", "POST")),
                    target.http_url(str(spec.get("path", "/"))),
                    content=content,
                    headers=headers,
                    timeout=STEP_TIMEOUT_SECONDS,
                )
            except httpx.HTTPError as exc:
                result.error = f"step {index} ({step.label}): {type(exc).__name__}: {exc}"
                return result
            if step.expected_status is not None and response.status_code != step.expected_status:
                result.mismatches.append(
                    f"step {index} ({step.label}): expected HTTP {step.expected_status}, "
                    f"got {response.status_code}: {response.text[:160]}"
                )
            if step.expected_json_subset is not None:
                try:
                    actual = response.json()
                except ValueError:
                    actual = response.text
                diffs = subset_diff(step.expected_json_subset, actual)
                if diffs:
                    head = f"step {index} ({step.label}): body differs:"
                    result.mismatches.append("\n  ".join([head, *diffs]))
    return result


def token_for(flow: Flow, explicit: str | None) -> str | None:
    """``--token``, then ``$JIBO_HUB_TOKEN``, then the flow's own (fixture) token."""
    return explicit or os.environ.get("JIBO_HUB_TOKEN") or flow.token


def describe(result: FlowResult) -> list[str]:
    status = "PASS" if result.ok else "FAIL"
    lines = [f"{status} {result.flow.name} ({result.flow.source})"]
    if result.error:
        lines.append(f"  error: {result.error}")
    for mismatch in result.mismatches:
        lines.extend("  " + line for line in mismatch.splitlines())
    return lines
