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


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04c11db7, no reflection; RFC 3533)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ byte]
    return crc


def build_page(
    body: bytes, *, header_type: int = 0, granule: int = 0, serial: int = 1, sequence: int = 0
) -> bytes:
    """One Ogg page holding ``body`` as a single packet, with a correct checksum.

    Raises:
        ToolError: ``body`` does not fit one page (255 segments of 255 bytes).
    """
    lacing = [255] * (len(body) // 255) + [len(body) % 255]
    if len(lacing) > 255:
        raise ToolError(f"{len(body)} bytes do not fit one Ogg page")
    header = OGG_CAPTURE + struct.pack(
        "<BBqIIIB", 0, header_type, granule, serial, sequence, 0, len(lacing)
    )
    page = bytearray(header + bytes(lacing) + body)
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def opus_head(channels: int = 1, pre_skip: int = 0, rate: int = 16_000) -> bytes:
    """An ``OpusHead`` identification packet (RFC 7845 §5.1)."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, rate, 0, 0)


def opus_tags(vendor: str = "jibo-cloud") -> bytes:
    """An ``OpusTags`` comment packet with no comments (RFC 7845 §5.2)."""
    raw = vendor.encode()
    return b"OpusTags" + struct.pack("<I", len(raw)) + raw + struct.pack("<I", 0)


def ogg_facts(data: bytes) -> dict[str, object]:
    """Header facts of a binary frame, in the sanitized captures' ``{length, ogg}`` form.

    Capture writes these instead of the audio (which holds voices); replay rebuilds pages with
    the same facts and length (:func:`jibo_cloud.tools.flows.rebuild_audio`).
    """
    try:
        pages = split_pages(data)
    except ToolError:
        return {"length": len(data)}
    facts = []
    for page, _seconds in pages:
        segments = page[26]
        body = page[OGG_HEADER_BYTES + segments :]
        fact: dict[str, object] = {
            "header_type": page[5],
            "granule_position": struct.unpack_from("<q", page, 6)[0],
            "serial": struct.unpack_from("<I", page, 14)[0],
            "page_sequence": struct.unpack_from("<I", page, 18)[0],
            "segment_count": segments,
            "body_length": len(body),
        }
        if body.startswith(b"OpusHead") and len(body) >= 19:
            fact["is_opus_head"] = True
            channels, pre_skip, rate = struct.unpack_from("<BHI", body, 9)
            fact["opus_head"] = {
                "channel_count": channels,
                "pre_skip": pre_skip,
                "input_sample_rate": rate,
            }
        elif body.startswith(b"OpusTags"):
            fact["is_opus_tags"] = True
        facts.append(fact)
    return {"length": len(data), "ogg": {"page_count": len(facts), "pages": facts}}
