"""Gallery thumbnails: each photo scaled down once, on its first request, and kept in the blob
store beside the photo (``<photo key>.thumb``, in the folder or the S3 bucket alike).

Decoding and scaling use PyAV (FFmpeg's JPEG, PNG, GIF and WebP decoders, its scaler and its
MJPEG encoder), already a dependency for speech, so no image library is added. The work runs
in a worker thread (never on the event loop), at most :data:`MAX_PARALLEL` at a time per server
process, and only on photos of at most :data:`MAX_PHOTO_BYTES` and :data:`MAX_PIXELS`.

A photo that cannot be made into a thumbnail (corrupt, not an image, too large) gets
:data:`PLACEHOLDER` and one log line; an empty blob is kept as its thumbnail, so it is not
tried again at every view of the gallery. Nothing here answers 500.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from fractions import Fraction

import trio

from jibo_cloud.storage.blobs import Blobs

log = logging.getLogger(__name__)

#: The longest side of a thumbnail, in pixels (the gallery shows 240 x 180; twice that would
#: be sharper on dense screens but four times the bytes).
THUMB_SIDE = 320
#: Photos larger than this are not decoded for a thumbnail (Jibo's camera makes ~1 MB).
MAX_PHOTO_BYTES = 25 * 1024 * 1024
#: Nor images of more pixels than this (a decoded 40 MP frame is ~120 MB of memory).
MAX_PIXELS = 40_000_000
#: Thumbnails made at once per server process (each holds a decoded photo in memory).
MAX_PARALLEL = 2
THUMB_SUFFIX = ".thumb"
PLACEHOLDER = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="180" viewBox="0 0 240 180">'
    b'<rect width="240" height="180" fill="#e4e4e4"/><text x="120" y="95" font-size="16"'
    b' text-anchor="middle" fill="#555" font-family="sans-serif">No preview</text></svg>'
)
PLACEHOLDER_TYPE = "image/svg+xml"

_limiter = trio.CapacityLimiter(MAX_PARALLEL)


class NotAnImage(Exception):
    """The bytes are not an image this module can scale (the message says why)."""


def thumb_key(photo_key: str) -> str:
    return photo_key + THUMB_SUFFIX


def with_thumbnails(photo_keys: Iterable[str | None]) -> list[str]:
    """The blobs of deleted photos: each photo's and its thumbnail's (None skipped). Every
    path that deletes a photo deletes both: the portal's Photos page and the REST Media
    service (``Remove``, and ``Create`` over an existing path)."""
    return [key for photo in photo_keys if photo for key in (photo, thumb_key(photo))]


def fitted(width: int, height: int, side: int = THUMB_SIDE) -> tuple[int, int]:
    """``width`` x ``height`` scaled to fit ``side`` (never up), both even (MJPEG's 4:2:0)."""
    scale = min(1.0, side / max(width, height))
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def make_thumbnail(data: bytes) -> bytes:
    """A JPEG of ``data`` scaled to fit :data:`THUMB_SIDE`. Blocking: run it in a thread.

    Raises:
        NotAnImage: not decodable, no picture in it, or larger than the limits.
    """
    import av  # here: the REST media service imports this module for thumb_key alone

    if len(data) > MAX_PHOTO_BYTES:
        raise NotAnImage(f"{len(data)} bytes is more than {MAX_PHOTO_BYTES}")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise NotAnImage("no picture in it")
            stream = container.streams.video[0]
            declared = (stream.codec_context.width or 0) * (stream.codec_context.height or 0)
            if declared > MAX_PIXELS:
                raise NotAnImage(f"{declared} pixels is more than {MAX_PIXELS}")
            frame = next(container.decode(stream), None)
    except av.FFmpegError as exc:
        raise NotAnImage(f"FFmpeg: {type(exc).__name__}") from None
    if frame is None or frame.width * frame.height > MAX_PIXELS:
        raise NotAnImage("no decodable frame")
    width, height = fitted(frame.width, frame.height)
    small = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.options = {"qmin": "2", "qmax": "6"}
    packets = [*encoder.encode(small), *encoder.encode(None)]
    return b"".join(bytes(p) for p in packets)


async def thumbnail(blobs: Blobs, photo_key: str, label: str) -> tuple[bytes, str]:
    """The photo's thumbnail and its content type: the stored one, else made now and stored,
    else the placeholder. ``label`` names the photo in the log (never its bytes)."""
    key = thumb_key(photo_key)
    kept = await blobs.read(key)
    if kept is not None:
        return (kept, "image/jpeg") if kept else (PLACEHOLDER, PLACEHOLDER_TYPE)
    data = await blobs.read(photo_key)
    if data is None:
        return PLACEHOLDER, PLACEHOLDER_TYPE
    try:
        made = await trio.to_thread.run_sync(make_thumbnail, data, limiter=_limiter)
    except NotAnImage as exc:
        log.warning("no thumbnail for photo %s: %s", label, exc)
        made = b""
    except Exception as exc:  # a decoder's surprise must not become a 500 on the gallery
        log.warning("no thumbnail for photo %s: %s", label, type(exc).__name__)
        made = b""
    await blobs.write(key, made)  # b"": do not try again
    # The photo may have been deleted while this one was being made: leave nothing behind.
    still = await blobs.open_reader(photo_key)
    if still is None:
        await blobs.delete(key)
    else:
        await still.aclose()
    return (made, "image/jpeg") if made else (PLACEHOLDER, PLACEHOLDER_TYPE)
