"""The access log and the per-address rate limits, as one ASGI middleware around the whole app.

One JSON line per HTTP request, and one per websocket when it ends::

    {"time":"2026-12-05T15:03:14.123Z","client":"203.0.113.7","principal":"robot:my-robot",
     "kind":"http","method":"POST","target":"Account_20160715.Login","path":"/",
     "status":200,"in":57,"out":412,"ms":3.1}

- ``client``: :mod:`jibo_cloud.clientaddr`'s rule (``X-Forwarded-For`` only from trusted
  proxies). ``principal``: what the request proved to be (``robot:<name>``, ``account:<id>``,
  ``operator``), noted by the code that identified it with :func:`note_principal`; ``-``
  when nobody was identified.
- ``path`` never carries the query string (signed blob URLs hold their credentials there),
  and a notification socket's path (its robot token) is written ``/[token]``.
- websockets: ``status`` is the handshake's (101 accepted, else the refusal's status) and
  ``close`` the close code; ``in``/``out`` count message bytes.

The lines go to ``config.access_log`` (``""``: ``DATA_DIR/access.log``, created 0600; ``-``:
standard output; ``off``: nowhere), never into the diagnostic log, and through
:func:`jibo_cloud.logs.redact` (see :class:`AccessLog`).

Rate limits (:mod:`jibo_cloud.ratelimit`) are applied here, before the app
sees anything: requests and handshakes per client address, and failed authentications (a
401, or a 403 to a caller nobody identified, answered to a request or a handshake) per
address per minute, beyond which the address gets 429 for the rest of the minute. HTTP
refusals are AWS JSON 429 ``ThrottlingException`` with ``Retry-After``; a websocket is
refused before the upgrade with the same 429 (ASGI ``websocket.http.response``), or closed
before accept (hypercorn then answers 403) where the server lacks that extension.
Per-principal limits are charged by the code that identifies the caller, through
:func:`charge_principal`.

The per-request state lives in a :class:`contextvars.ContextVar` holding a small mutable
:class:`RequestRecord`: trio copies the context into child tasks (Quart handles a request in
one), and the record is shared by reference, so a note made deep in a handler reaches the
line written here.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs
import trio

from jibo_cloud import jsontext
from jibo_cloud.clientaddr import ForwardingConfig, scope_client_address
from jibo_cloud.errors import ConfigError
from jibo_cloud.logs import redact
from jibo_cloud.ratelimit import Limits

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from quart_trio import QuartTrio

    from jibo_cloud.runtime import Runtime

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Quart's asgi_app has hypercorn's typed events

#: Where :func:`install` leaves the middleware in ``app.extensions``.
EXTENSION = "jibo_cloud.access"
DEFAULT_FILE_NAME = "access.log"
#: Statuses that count as a failed authentication for the per-address window (403 only when
#: nobody was identified: see :func:`is_failed_authentication`).
AUTH_FAILURE_STATUSES = frozenset((401, 403))
THROTTLED = "ThrottlingException"
#: The status logged for a request whose client left before any answer (nginx's 499).
CLIENT_LEFT = 499
_AWS_JSON = b"application/x-amz-json-1.1"
#: Longest header-derived text (method, target, path) kept in a line.
_MAX_FIELD = 256


@attrs.define
class RequestRecord:
    """What one request or socket has learnt about itself so far (mutable, per request)."""

    client: str
    limits: Limits | None = None
    principal: str = "-"
    #: Seconds a 429 answer should tell the caller to wait (set by :func:`charge_principal`).
    retry_after: float = 0.0


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "jibo_access_record", default=None
)


def current_request() -> RequestRecord | None:
    """The record of the request or socket this task serves, or None outside the middleware."""
    return _current.get()


def current_client() -> str | None:
    """The client address of the current request (the one rule), or None outside one."""
    record = _current.get()
    return record.client if record is not None else None


def note_principal(principal: str) -> None:
    """Name who the current request proved to be (``robot:<name>``, ``account:<id>``,
    ``operator``) for its access-log line. No-op outside the middleware (unit tests)."""
    record = _current.get()
    if record is not None:
        record.principal = _text(principal, 128)


def charge_principal(principal: str) -> bool:
    """Note ``principal`` and spend one request of its per-principal rate limit.

    Returns:
        True when the request may go on; False when the principal is over its limit, and the
        caller answers 429 ``ThrottlingException`` (the middleware adds ``Retry-After``).
        Always True outside the middleware.
    """
    record = _current.get()
    if record is None:
        return True
    record.principal = _text(principal, 128)
    if record.limits is None:
        return True
    wait = record.limits.admit_principal(principal, trio.current_time())
    if wait > 0:
        record.retry_after = wait
        return False
    return True


def is_failed_authentication(status: int, principal: str) -> bool:
    """Whether an answer counts against its address's failed-authentication window.

    401 always (a wrong password, a refused token). 403 only when the request identified
    nobody (:func:`note_principal` was not called): a bad signature, an unknown key, a
    forged blob URL. A robot that proved who it is and is refused one operation by the
    policy (``AccessDeniedException``) is not guessing credentials, and cutting its whole
    address off for a minute would take the household's robot offline over one denied call.
    """
    return status == 401 or (status in AUTH_FAILURE_STATUSES and principal == "-")


def _text(value: str, limit: int = _MAX_FIELD) -> str:
    if len(value) <= limit and value.isprintable():
        return value
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in value[: limit + 1])
    return cleaned[:limit]


class AccessLog:
    """Where access lines go: a line-buffered text stream of its own, or nowhere.

    Not a :mod:`logging` handler: nothing configured on the root logger can route access
    lines into the diagnostic log or the other way round, two servers in one process (the
    test suite) never share a destination, and a line costs a third of what a
    ``LogRecord`` through a handler costs (one per request on the hottest path). Every line
    passes through :func:`jibo_cloud.logs.redact`, as the diagnostic log's lines do.
    """

    def __init__(self, stream: IO[str] | None, *, owns_stream: bool) -> None:
        self._stream = stream
        self._owns_stream = owns_stream

    @classmethod
    def open(cls, access_log: str, data_dir: Path) -> AccessLog:
        """Open the destination ``config.access_log`` names.

        Raises:
            ConfigError: the file cannot be opened (one clear line at start-up).
        """
        where = access_log.strip()
        if where.lower() == "off":
            return cls(None, owns_stream=False)
        if where == "-":
            import sys

            return cls(sys.stdout, owns_stream=False)
        path = Path(where).expanduser() if where else data_dir / DEFAULT_FILE_NAME
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(
                f"JIBO_ACCESS_LOG: cannot open {str(path)!r}: {exc.strerror or exc}"
            ) from None
        return cls(os.fdopen(fd, "a", encoding="utf-8", buffering=1), owns_stream=True)

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def write(self, entry: Mapping[str, Any]) -> None:
        if self._stream is not None:
            line = redact(jsontext.dumps(entry))
            self._stream.write(line + "\n")

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and self._owns_stream:
            stream.close()


#: The last second formatted (seconds since the epoch, its ISO text): every line within a
#: second shares it, and only the milliseconds are formatted per line. One tuple, replaced
#: whole, so a reader in another thread never pairs one second with another's text.
_last_second: tuple[int, str] = (-1, "")


def _timestamp(ms: int) -> str:
    """``2026-12-06T17:12:42.123Z``: exact integer milliseconds (no float rounding)."""
    global _last_second
    second, milli = divmod(ms, 1000)
    cached = _last_second
    if cached[0] != second:
        cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        _last_second = cached
    return f"{cached[1]}.{milli:03d}Z"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if bytes(key).lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _throttle_body(message: str) -> bytes:
    return json.dumps({"__type": THROTTLED, "message": message}).encode()


def _throttle_headers(body: bytes, wait: float) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", _AWS_JSON),
        (b"x-amzn-errortype", THROTTLED.encode()),
        (b"retry-after", _retry_after(wait)),
        (b"content-length", str(len(body)).encode()),
    ]


def _retry_after(wait: float) -> bytes:
    return str(max(1, math.ceil(wait))).encode()


def throttled_answer(
    limits: Limits, client: str, now: float, wait: float
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The 429 ``ThrottlingException`` answer (headers, body) for ``client``, refused for
    ``wait`` more seconds: what the middleware answers, for the edge's own sockets."""
    body = _throttle_body(_throttle_message(limits, client, now))
    return _throttle_headers(body, wait), body


