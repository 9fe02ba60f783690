"""Ogg pages of Opus audio, sans-IO: parse, split a byte stream, reassemble packets, write.

Pure: no sockets, no decoder. A robot sends one binary frame per Ogg page of Opus audio; the
first page carries ``OpusHead`` and ``OpusTags`` follows (PROTOCOL.md §4.3). This module:

- :func:`parse_page` checks one page (capture pattern ``OggS``, version 0, header flags,
  granule position, serial, sequence, CRC, lacing table) and returns an :class:`OggPage`;
- :class:`OggStreamReader` splits a byte stream fed in any pieces into pages
  (``receive_data(b)``, then ``next_page()`` until it returns None);
- :class:`PacketAssembler` turns pages into Opus packets, joining packets that span pages
  (lacing values of 255 continue a packet);
- :func:`build_page`, :func:`opus_head_packet` and :func:`opus_tags_packet` write pages with a
  correct CRC, for tests and tools.

Malformed input raises :class:`~protocol.errors.OggError` (a ``ProtocolError`` with code
``ASR``) naming the byte offset; nothing else.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence

import attrs

from protocol.errors import LocalProtocolError, OggError

__all__ = [
    "CAPTURE_PATTERN",
    "FLAG_BOS",
    "FLAG_CONTINUED",
    "FLAG_EOS",
    "OggPage",
    "OggStreamReader",
    "OpusHead",
    "OpusTags",
    "PacketAssembler",
    "build_page",
    "crc32",
    "opus_head_packet",
    "opus_tags_packet",
    "parse_page",
    "parse_pages",
    "split_packets",
]

CAPTURE_PATTERN = b"OggS"
#: header_type bit: the first packet continues one from the previous page
FLAG_CONTINUED = 0x01
#: header_type bit: first page of a logical stream
FLAG_BOS = 0x02
#: header_type bit: last page of a logical stream
FLAG_EOS = 0x04
HEADER_SIZE = 27  # fixed part, before the lacing table
MAX_PAGE_SIZE = HEADER_SIZE + 255 + 255 * 255

_HEADER = struct.Struct("<4sBBqIIIB")


#: Each byte value with its 8 bits in reverse order, for ``bytes.translate``.
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _reverse32(value: int) -> int:
    """The 32 bits of ``value`` in reverse order (bytes reversed, then each byte's bits)."""
    return int.from_bytes(value.to_bytes(4, "big").translate(_REVERSED_BITS), "little")


def crc32(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0, no final xor).

    Computed in C by :func:`zlib.crc32`, which is the *reflected* CRC of the same polynomial
    with an initial value and final xor of 0xFFFFFFFF. A non-reflected CRC equals the
    reflected CRC of the bit-reversed input, bit-reversed: so each byte is bit-reversed with
    ``bytes.translate``, the running value ``crc`` is bit-reversed into zlib's register (xor
    0xFFFFFFFF undoes zlib's own initial inversion), and the result is un-inverted and
    bit-reversed back. A table-driven Python loop made parse_page take ~0.45 ms per 4 KB page;
    with this it takes ~9 µs (bench/codec.py). The Python loop stays in the tests as
    the oracle (tests/protocol/test_ogg_crc.py). ``crc`` continues a previous result, so
    ``crc32(b, crc32(a)) == crc32(a + b)``.
    """
    reflected = zlib.crc32(bytes(data).translate(_REVERSED_BITS), _reverse32(crc) ^ 0xFFFFFFFF)
    return _reverse32(reflected ^ 0xFFFFFFFF)


@attrs.frozen(kw_only=True)
class OpusHead:
    """The ``OpusHead`` identification packet (RFC 7845 §5.1)."""

    version: int
    channel_count: int
    pre_skip: int
    input_sample_rate: int
    output_gain: int
    mapping_family: int


@attrs.frozen(kw_only=True)
class OpusTags:
    """The ``OpusTags`` comment packet (RFC 7845 §5.2)."""

    vendor: str
    comments: tuple[str, ...]


@attrs.frozen(kw_only=True)
class OggPage:
    """One checked Ogg page. ``lacing`` is the segment table; ``body`` the segment bytes."""

    header_type: int
    granule_position: int
    serial: int
    sequence: int
    crc: int
    lacing: tuple[int, ...]
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    @property
    def continued(self) -> bool:
        return bool(self.header_type & FLAG_CONTINUED)

    @property
    def bos(self) -> bool:
        return bool(self.header_type & FLAG_BOS)

    @property
    def eos(self) -> bool:
        return bool(self.header_type & FLAG_EOS)

    @property
    def size(self) -> int:
        """Bytes of the whole page (header, lacing table, body)."""
        return HEADER_SIZE + len(self.lacing) + len(self.body)

    @property
    def segments(self) -> tuple[bytes, ...]:
        """The body split by the lacing table."""
        out, at = [], 0
        for n in self.lacing:
            out.append(self.body[at : at + n])
            at += n
        return tuple(out)

    @property
    def packets_completed(self) -> int:
        """How many packets end on this page (lacing values below 255)."""
        return sum(1 for n in self.lacing if n < 255)

    @property
    def is_opus_head(self) -> bool:
        return not self.continued and self.body.startswith(b"OpusHead")

    @property
    def is_opus_tags(self) -> bool:
        return not self.continued and self.body.startswith(b"OpusTags")

    def opus_head(self) -> OpusHead | None:
        """The page's ``OpusHead``, or None when the page does not start with one.

        Raises:
            OggError: the packet is too short.
        """
        if not self.is_opus_head:
            return None
        packet = split_packets(self)[0][0]
        if len(packet) < 19:
            raise OggError(f"OpusHead is {len(packet)} bytes, expected at least 19")
        version, channels, pre_skip, rate, gain, family = struct.unpack_from("<BBHIhB", packet, 8)
        return OpusHead(
            version=version,
            channel_count=channels,
            pre_skip=pre_skip,
            input_sample_rate=rate,
            output_gain=gain,
            mapping_family=family,
        )

    def opus_tags(self) -> OpusTags | None:
        """The page's ``OpusTags`` (when it fits on this page), or None.

        Raises:
            OggError: the comment packet is malformed.
        """
        if not self.is_opus_tags:
            return None
        packets, _ = split_packets(self)
        if not packets:
            return None  # the tags continue on the next page
        return _parse_tags(packets[0])

    def to_bytes(self) -> bytes:
        """The page as bytes (with its stored CRC)."""
        head = _HEADER.pack(
            CAPTURE_PATTERN,
            0,
            self.header_type,
            self.granule_position,
            self.serial,
            self.sequence,
            self.crc,
            len(self.lacing),
        )
        return head + bytes(self.lacing) + self.body


def _parse_tags(packet: bytes) -> OpusTags:
    try:
        (n,) = struct.unpack_from("<I", packet, 8)
        vendor = packet[12 : 12 + n]
        if len(vendor) != n:
            raise OggError("OpusTags vendor string is truncated")
        at = 12 + n
        (count,) = struct.unpack_from("<I", packet, at)
        at += 4
        comments = []
        for _ in range(count):
            (n,) = struct.unpack_from("<I", packet, at)
            at += 4
            text = packet[at : at + n]
            if len(text) != n:
                raise OggError("OpusTags comment is truncated")
            comments.append(text.decode("utf-8", "replace"))
            at += n
    except struct.error:
        raise OggError("OpusTags is truncated") from None
    return OpusTags(vendor=vendor.decode("utf-8", "replace"), comments=tuple(comments))


def _page_length(data: bytes | bytearray | memoryview, offset: int, base: int = 0) -> int | None:
    """Total length of the page at ``offset``, or None if more bytes are needed for that."""
    if len(data) - offset < HEADER_SIZE:
        if bytes(data[offset : offset + 4]) != CAPTURE_PATTERN[: len(data) - offset]:
            raise OggError("no Ogg capture pattern 'OggS'", offset=base + offset)
        return None
    if bytes(data[offset : offset + 4]) != CAPTURE_PATTERN:
        raise OggError("no Ogg capture pattern 'OggS'", offset=base + offset)
    nsegs = data[offset + 26]
    if len(data) - offset < HEADER_SIZE + nsegs:
        return None
    lacing = data[offset + HEADER_SIZE : offset + HEADER_SIZE + nsegs]
    return HEADER_SIZE + nsegs + sum(lacing)


def _parse_at(data: bytes, offset: int, base: int = 0) -> OggPage:
    total = _page_length(data, offset, base)
    if total is None or len(data) - offset < total:
        have = len(data) - offset
        want = f"{total}" if total is not None else f"at least {HEADER_SIZE}"
        raise OggError(f"truncated Ogg page: {have} bytes, expected {want}", offset=base + offset)
    offset_in_stream = base + offset
    _, version, header_type, granule, serial, sequence, crc, nsegs = _HEADER.unpack_from(
        data, offset
    )
    if version != 0:
        raise OggError(f"unsupported Ogg version {version}", offset=offset_in_stream + 4)
    if header_type & ~0x07:
        raise OggError(f"unknown Ogg header flags 0x{header_type:02x}", offset=offset_in_stream + 5)
    page = bytes(data[offset : offset + total])
    computed = crc32(page[:22] + b"\0\0\0\0" + page[26:])
    if computed != crc:
        raise OggError(
            f"Ogg page CRC mismatch: stored 0x{crc:08x}, computed 0x{computed:08x}",
            offset=offset_in_stream + 22,
        )
    lacing = tuple(page[HEADER_SIZE : HEADER_SIZE + nsegs])
    return OggPage(
        header_type=header_type,
        granule_position=granule,
        serial=serial,
        sequence=sequence,
        crc=crc,
        lacing=lacing,
        body=page[HEADER_SIZE + nsegs :],
    )


def parse_page(data: bytes | bytearray | memoryview) -> OggPage:
    """Exactly one Ogg page (one robot binary frame).

    Raises:
        OggError: truncated, corrupt (capture pattern, version, flags, CRC) or trailing bytes.
    """
    raw = bytes(data)
    page = _parse_at(raw, 0)
    if page.size != len(raw):
        raise OggError(f"{len(raw) - page.size} bytes after the Ogg page", offset=page.size)
    return page


def parse_pages(data: bytes | bytearray | memoryview) -> list[OggPage]:
    """Every page of a complete byte string (no partial page at the end).

    Raises:
        OggError: as :func:`parse_page`, for the first bad page.
    """
    raw, pages, offset = bytes(data), [], 0
    while offset < len(raw):
        page = _parse_at(raw, offset)
        pages.append(page)
        offset += page.size
    return pages


class OggStreamReader:
    """Split a byte stream into pages, incrementally (h11-style: feed bytes, pull pages).

    ``receive_data(b)`` buffers; ``next_page()`` returns the next complete page or None when
    more bytes are needed; ``receive_data(b"")`` marks the end of the stream, after which a
    partial page left over is an error. A corrupt page puts the reader in an error state: later
    calls raise again (like h11, a failed reader stays failed).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0  # stream offset of _buffer[0], for error messages
        self._eof = False
        self._error: OggError | None = None

    def receive_data(self, data: bytes) -> None:
        """Add bytes; ``b""`` means the stream ended."""
        if self._eof and data:
            raise LocalProtocolError("receive_data() after the end of the stream")
        if data:
            self._buffer += data
        else:
            self._eof = True

    def next_page(self) -> OggPage | None:
        """The next complete page, or None if more data is needed (or the stream is done).

        Raises:
            OggError: corrupt data, or a partial page at the end of the stream.
        """
        if self._error is not None:
            raise self._error
        try:
            total = _page_length(self._buffer, 0, self._offset)
            if total is None or len(self._buffer) < total:
                if self._eof and self._buffer:
                    raise OggError(
                        f"stream ended inside an Ogg page ({len(self._buffer)} bytes left)",
                        offset=self._offset,
                    )
                return None
            page = _parse_at(bytes(self._buffer[:total]), 0, self._offset)
        except OggError as exc:
            self._error = exc
            raise
        del self._buffer[:total]
        self._offset += total
        return page

    def pages(self) -> Iterator[OggPage]:
        """Every complete page buffered so far."""
        while (page := self.next_page()) is not None:
            yield page

    @property
    def buffered(self) -> int:
        """Bytes waiting for the rest of their page."""
        return len(self._buffer)


def split_packets(page: OggPage) -> tuple[list[bytes], bytes]:
    """A page's packets by lacing: (complete packets, the unfinished tail).

    The first complete packet includes any continuation bytes at the start of the page; the
    caller (:class:`PacketAssembler`) joins them with the previous page's tail.
    """
    packets, current, at = [], bytearray(), 0
    for n in page.lacing:
        current += page.body[at : at + n]
        at += n
        if n < 255:
            packets.append(bytes(current))
            current = bytearray()
    return packets, bytes(current)


class PacketAssembler:
    """Pages in, Opus packets out, joining packets that span pages.

    Checks that pages of one stream arrive in sequence; a gap drops the partial packet (as a
    decoder would) and is counted in :attr:`lost_pages`.
    """

    def __init__(self) -> None:
        self._tail: bytes | None = None  # None: no packet in progress
        self._serial: int | None = None
        self._next_sequence: int | None = None
        self.lost_pages = 0

    def receive_page(self, page: OggPage) -> list[bytes]:
        """The packets completed by ``page``.

        Raises:
            OggError: a page of another stream.
        """
        if self._serial is None:
            self._serial = page.serial
        elif page.serial != self._serial:
            raise OggError(f"page of stream {page.serial} inside stream {self._serial}")
        if self._next_sequence is not None and page.sequence != self._next_sequence:
            self.lost_pages += max(page.sequence - self._next_sequence, 1)
            self._tail = None
        self._next_sequence = page.sequence + 1
        packets, tail = split_packets(page)
        ends_open = bool(page.lacing) and page.lacing[-1] == 255
        if page.continued:
            if self._tail is None:  # the packet's start was lost: drop its end
                if packets:
                    packets.pop(0)
                else:
                    ends_open = False
            elif packets:
                packets[0] = self._tail + packets[0]
            else:
                tail = self._tail + tail
        # A page that does not continue drops any unfinished packet before it.
        self._tail = tail if ends_open else None
        return packets


def _lacing_for(packets: Sequence[bytes], last_complete: bool) -> list[int]:
    lacing: list[int] = []
    for i, packet in enumerate(packets):
        full, rest = divmod(len(packet), 255)
        lacing += [255] * full
        if i < len(packets) - 1 or last_complete:
            lacing.append(rest)
        elif rest:
            raise LocalProtocolError("an open last packet must be a multiple of 255 bytes")
    return lacing


def build_page(
    packets: Iterable[bytes],
    *,
    serial: int,
    sequence: int,
    granule_position: int = 0,
    bos: bool = False,
    eos: bool = False,
    continued: bool = False,
    last_complete: bool = True,
) -> bytes:
    """One Ogg page holding ``packets``, with a correct CRC.

    Args:
        last_complete: False when the last packet continues on the next page (its lacing then
            ends with 255 and the packet length must be a multiple of 255).

    Raises:
        LocalProtocolError: more than 255 lacing values (split the packets across pages).
    """
    packets = list(packets)
    lacing = _lacing_for(packets, last_complete)
    if len(lacing) > 255:
        raise LocalProtocolError(f"{len(lacing)} lacing values do not fit one page (max 255)")
    flags = (FLAG_CONTINUED if continued else 0) | (FLAG_BOS if bos else 0)
    flags |= FLAG_EOS if eos else 0
    header = _HEADER.pack(
        CAPTURE_PATTERN, 0, flags, granule_position, serial, sequence, 0, len(lacing)
    )
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, crc32(page))
    return bytes(page)


def opus_head_packet(
    *, channels: int = 1, pre_skip: int = 0, input_sample_rate: int = 16000, output_gain: int = 0
) -> bytes:
    """An ``OpusHead`` packet (mapping family 0), as a robot's first page carries."""
    return b"OpusHead" + struct.pack(
        "<BBHIhB", 1, channels, pre_skip, input_sample_rate, output_gain, 0
    )


def opus_tags_packet(vendor: str = "libopus 1.1.2", comments: Sequence[str] = ()) -> bytes:
    """An ``OpusTags`` packet."""
    v = vendor.encode()
    out = b"OpusTags" + struct.pack("<I", len(v)) + v + struct.pack("<I", len(comments))
    for comment in comments:
        c = comment.encode()
        out += struct.pack("<I", len(c)) + c
    return out
