"""Request bodies read from raw ASGI, capped in size and in time; answers sent the same way.

Two ways to take a body:

- :func:`read_body`: small bodies (``POST /`` JSON calls, capped at ``max_rest_body``) into
  memory;
- :func:`stream_body`: upload-sized bodies handed chunk by chunk to a sink (a
  :class:`jibo_cloud.storage.blobs.BlobWriter`), so a 64 MB upload never sits in memory and
  20 stalled uploads hold 20 temporary files, not 20 bodies.

Both stop at ``limit`` bytes (413 ``RequestEntityTooLargeException``, checked against the
declared ``Content-Length`` before reading and against the bytes received while reading) and
give the whole body ``time_limit`` seconds (``config.body_timeout``; else 408
``RequestTimeoutException``): a slow or stalled client no longer holds a connection, a
descriptor and a buffer forever. Refusals mid-body close the connection
(``Connection: close``): the rest of that body is never read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio

from jibo_cloud.rest.dispatch import HttpAnswer, error_answer
from jibo_cloud.rest.quota import disk_full
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.blobs import Blobs, BlobWriter

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Sink = Callable[[bytes], Awaitable[None]]
#: Called with the bytes received so far; raises :class:`BodyRefused` to stop (quota, disk).
Progress = Callable[[int], Awaitable[None]]


class BodyRefused(Exception):
    """The body is not taken: ``answer`` says why; ``close`` ends the connection after it."""

    def __init__(self, answer: HttpAnswer, *, close: bool = True) -> None:
        super().__init__(answer.status)
        self.answer = answer
        self.close = close


class ClientGone(Exception):
    """The client disconnected before its body was complete (nothing to answer)."""


def too_large(limit: int) -> BodyRefused:
    answer = error_answer(
        "RequestEntityTooLargeException", f"the body is larger than {limit} bytes", 413
    )
    return BodyRefused(answer)


def timed_out(seconds: float) -> BodyRefused:
    answer = error_answer(
        "RequestTimeoutException", f"the body did not arrive within {seconds:g} seconds", 408
    )
    return BodyRefused(answer)


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The ``Content-Length`` the client declared, or None (chunked, or not a number)."""
    raw = headers.get("content-length", "")
    return int(raw) if raw.isdigit() else None


async def stream_body(
    receive: Receive,
    sink: Sink,
    *,
    limit: int,
    time_limit: float,
    progress: Progress | None = None,
    progress_every: int = 4 * 1024 * 1024,
) -> int:
    """Pass the request body to ``sink`` chunk by chunk; returns its length.

    ``progress`` runs after each ``progress_every`` bytes (and once at the end) so quota and
    free-disk checks see the body grow. The declared length is the caller's to check first.

    Raises:
        BodyRefused: larger than ``limit`` (413), slower than ``time_limit`` seconds (408),
            or refused by ``progress``.
        ClientGone: the client disconnected mid-body.
    """
    received = 0
    next_check = progress_every
    with trio.move_on_after(time_limit) as deadline:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise too_large(limit)
            if chunk:
                await sink(chunk)
            if progress is not None and received >= next_check:
                await progress(received)
                next_check = received + progress_every
            if not message.get("more_body", False):
                break
        if progress is not None:
            await progress(received)
        return received
    assert deadline.cancelled_caught
    raise timed_out(time_limit)


async def read_body(receive: Receive, *, limit: int, time_limit: float) -> bytes:
    """A small body, whole, in memory (``limit`` is the REST cap, 1 MB by default).

    Raises:
        BodyRefused, ClientGone: as :func:`stream_body`.
    """
    parts: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        parts.append(chunk)

    await stream_body(receive, keep, limit=limit, time_limit=time_limit)
    return b"".join(parts)


class _Spool:
    """A sink that keeps up to ``threshold`` bytes in memory, then moves to a temporary file."""

    def __init__(self, blobs: Blobs, threshold: int) -> None:
        self._blobs = blobs
        self._threshold = threshold
        self._parts: list[bytes] = []
        self._size = 0
        self._writer: BlobWriter | None = None

    async def write(self, chunk: bytes) -> None:
        if self._writer is None and self._size + len(chunk) <= self._threshold:
            self._parts.append(chunk)
            self._size += len(chunk)
            return
        if self._writer is None:
            self._writer = await self._blobs.open_writer("spool")
            for part in self._parts:
                await self._writer.write(part)
            self._parts.clear()
        await self._writer.write(chunk)

    async def value(self) -> bytes:
        if self._writer is None:
            return b"".join(self._parts)
        await self._writer.flush()
        return await trio.Path(self._writer.temp_path).read_bytes()

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.discard()


async def read_request_body(
    rt: Runtime, receive: Receive, *, limit: int, time_limit: float
) -> bytes:
    """A ``POST /`` body: JSON calls in memory; a binary payload (``Media.Create`` …, up to
    ``max_upload_body``) beyond ``max_rest_body`` waits in a temporary file until it is whole,
    so a stalled or slow client holds a file, not memory, and the free-disk watermark applies
    while it arrives. The complete body is then handed to the handler as bytes (``call.raw``).

    Raises:
        BodyRefused, ClientGone: as :func:`stream_body`.
    """
    threshold = rt.config.max_rest_body
    if limit <= threshold or rt.blobs is None:
        return await read_body(receive, limit=limit, time_limit=time_limit)
    spool = _Spool(rt.blobs, threshold)

    async def progress(received: int) -> None:
        refusal = disk_full(rt.blobs.root, rt.config.min_free_disk, 0)
        if refusal is not None:
            raise BodyRefused(error_answer(refusal.code, refusal.message, refusal.status))

    try:
        await stream_body(receive, spool.write, limit=limit, time_limit=time_limit,
                          progress=progress)  # fmt: skip
        return await spool.value()
    finally:
        spool.discard()


async def send_answer(send: Send, answer: HttpAnswer, *, close: bool = False) -> None:
    """Send ``answer`` whole (with its length; ``Connection: close`` when ``close``)."""
    headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def send_refusal(send: Send, refused: BodyRefused) -> None:
    await send_answer(send, refused.answer, close=refused.close)
