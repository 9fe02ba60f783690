"""Ogg's CRC-32 computed in C (zlib over bit-reversed bytes) against the Python loop it replaced.

The table-driven loop below is the definition (RFC 3533 §6: polynomial 0x04C11DB7, not
reflected, initial 0, no final xor), kept here as the oracle. The fast version must agree on
random bytes, on any running value (pages are checksummed in pieces), and on pages shaped like
the robots' real audio: the captured flows keep each page's header facts and body length (not
the voice bytes), so those pages are rebuilt with their real headers, lacing and lengths.
"""

from __future__ import annotations

import json
import random
import struct

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from protocol.ogg import build_page, crc32, opus_head_packet, parse_page
from tests.protocol.conftest import count_example, fuzz_budget
from tests.support import env


def _reference_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return tuple(table)


_TABLE = _reference_table()


def reference_crc32(data: bytes, crc: int = 0) -> int:
    """The Python loop ``protocol/ogg.py`` used before: slow, obviously right."""
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def test_known_values() -> None:
    assert crc32(b"") == reference_crc32(b"") == 0
    assert crc32(b"123456789") == reference_crc32(b"123456789") == 0x89A1897F
    # A non-zero result of zlib's reflected CRC would show through a missing transform.
    assert crc32(b"\x00") == 0
    assert crc32(b"\x80") == reference_crc32(b"\x80") == 0x690CE0EE


@given(st.binary(max_size=5000), st.integers(min_value=0, max_value=0xFFFFFFFF))
@example(b"", 0xFFFFFFFF)
@example(b"\xff" * 300, 0)
@fuzz_budget(0.2)
def test_c_crc_equals_the_python_loop(data: bytes, start: int) -> None:
    count_example()
    assert crc32(data, start) == reference_crc32(data, start)
    assert crc32(bytearray(data), start) == crc32(memoryview(data), start)


@given(st.binary(max_size=2000), st.binary(max_size=2000))
@fuzz_budget(0.1)
def test_running_value_continues_across_pieces(a: bytes, b: bytes) -> None:
    count_example()
    assert crc32(b, crc32(a)) == crc32(a + b) == reference_crc32(a + b)


def _page_from_facts(facts: dict[str, object], rng: random.Random) -> bytes:
    """A page with a captured page's header facts, lacing count and body length."""
    segments = int(facts["segment_count"])  # type: ignore[call-overload]
    body_length = int(facts["body_length"])  # type: ignore[call-overload]
    flags = facts["flags"]
    assert isinstance(flags, list)
    if facts.get("is_opus_head"):
        packets = [opus_head_packet()]
    else:
        # Spread body_length over `segments` packets, each below 255 bytes (one lacing value).
        base, extra = divmod(body_length, max(segments, 1))
        sizes = [base + (1 if i < extra else 0) for i in range(segments)]
        if any(size >= 255 for size in sizes):
            sizes = [min(size, 254) for size in sizes]
        packets = [rng.randbytes(size) for size in sizes]
    return build_page(
        packets,
        serial=int(facts["serial"]),  # type: ignore[call-overload]
        sequence=int(facts["page_sequence"]),  # type: ignore[call-overload]
        granule_position=int(facts["granule_position"]),  # type: ignore[call-overload]
        bos="BOS" in flags,
        eos="EOS" in flags,
        continued="CONTINUED" in flags,
    )


@pytest.mark.shared
def test_pages_shaped_like_the_captured_robot_audio() -> None:
    root = env.shared_fixtures("openjibo-flows", "captured")
    rng = random.Random(21)
    checked = 0
    for path in sorted(root.glob("*.flow.json")):
        for step in json.loads(path.read_text())["steps"]:
            binary = step.get("binary")
            if not isinstance(binary, dict) or "ogg" not in binary:
                continue
            for facts in binary["ogg"]["pages"]:
                raw = _page_from_facts(facts, rng)
                (stored,) = struct.unpack_from("<I", raw, 22)
                unchecked = raw[:22] + b"\0\0\0\0" + raw[26:]
                assert crc32(unchecked) == reference_crc32(unchecked) == stored
                assert parse_page(raw).crc == stored
                checked += 1
    assert checked > 0


def test_a_flipped_bit_anywhere_is_caught() -> None:
    raw = bytearray(build_page([bytes(range(200)), b"x" * 100], serial=7, sequence=3))
    rng = random.Random(3)
    for _ in range(200):
        at = rng.randrange(len(raw))
        if 22 <= at < 26:
            continue
        bad = bytearray(raw)
        bad[at] ^= 1 << rng.randrange(8)
        unchecked = bytes(bad[:22]) + b"\0\0\0\0" + bytes(bad[26:])
        assert crc32(unchecked) != crc32(bytes(raw[:22]) + b"\0\0\0\0" + bytes(raw[26:]))
        assert crc32(unchecked) == reference_crc32(unchecked)
