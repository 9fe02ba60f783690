"""``jibo-cloud capture``: a recording proxy between a robot and a cloud.

It is a small ASGI application served by hypercorn's trio worker. HTTP requests are forwarded
with httpx; a websocket is connected upstream *before* the robot's upgrade is answered, so an
upstream refusal (401 with the hub's reason, 404) reaches the robot unchanged. Frames are
pumped both ways as they come. Everything is written as flow files (:mod:`.flows`) with
personal data scrubbed (:mod:`.scrub`); audio is reduced to its length unless ``keep_audio``.

Output, in ``out_dir``: ``http.flow.json`` (every REST exchange, rewritten after each one so
the newest scrubbing knowledge applies to all) and ``NNNN-<kind>.flow.json`` per socket.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jibo_cloud.tools.flows import HTTP_KIND, ExpectedReply, Flow, FlowStep, flow_to_json
from jibo_cloud.tools.scrub import Scrubber
from jibo_cloud.tools.target import SocketRejected, Target, ToolError, open_socket
from jibo_cloud.tools.transcript import HUB, ROBOT, FrameRecord

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: Headers that belong to one hop and are not forwarded (RFC 9110 §7.6.1, plus websocket).
HOP_HEADERS = frozenset(
    (
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te",
        "trailer", "content-length", "host", "sec-websocket-key", "sec-websocket-version",
        "sec-websocket-extensions", "sec-websocket-accept", "content-encoding",
    )
)  # fmt: skip
#: Fields of a hub reply that change every time; left out of the recorded JSON subsets.
VOLATILE_FIELDS = ("msgID", "ts", "timings")
HUB_PATHS = ("/v1/listen", "/listen", "/v1/proactive", "/proactive")
UPSTREAM_TIMEOUT_SECONDS = 30.0


def _decode_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


def session_kind(host: str, path: str) -> str:
    if path in HUB_PATHS:
        return "neo-hub-proactive" if path.endswith("proactive") else "neo-hub-listen"
    return "notification"


@attrs.define
class CaptureProxy:
    """The ASGI app: forwards to ``upstream`` and records to ``out_dir``."""

    upstream: Target
    out_dir: Path
    keep_audio: bool = False
    scrubber: Scrubber = attrs.field(factory=Scrubber)
    on_event: Callable[[str], None] = lambda _: None
    _http_steps: list[FlowStep] = attrs.field(factory=list)
    _raw_http: list[tuple[dict[str, Any], dict[str, Any]]] = attrs.field(factory=list)
    _sockets: int = 0
    _client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = self.upstream.http_client(timeout=UPSTREAM_TIMEOUT_SECONDS)
                self.out_dir.mkdir(parents=True, exist_ok=True)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- HTTP ---------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = _decode_headers(scope["headers"])
        path = scope["path"] + (
            ("?" + scope["query_string"].decode()) if scope["query_string"] else ""
        )
        forward = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
        host = next((v for k, v in headers if k.lower() == "host"), "")
        forward.append(("Host", host or self.upstream.host_header("api")))
        client = self._client or self.upstream.http_client(timeout=UPSTREAM_TIMEOUT_SECONDS)
        try:
            response = await client.request(
                scope["method"], self.upstream.http_url(path), content=body, headers=forward
            )
        except httpx.HTTPError as exc:
            self.on_event(f"HTTP {scope['method']} {scope['path']}: upstream failed: {exc}")
            await _plain(send, 502, f"capture proxy: upstream failed: {type(exc).__name__}")
            return
        out_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.items()
            if k.lower() not in HOP_HEADERS
        ]
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": out_headers})  # fmt: skip
        await send({"type": "http.response.body", "body": response.content})
        target = next((v for k, v in headers if k.lower() == "x-amz-target"), "")
        self.on_event(f"HTTP {scope['method']} {scope['path']} {target} → {response.status_code}")
        self._raw_http.append(
            (
                {"method": scope["method"], "path": path, "host": host, "headers": headers,
                 "body": _body_value(body)},
                {"status": response.status_code, "body": _body_value(response.content)},
            )
        )  # fmt: skip
        self._write_http()

    def _write_http(self) -> None:
        for request, response in self._raw_http:
            self.scrubber.learn(request["body"])
            self.scrubber.learn(response["body"])
        steps = []
        for request, response in self._raw_http:
            body = self.scrubber.scrub(request["body"])
            steps.append(
                FlowStep(
                    http={
                        "method": request["method"],
                        "path": self.scrubber.text(request["path"]),
                        "headers": _replay_headers(self.scrubber.headers(request["headers"]), body),
                        "body": body,
                    },
                    expected_status=response["status"],
                    expected_json_subset=self.scrubber.scrub(response["body"]),
                )
            )
        hosts = {r["host"] for r, _ in self._raw_http}
        flow = Flow(
            name="captured REST exchanges",
            host_name=hosts.pop() if len(hosts) == 1 else None,
            path="/",
            kind=HTTP_KIND,
            steps=steps,
        )
        _write_json(self.out_dir / "http.flow.json", flow_to_json(flow))

    def finish(self) -> None:
        """Rewrite the HTTP flow with everything learned since (names seen on sockets)."""
        if self._raw_http:
            self._write_http()

    # -- WebSocket ----------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _decode_headers(scope["headers"])
        host = next((v for k, v in headers if k.lower() == "host"), "")
        path = scope["path"]
        forward = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
        self._sockets += 1
        number = self._sockets
        frames: list[FrameRecord] = []
        start = trio.current_time()
        kind = session_kind(host, path)
        # The notification socket's path is the robot's token: never printed.
        shown = "/<robot token>" if kind == "notification" else path
        first = await receive()  # websocket.connect
        if first["type"] != "websocket.connect":
            return
        try:
            async with open_socket(
                self.upstream, "hub", path, headers=forward, host_header=host or None
            ) as upstream:
                await send({"type": "websocket.accept"})
                self.on_event(f"socket {number} {shown}: open")
                await _pump(upstream, receive, send, frames, start)
        except SocketRejected as rejected:
            self.on_event(f"socket {number} {shown}: upstream refused {rejected.status}")
            frames.append(
                FrameRecord(0.0, HUB, "rejected", raw=rejected.body, code=rejected.status)
            )
            await _refuse(scope, send, rejected)
        except ToolError:  # its text names the path, which may be a token: not printed
            self.on_event(f"socket {number} {shown}: upstream unreachable")
            await send({"type": "websocket.close", "code": 1011})
        finally:
            # Also on shutdown (cancellation): a notification socket stays open all day.
            token = path.strip("/") if kind == "notification" else None
            self._write_socket(number, host, path, kind, token, headers, frames)
            self.on_event(f"socket {number} {shown}: closed, {len(frames)} frames recorded")

    def _write_socket(
        self,
        number: int,
        host: str,
        path: str,
        kind: str,
        token: str | None,
        headers: list[tuple[str, str]],
        frames: list[FrameRecord],
    ) -> None:
        fake_path = "/" + self.scrubber.remember(token) if token else self.scrubber.text(path)
        for frame in frames:
            self.scrubber.learn(frame.obj)
        steps: list[FlowStep] = []
        for frame in frames:
            if frame.sender == ROBOT and frame.kind == "binary" and frame.raw_bytes is not None:
                steps.append(FlowStep(binary=frame.raw_bytes, expected_types=[]))
            elif frame.sender == ROBOT and frame.kind == "text":
                text = self.scrubber.scrub(frame.obj) if frame.obj is not None else frame.raw
                steps.append(FlowStep(text=text, expected_types=[]))
            elif frame.sender == HUB and frame.kind == "text":
                if not steps:
                    steps.append(FlowStep(text=None, expected_types=[]))
                step = steps[-1]
                assert step.expected_types is not None
                step.expected_types.append(frame.type or "<not JSON>")
                if isinstance(frame.obj, dict):
                    subset = {k: v for k, v in frame.obj.items() if k not in VOLATILE_FIELDS}
                    step.expected_replies.append(
                        ExpectedReply(frame.type or "", self.scrubber.scrub(subset))
                    )
        bearer = next((v for k, v in headers if k.lower() == "authorization"), None)
        scrubbed_auth = self.scrubber.headers([("Authorization", bearer)]) if bearer else {}
        flow = Flow(
            name=f"captured {kind} socket {number}",
            host_name=host,
            path=fake_path,
            kind=kind,
            token=scrubbed_auth.get("Authorization", "").removeprefix("Bearer ") or None,
            steps=[s for s in steps if s.text is not None or s.binary is not None],
        )
        doc = flow_to_json(flow, keep_audio=self.keep_audio)
        doc["frames"] = [_frame_summary(f) for f in frames]
        _write_json(self.out_dir / f"{number:04d}-{kind}.flow.json", doc)


def _replay_headers(headers: dict[str, str], body: Any) -> dict[str, str]:
    """Headers as replay will send them: the body hash recomputed for the scrubbed body.

    The original hash would let anyone confirm a guess of the personal values it covered.
    """
    out = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    for name, value in headers.items():
        if name.lower() == "x-amz-content-sha256" and value != "UNSIGNED-PAYLOAD":
            raw = (
                b""
                if body is None
                else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            )
            out[name] = hashlib.sha256(raw).hexdigest()
    return out


def _frame_summary(frame: FrameRecord) -> dict[str, Any]:
    """Timing facts of a frame (no payload: the steps hold the scrubbed payloads)."""
    out: dict[str, Any] = {"t_ms": round(frame.t_ms, 3), "from": frame.sender, "kind": frame.kind}
    if frame.type:
        out["type"] = frame.type
    if frame.kind == "binary":
        out["size"] = frame.size
    if frame.code is not None:
        out["code"] = frame.code
    return out


async def _pump(
    upstream: WebSocketConnection,
    receive: Receive,
    send: Send,
    frames: list[FrameRecord],
    start: float,
) -> None:
    """Forward frames both ways until either side closes; record each with its time."""

    def elapsed() -> float:
        return (trio.current_time() - start) * 1000.0

    async with trio.open_nursery() as nursery:

        async def robot_to_hub() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    frames.append(FrameRecord(elapsed(), ROBOT, "close", code=message.get("code")))
                    nursery.cancel_scope.cancel()
                    return
                if message.get("text") is not None:
                    frames.append(FrameRecord.text(elapsed(), ROBOT, message["text"]))
                    payload: str | bytes = message["text"]
                else:
                    payload = message.get("bytes") or b""
                    record = FrameRecord(elapsed(), ROBOT, "binary", size=len(payload))
                    record.raw_bytes = bytes(payload)
                    frames.append(record)
                try:
                    await upstream.send_message(payload)
                except ConnectionClosed:
                    return

        async def hub_to_robot() -> None:
            try:
                while True:
                    message = await upstream.get_message()
                    if isinstance(message, str):
                        frames.append(FrameRecord.text(elapsed(), HUB, message))
                        await send({"type": "websocket.send", "text": message})
                    else:
                        frames.append(FrameRecord(elapsed(), HUB, "binary", size=len(message)))
                        await send({"type": "websocket.send", "bytes": message})
            except ConnectionClosed as exc:
                code = getattr(exc.reason, "code", None) or 1000
                frames.append(FrameRecord(elapsed(), HUB, "close", code=code))
                await send({"type": "websocket.close", "code": code})
                nursery.cancel_scope.cancel()

        nursery.start_soon(robot_to_hub)
        nursery.start_soon(hub_to_robot)


async def _refuse(scope: Scope, send: Send, rejected: SocketRejected) -> None:
    """Answer the robot's upgrade with the upstream's own status and reason."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": rejected.status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": rejected.body.encode()})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")]})  # fmt: skip
    await send({"type": "http.response.body", "body": text.encode()})


