"""A small, deliberately faulty cloud for testing the tools' failure detection.

It is a real quart-trio app served by hypercorn on an ephemeral port, with just enough hub
behaviour (SOS/EOS/final LISTEN, ERROR for bad JSON and unknown types, PROACTIVE {}) and a REST
endpoint, plus *planted faults* a fuzzer must find:

- ``crash_on_bad_intent``: a CLIENT_NLU whose ``data`` is not an object with a string
  ``intent`` closes the socket with 1011 and no ERROR frame (a crash).
- ``hang_on_big_frame``: a text frame over the hub's 64 KiB cap is never answered, where the
  hub must close 1009 (a hang).
- ``rest_500_on_bad_id``: ``Robot_20160225.GetRobot`` with a body that is not an object with
  a string ``id`` answers 500.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve
from quart import Response, request, websocket
from quart_trio import QuartTrio

BIG_FRAME_BYTES = 64 * 1024


@attrs.frozen
class Faults:
    crash_on_bad_intent: bool = False
    hang_on_big_frame: bool = False
    rest_500_on_bad_id: bool = False


def _frame(type_: str, data: Any, *, final: bool = False) -> str:
    return json.dumps({"type": type_, "msgID": "mid-fake", "ts": 0, "data": data, "final": final})


def create_fake_cloud(faults: Faults) -> QuartTrio:
    app = QuartTrio(__name__)

    @app.get("/healthcheck")
    async def health() -> Response:
        return Response("ok", content_type="text/plain")

    @app.post("/")
    async def rest() -> Response:
        target = request.headers.get("X-Amz-Target", "")
        raw = await request.get_data()
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return Response(
                json.dumps({"__type": "SerializationException", "message": "bad JSON"}),
                status=400,
            )
        if (
            faults.rest_500_on_bad_id
            and target == "Robot_20160225.GetRobot"
            and not (isinstance(body, dict) and isinstance(body.get("id"), str))
        ):
            return Response("Internal Server Error", status=500)
        return Response("{}", content_type="application/x-amz-json-1.1")

    @app.websocket("/v1/listen")
    async def listen() -> None:
        await websocket.accept()
        got_client = got_context = False
        while True:
            text = await websocket.receive()
            if not isinstance(text, str):
                continue
            if len(text) > BIG_FRAME_BYTES:
                if faults.hang_on_big_frame:
                    await trio.sleep_forever()
                await websocket.close(1009, "message too big")
                return
            try:
                msg = json.loads(text)
            except ValueError:
                msg = None
            if not isinstance(msg, dict):
                await websocket.send(
                    _frame(
                        "ERROR",
                        {"message": f"Invalid JSON arrived into socket: {text}"},
                        final=True,
                    )
                )
                return
            kind = msg.get("type")
            data = msg.get("data")
            if kind == "LISTEN":
                mode = data.get("mode", "") if isinstance(data, dict) else ""
                if mode in ("CLIENT_ASR", "CLIENT_NLU"):
                    await websocket.send(_frame("SOS", None))
            elif kind in ("CLIENT_ASR", "CLIENT_NLU"):
                if (
                    faults.crash_on_bad_intent
                    and kind == "CLIENT_NLU"
                    and not (isinstance(data, dict) and isinstance(data.get("intent"), str))
                ):
                    await websocket.close(1011, "internal error")
                    return
                got_client = True
                await websocket.send(_frame("EOS", None))
            elif kind == "CONTEXT":
                got_context = True
            else:
                await websocket.send(
                    _frame("ERROR", {"message": f"Unknown message type: {kind}"}, final=True)
                )
                return
            if got_client and got_context:
                await websocket.send(
                    _frame(
                        "LISTEN", {"asr": {"text": "", "confidence": 1}, "match": None}, final=True
                    )
                )
                return

    @app.websocket("/v1/proactive")
    async def proactive() -> None:
        await websocket.accept()
        seen: set[str] = set()
        while not {"TRIGGER", "CONTEXT"} <= seen:
            text = await websocket.receive()
            msg = json.loads(text) if isinstance(text, str) else {}
            seen.add(str(msg.get("type")))
        await websocket.send(_frame("PROACTIVE", {}, final=True))

    return app


async def start_fake_cloud(nursery: trio.Nursery, faults: Faults = Faults()) -> int:
    """Serve the fake cloud on an ephemeral 127.0.0.1 port; returns the port."""
    config = HypercornConfig()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    binds = await nursery.start(
        lambda task_status: serve(create_fake_cloud(faults), config, task_status=task_status)
    )
    return int(binds[0].rsplit(":", 1)[1])
