"""A bare trio-websocket hub: the yardstick for ``python -m bench storm`` (issue 21 point 9).

No framework, no token check, no storage: it accepts any websocket on any path and answers
every text frame the way our hub answers a turn's end (one final ``LISTEN`` frame with the
request's ``transID``), so the storm compares jibo-cloud's accept path with the least a trio
websocket server can do. Run as ``python -m bench.bare_hub PORT``; it prints
``listening on PORT`` once it accepts.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket


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
            trans_id = frame.get("transID", "") if isinstance(frame, dict) else ""
            await ws.send_message(json.dumps({
                "type": "LISTEN", "transID": trans_id, "final": True,
                "data": {"asr": {"text": ""}, "nlu": {"intent": ""}, "match": None},
            }))  # fmt: skip
    except ConnectionClosed:
        return


async def main(port: int) -> None:
    async with trio.open_nursery() as nursery:
        # trio's serve_tcp listens with the largest backlog the kernel allows (somaxconn).
        await nursery.start(serve_websocket, handle, "127.0.0.1", port, None)
        print(f"listening on {port}", flush=True)


if __name__ == "__main__":
    trio.run(main, int(sys.argv[1]))
