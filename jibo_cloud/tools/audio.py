"""Audio for the simulator: an Ogg/Opus file split into pages, one binary frame each (§4.3).

Robots send one binary frame per Ogg page, about two pages a second. The page work itself
(parsing with CRC checks, building pages, the Opus header packets) is :mod:`protocol.ogg`;
this module adapts it to the tools: durations for pacing, tool errors, capture facts. A
page's duration comes from its granule position, which Opus counts at 48 kHz (RFC 7845)
whatever the input rate.
"""

from __future__ import annotations

from pathlib import Path

from jibo_cloud.tools.target import ToolError
from protocol import ogg
from protocol.errors import LocalProtocolError, OggError

OPUS_GRANULE_RATE = 48_000


def split_pages(data: bytes) -> list[tuple[bytes, float]]:
    """Split an Ogg stream into ``(page, seconds of audio in it)``.

    Raises:
        ToolError: the bytes are not a well-formed sequence of Ogg pages (the message names
            the byte offset and what is wrong, from :class:`protocol.ogg.OggError`).
    """
    try:
        pages = ogg.parse_pages(data)
    except OggError as exc:
        raise ToolError(f"not a valid Ogg stream: {exc}") from None
    if not pages:
        raise ToolError("no Ogg pages in the audio")
    out: list[tuple[bytes, float]] = []
    last_granule = 0
    for page in pages:
        seconds = 0.0
        if page.granule_position > last_granule:
            seconds = (page.granule_position - last_granule) / OPUS_GRANULE_RATE
            last_granule = page.granule_position
        out.append((page.to_bytes(), seconds))
    return out


def load_audio_file(path: Path) -> list[tuple[bytes, float]]:
    """An Ogg/Opus file's pages (the format robots stream by default)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from None
    return split_pages(data)


def build_page(
    body: bytes, *, header_type: int = 0, granule: int = 0, serial: int = 1, sequence: int = 0
) -> bytes:
    """One Ogg page holding ``body`` as a single packet, with a correct checksum.

    Raises:
        ToolError: ``body`` does not fit one page (255 segments of 255 bytes).
    """
    try:
        return ogg.build_page(
            [body],
            serial=serial,
            sequence=sequence,
            granule_position=granule,
            bos=bool(header_type & ogg.FLAG_BOS),
            eos=bool(header_type & ogg.FLAG_EOS),
            continued=bool(header_type & ogg.FLAG_CONTINUED),
        )
    except LocalProtocolError:
        raise ToolError(f"{len(body)} bytes do not fit one Ogg page") from None


def opus_head(channels: int = 1, pre_skip: int = 0, rate: int = 16_000) -> bytes:
    """An ``OpusHead`` identification packet (RFC 7845 §5.1)."""
    return ogg.opus_head_packet(channels=channels, pre_skip=pre_skip, input_sample_rate=rate)


def opus_tags(vendor: str = "jibo-cloud") -> bytes:
    """An ``OpusTags`` comment packet with no comments (RFC 7845 §5.2)."""
    return ogg.opus_tags_packet(vendor)


def ogg_facts(data: bytes) -> dict[str, object]:
    """Header facts of a binary frame, in the sanitized captures' ``{length, ogg}`` form.

    Capture writes these instead of the audio (which holds voices); replay rebuilds pages with
    the same facts and length (:func:`jibo_cloud.tools.flows.rebuild_audio`).
    """
    try:
        pages = ogg.parse_pages(data)
        facts = [_page_facts(page) for page in pages]
    except OggError:
        return {"length": len(data)}
    if not facts:
        return {"length": len(data)}
    return {"length": len(data), "ogg": {"page_count": len(facts), "pages": facts}}


def _page_facts(page: ogg.OggPage) -> dict[str, object]:
    fact: dict[str, object] = {
        "header_type": page.header_type,
        "granule_position": page.granule_position,
        "serial": page.serial,
        "page_sequence": page.sequence,
        "segment_count": len(page.lacing),
        "body_length": len(page.body),
    }
    head = page.opus_head() if page.is_opus_head else None
    if head is not None:
        fact["is_opus_head"] = True
        fact["opus_head"] = {
            "channel_count": head.channel_count,
            "pre_skip": head.pre_skip,
            "input_sample_rate": head.input_sample_rate,
        }
    elif page.is_opus_tags:
        fact["is_opus_tags"] = True
    return fact
