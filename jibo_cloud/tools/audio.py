"""Audio for the simulator: an Ogg/Opus file split into pages, one binary frame each (§4.3).

Robots send one binary frame per Ogg page, about two pages a second. Splitting needs only the
page header (RFC 3533): 27 bytes, then the segment table; the page's duration comes from the
granule position, which Opus counts at 48 kHz (RFC 7845) whatever the input rate.
"""

from __future__ import annotations

import struct
from pathlib import Path

from jibo_cloud.tools.target import ToolError

OGG_CAPTURE = b"OggS"
OGG_HEADER_BYTES = 27
OPUS_GRANULE_RATE = 48_000


def split_pages(data: bytes) -> list[tuple[bytes, float]]:
    """Split an Ogg stream into ``(page, seconds of audio in it)``.

    Raises:
        ToolError: the bytes are not a well-formed sequence of Ogg pages.
    """
    pages: list[tuple[bytes, float]] = []
    offset = 0
    last_granule = 0
    while offset < len(data):
        header = data[offset : offset + OGG_HEADER_BYTES]
        if len(header) < OGG_HEADER_BYTES or not header.startswith(OGG_CAPTURE):
            raise ToolError(f"not an Ogg page at byte {offset}")
        granule = struct.unpack_from("<q", header, 6)[0]
        segments = header[26]
        table = data[offset + OGG_HEADER_BYTES : offset + OGG_HEADER_BYTES + segments]
        if len(table) < segments:
            raise ToolError(f"truncated Ogg page at byte {offset}")
        end = offset + OGG_HEADER_BYTES + segments + sum(table)
        if end > len(data):
            raise ToolError(f"truncated Ogg page at byte {offset}")
        seconds = 0.0
        if granule > last_granule:
            seconds = (granule - last_granule) / OPUS_GRANULE_RATE
            last_granule = granule
        pages.append((data[offset:end], seconds))
        offset = end
    if not pages:
        raise ToolError("no Ogg pages in the audio")
    return pages


def load_audio_file(path: Path) -> list[tuple[bytes, float]]:
    """An Ogg/Opus file's pages (the format robots stream by default)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from None
    return split_pages(data)