def _body_value(raw: bytes) -> Any:
    """A body as JSON when it is JSON, else as text when it is text, else its length."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"binaryLength": len(raw)}


def _write_json(path: Path, doc: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


async def serve_capture(
    proxy: CaptureProxy,
    listen: str,
    *,
    certfile: str | None = None,
    keyfile: str | None = None,
    shutdown_trigger: Callable[[], Awaitable[None]] | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``proxy`` on ``listen`` (``HOST:PORT``; port 0 picks one) until the trigger fires.

    ``task_status`` receives the bound addresses. With a certificate and key the proxy speaks
    TLS, as a robot expects from ``api.jibo.com``.
    """
    from hypercorn.config import Config as HypercornConfig
    from hypercorn.trio import serve

    config = HypercornConfig()
    config.bind = [listen]
    # On shutdown, open sockets (a notification socket stays open all day) get this long to
    # finish; then they are cancelled and their flows written.
    config.graceful_timeout = 1.0
    config.accesslog = None
    config.websocket_max_message_size = 16 * 1024 * 1024
    if certfile and keyfile:
        config.certfile, config.keyfile = certfile, keyfile
    try:
        await serve(
            proxy,  # type: ignore[arg-type]
            config,
            shutdown_trigger=shutdown_trigger,
            task_status=task_status,
        )
    finally:
        proxy.finish()