def serving(record: RequestRecord) -> contextvars.Token[RequestRecord | None]:
    """Make ``record`` the current request's (:func:`current_request`) until
    :func:`served` with the returned token: for sockets the edge serves itself."""
    return _current.set(record)


def served(token: contextvars.Token[RequestRecord | None]) -> None:
    """Undo :func:`serving`."""
    _current.reset(token)


def _throttle_message(limits: Limits, client: str, now: float) -> str:
    if limits.failures.blocked(client, now):
        return "too many failed authentications from this address; retry later"
    return "too many requests from this address; retry later"


@attrs.define
class AccessMiddleware:
    """The ASGI app wrapping the whole server (see the module docstring)."""

    app: ASGIApp
    forwarding: ForwardingConfig
    limits: Limits
    log: AccessLog
    now_ms: Callable[[], int]
    #: Websocket paths written as they are; any other single-segment path is a robot token.
    socket_paths: Collection[str] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:  # lifespan
            await self.app(scope, receive, send)

    def entry(self, scope: Scope, record: RequestRecord, ms: int) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": _timestamp(ms),
            "client": record.client,
            "principal": record.principal,
        }
        if scope.get("type") == "websocket":
            entry["kind"] = "ws"
            entry["method"] = "GET"
            entry["path"] = self._socket_path(str(scope.get("path", "")))
        else:
            entry["kind"] = "http"
            entry["method"] = _text(str(scope.get("method", "")), 16)
            target = _header(scope, b"x-amz-target")
            if target is not None:
                entry["target"] = _text(target, 128)
            # scope["path"] never holds the query string (ASGI: query_string is separate).
            entry["path"] = _text(str(scope.get("path", "")))
        return entry

    def _socket_path(self, path: str) -> str:
        if path in self.socket_paths or path.count("/") != 1 or len(path) <= 1:
            return _text(path)
        return "/[token]"  # PROTOCOL.md §3: the notification socket's path is its token

    def finish(
        self, entry: dict[str, Any], record: RequestRecord, status: int, started: float
    ) -> None:
        now = trio.current_time()
        failed = is_failed_authentication(status, record.principal)
        if failed and self.limits.failed_authentication(record.client, now):
            # Once per address and window, so a flood does not flood the diagnostic log.
            log.warning(
                "%s: %d failed authentications within %d s; refused until the window ends",
                record.client,
                self.limits.failures.limit,
                self.limits.failures.window,
            )
        if self.log.enabled:
            entry["principal"] = record.principal
            entry["status"] = status
            entry["ms"] = round((now - started) * 1000, 1)
            self.log.write(entry)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = trio.current_time()
        record = RequestRecord(scope_client_address(scope, self.forwarding), self.limits)
        entry = self.entry(scope, record, self.now_ms())
        wait = self.limits.admit_request(record.client, started)
        if wait:
            headers, body = throttled_answer(self.limits, record.client, started, wait)
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            entry.update({"in": 0, "out": len(body)})
            self.finish(entry, record, 429, started)
            return
        counts = {"in": 0, "out": 0}
        status = 0
        left = False

        async def counting_receive() -> Message:
            nonlocal left
            message = await receive()
            if message.get("type") == "http.request":
                counts["in"] += len(message.get("body", b""))
            elif message.get("type") == "http.disconnect":
                left = True
            return message

        async def watching_send(message: Message) -> None:
            nonlocal status
            kind = message.get("type")
            if kind == "http.response.start":
                status = int(message.get("status", 0))
                if status == 429:
                    message = _with_retry_after(message, record.retry_after)
            elif kind == "http.response.body":
                counts["out"] += len(message.get("body", b""))
            await send(message)

        token = _current.set(record)
        try:
            await self.app(scope, counting_receive, watching_send)
        finally:
            _current.reset(token)
            entry.update(counts)
            # No answer started: the client left (499, nginx's "client closed request"), or
            # the app raised or returned without answering (hypercorn answers 500).
            self.finish(entry, record, status or (CLIENT_LEFT if left else 500), started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = trio.current_time()
        record = RequestRecord(scope_client_address(scope, self.forwarding), self.limits)
        entry = self.entry(scope, record, self.now_ms())
        wait = self.limits.admit_handshake(record.client, started)
        if wait:
            await receive()  # websocket.connect (ASGI: the first event of the scope)
            status = await _refuse_socket(scope, send, wait, self.limits, record.client)
            entry.update({"in": 0, "out": 0})
            self.finish(entry, record, status, started)
            return
        counts = {"in": 0, "out": 0}
        status = 0
        close_code: int | None = None

        async def counting_receive() -> Message:
            nonlocal close_code
            message = await receive()
            kind = message.get("type")
            if kind == "websocket.receive":
                counts["in"] += _frame_size(message)
            elif kind == "websocket.disconnect" and close_code is None:
                close_code = int(message.get("code", 1005))
            return message

        async def watching_send(message: Message) -> None:
            nonlocal status, close_code
            kind = message.get("type")
            if kind == "websocket.send":
                counts["out"] += _frame_size(message)
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.http.response.start":
                status = int(message.get("status", 0))
            elif kind == "websocket.close":
                if status == 0:
                    status = 403  # closed before accept: hypercorn answers 403
                elif close_code is None:
                    close_code = int(message.get("code", 1000))
            await send(message)

        token = _current.set(record)
        try:
            await self.app(scope, counting_receive, watching_send)
        finally:
            _current.reset(token)
            entry.update(counts)
            if close_code is not None:
                entry["close"] = close_code
            self.finish(entry, record, status or 500, started)


def _frame_size(message: Message) -> int:
    data = message.get("bytes")
    if data is not None:
        return len(data)
    text = message.get("text")
    return len(text.encode()) if text is not None else 0


def _with_retry_after(message: Message, wait: float) -> Message:
    """A 429 the app produced (per-principal limit) gets ``Retry-After`` if it lacks one."""
    headers = list(message.get("headers", ()))
    if any(bytes(name).lower() == b"retry-after" for name, _ in headers):
        return message
    headers.append((b"retry-after", _retry_after(wait or 1.0)))
    return {**message, "headers": headers}


async def _refuse_socket(scope: Scope, send: Send, wait: float, limits: Limits, client: str) -> int:
    """Refuse an upgrade before accepting it; returns the status the client sees."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return 403
    headers, body = throttled_answer(limits, client, trio.current_time(), wait)
    await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})
    return 429


def install(
    app: QuartTrio, runtime: Runtime, *, socket_paths: Collection[str] = ()
) -> AccessMiddleware:
    """Wrap ``app.asgi_app`` (what Quart's ``__call__`` runs) in the access middleware.

    Call it last, after every other wrapper, so it sees every request and socket. The access
    log file is opened here (a bad path is a :class:`ConfigError` at start-up) and closed
    when the app stops serving.
    """
    config = runtime.config
    access_log = AccessLog.open(config.access_log, config.data_dir)
    limits = Limits.from_config(
        rate_per_address=config.rate_per_address,
        handshakes_per_address=config.handshakes_per_address,
        auth_failures_per_minute=config.auth_failures_per_minute,
        rate_per_principal=config.rate_per_principal,
    )
    middleware = AccessMiddleware(
        app.asgi_app, config, limits, access_log, runtime.now_ms, frozenset(socket_paths)
    )
    app.asgi_app = middleware  # type: ignore[method-assign,assignment]
    app.extensions[EXTENSION] = middleware

    @app.after_serving
    async def close_access_log() -> None:
        access_log.close()

    return middleware
