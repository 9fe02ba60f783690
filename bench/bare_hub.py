"""A bare trio-websocket hub: the yardstick for ``python -m bench storm`` and ``hub --profile``.

No framework, no token check, no storage, no state machine: it accepts any websocket on any
path and answers the frames of a turn the way our hub answers a CLIENT_ASR turn that launches a
cloud skill: ``LISTEN`` → ``SOS``; ``CLIENT_ASR``/``CLIENT_NLU`` → ``EOS``; ``CONTEXT`` → a
``LISTEN`` with ``final: false`` and then the skill's ``SKILL_ACTION`` with ``final: true``
(any other text frame gets one final ``LISTEN``). Every reply carries the request's
``transID``. So the storm compares jibo-cloud's accept path, and ``hub --profile`` a whole
turn, with the least a trio websocket server can do. Run as ``python -m bench.bare_hub PORT``;
it prints ``listening on PORT`` once it accepts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

_N = 0


def _frame(kind: str, trans_id: str, final: bool | None, data: Any) -> str:
    global _N
    _N += 1
    out: dict[str, Any] = {"type": kind, "msgID": f"bare-{_N}", "ts": 0, "transID": trans_id}
    out["data"] = data
    if final is not None:
        out["final"] = final
    out["timings"] = {"total": 1}
    return json.dumps(out, separators=(",", ":"))


def answers(frame: Any) -> list[str]:
    """The frames a turn's robot message gets back."""
    kind = frame.get("type") if isinstance(frame, dict) else None
    trans_id = frame.get("transID", "") if isinstance(frame, dict) else ""
    if kind == "LISTEN":
        return [_frame("SOS", trans_id, None, None)]
    if kind in ("CLIENT_ASR", "CLIENT_NLU"):
        return [_frame("EOS", trans_id, None, None)]
    listen = {"asr": {"text": "tell me a joke", "confidence": 1},
              "nlu": {"intent": "joke", "entities": {}, "rules": ["launch"]},
              "match": {"skillID": "joke", "launch": True, "onRobot": False}}  # fmt: skip
    if kind == "CONTEXT":
        action = {"action": {"config": {"jcp": {"type": "SLIM", "config": {
            "play": {"esml": "<speak>Why did the robot cross the road?</speak>"}}}}}}  # fmt: skip
        return [
            _frame("LISTEN", trans_id, False, listen),
            _frame("SKILL_ACTION", trans_id, True, action),
        ]
    return [_frame("LISTEN", trans_id, True, listen)]


async def handle(request: WebSocketRequest) -> None:
    ws = await request.accept()
    try:
        while True:
            message = await ws.get_message()
            if not isinstance(message, str):
                continue
            try:
                frame: Any = json.loads(message)
            except ValueError:
                frame = {}
            for reply in answers(frame):
                await ws.send_message(reply)
    except ConnectionClosed:
        return


async def main(port: int) -> None:
    async with trio.open_nursery() as nursery:
        # trio's serve_tcp listens with the largest backlog the kernel allows (somaxconn).
        await nursery.start(serve_websocket, handle, "127.0.0.1", port, None)
        print(f"listening on {port}", flush=True)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]))
