"""The Ogg page parser, stream reader, packet assembler and writer (sans-IO, no decoder)."""

from __future__ import annotations

import json
import struct

import pytest

from protocol import OggError, ProtocolError
from protocol.errors import ErrorCode, LocalProtocolError
from protocol.ogg import (
    FLAG_BOS,
    FLAG_CONTINUED,
    FLAG_EOS,
    OggStreamReader,
    PacketAssembler,
    build_page,
    crc32,
    opus_head_packet,
    opus_tags_packet,
    parse_page,
    parse_pages,
)
from tests.support import env

HEAD = build_page([opus_head_packet(pre_skip=312)], serial=744568034, sequence=0, bos=True)
AUDIO = [bytes([i]) * (60 + i) for i in range(26)]
PAGE1 = build_page(
    [opus_tags_packet(comments=["jibo=dev-test"]), *AUDIO],
    serial=744568034,
    sequence=1,
    granule_position=1265280,
)


def test_crc_matches_the_ogg_reference_value() -> None:
    # CRC-32/MPEG-2 style without final xor: the Ogg polynomial 0x04C11DB7, init 0.
    assert crc32(b"") == 0
    assert crc32(b"123456789") == 0x89A1897F


def test_first_page_is_opus_head() -> None:
    page = parse_page(HEAD)
    assert page.bos
    assert not page.eos
    assert not page.continued
    assert (page.serial, page.sequence, page.granule_position) == (744568034, 0, 0)
    assert page.lacing == (19,)
    assert page.packets_completed == 1
    assert page.is_opus_head
    assert not page.is_opus_tags
    head = page.opus_head()
    assert head is not None
    assert (head.version, head.channel_count, head.pre_skip) == (1, 1, 312)
    assert (head.input_sample_rate, head.output_gain, head.mapping_family) == (16000, 0, 0)
    assert page.to_bytes() == HEAD
    assert page.size == len(HEAD) == 47  # the size real robots send (shared/fixtures/ws)


def test_second_page_has_tags_and_audio() -> None:
    page = parse_page(PAGE1)
    assert page.is_opus_tags
    assert page.opus_head() is None
    tags = page.opus_tags()
    assert tags is not None
    assert tags.vendor == "libopus 1.1.2"
    assert tags.comments == ("jibo=dev-test",)
    assert page.segments[1:] == tuple(AUDIO)
    assert len(page.lacing) == page.packets_completed == 27


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:20], "truncated Ogg page: 20 bytes, expected at least 27 at byte 0"),
        (lambda b: b[:-1], "truncated Ogg page: 46 bytes, expected 47 at byte 0"),
        (lambda b: b"OggT" + b[4:], "no Ogg capture pattern 'OggS' at byte 0"),
        (lambda b: b[:4] + b"\x01" + b[5:], "unsupported Ogg version 1 at byte 4"),
        (lambda b: b[:5] + b"\x10" + b[6:], "unknown Ogg header flags 0x10 at byte 5"),
        (lambda b: b[:-1] + b"\x07", "Ogg page CRC mismatch"),
        (lambda b: b + b"xx", "2 bytes after the Ogg page at byte 47"),
    ],
)
def test_corrupt_pages_are_protocol_errors(mutate: object, message: str) -> None:
    with pytest.raises(OggError) as info:
        parse_page(mutate(HEAD))  # type: ignore[operator]
    assert message in info.value.message
    assert isinstance(info.value, ProtocolError)
    assert info.value.code is ErrorCode.ASR


def test_stream_reader_splits_pages_fed_in_pieces() -> None:
    stream = HEAD + PAGE1
    reader = OggStreamReader()
    pages = []
    for i in range(0, len(stream), 10):
        reader.receive_data(stream[i : i + 10])
        pages += list(reader.pages())
    assert [p.sequence for p in pages] == [0, 1]
    assert reader.buffered == 0
    reader.receive_data(b"")
    assert reader.next_page() is None


def test_stream_reader_fails_and_stays_failed() -> None:
    reader = OggStreamReader()
    reader.receive_data(HEAD + b"junk" + bytes(30))
    assert reader.next_page() is not None
    with pytest.raises(OggError, match="capture pattern 'OggS' at byte 47"):
        reader.next_page()
    with pytest.raises(OggError, match="at byte 47"):
        reader.next_page()


def test_stream_reader_reports_a_partial_page_at_the_end() -> None:
    reader = OggStreamReader()
    reader.receive_data(HEAD[:30])
    assert reader.next_page() is None
    reader.receive_data(b"")
    with pytest.raises(OggError, match="stream ended inside an Ogg page"):
        reader.next_page()
    with pytest.raises(LocalProtocolError):
        reader.receive_data(b"more")


def test_packets_spanning_pages_are_joined() -> None:
    big = bytes(range(256)) * 4  # 1024 bytes: 4 full lacing values + 4
    first, rest = big[:765], big[765:]
    pages = [
        build_page([b"a" * 5, first], serial=1, sequence=0, last_complete=False),
        build_page([rest, b"b" * 3], serial=1, sequence=1, continued=True, eos=True),
    ]
    assert parse_page(pages[1]).continued
    assert parse_page(pages[1]).eos
    assembler = PacketAssembler()
    out = [p for raw in pages for p in assembler.receive_page(parse_page(raw))]
    assert out == [b"a" * 5, big, b"b" * 3]


def test_a_lost_page_drops_the_partial_packet() -> None:
    pages = [
        build_page([b"x" * 255], serial=1, sequence=0, last_complete=False),
        build_page([b"y" * 255], serial=1, sequence=1, continued=True, last_complete=False),
        build_page([b"z", b"w"], serial=1, sequence=2, continued=True),
    ]
    assembler = PacketAssembler()
    assert assembler.receive_page(parse_page(pages[0])) == []
    assert assembler.receive_page(parse_page(pages[2])) == [b"w"]  # page 1 lost
    assert assembler.lost_pages == 1


def test_pages_of_another_stream_are_rejected() -> None:
    assembler = PacketAssembler()
    assembler.receive_page(parse_page(HEAD))
    other = build_page([b"x"], serial=2, sequence=1)
    with pytest.raises(OggError, match="stream 2 inside stream 744568034"):
        assembler.receive_page(parse_page(other))


def test_writer_flags_and_limits() -> None:
    page = parse_page(build_page([], serial=3, sequence=9, bos=True, eos=True, continued=True))
    assert page.header_type == FLAG_BOS | FLAG_EOS | FLAG_CONTINUED
    assert page.lacing == ()
    with pytest.raises(LocalProtocolError, match="do not fit one page"):
        build_page([b"x"] * 256, serial=1, sequence=0)
    with pytest.raises(LocalProtocolError, match="multiple of 255"):
        build_page([b"x" * 10], serial=1, sequence=0, last_complete=False)


def test_parse_pages_reads_a_whole_stream() -> None:
    assert [p.sequence for p in parse_pages(HEAD + PAGE1)] == [0, 1]
    with pytest.raises(OggError, match="at byte 47"):
        parse_pages(HEAD + PAGE1[:40])


def test_truncated_opus_tags_are_an_ogg_error() -> None:
    packet = b"OpusTags" + struct.pack("<I", 50) + b"short"
    page = parse_page(build_page([packet], serial=1, sequence=1))
    with pytest.raises(OggError, match="vendor string is truncated"):
        page.opus_tags()


@pytest.mark.shared
def test_page_facts_match_the_captured_robot_audio() -> None:
    # Captured flows keep each audio page's header facts (not the bytes): a page written with
    # the same facts parses back to them, and the first page of every turn is OpusHead.
    root = env.shared_fixtures("openjibo-flows", "captured")
    checked = 0
    for path in sorted(root.glob("*.flow.json")):
        for step in json.loads(path.read_text())["steps"]:
            binary = step.get("binary")
            if not isinstance(binary, dict) or "ogg" not in binary:
                continue
            for facts in binary["ogg"]["pages"]:
                flags = sum(
                    f
                    for name, f in (("BOS", 2), ("EOS", 4), ("CONTINUED", 1))
                    if name in facts["flags"]
                )
                assert flags == facts["header_type"]
                packets = [b"\0"] * facts["segment_count"]
                if facts.get("is_opus_head"):
                    packets = [opus_head_packet()]
                page = parse_page(
                    build_page(
                        packets,
                        serial=facts["serial"],
                        sequence=facts["page_sequence"],
                        granule_position=facts["granule_position"],
                        bos="BOS" in facts["flags"],
                        eos="EOS" in facts["flags"],
                        continued="CONTINUED" in facts["flags"],
                    )
                )
                assert page.header_type == facts["header_type"]
                assert page.granule_position == facts["granule_position"]
                assert page.is_opus_head == facts["is_opus_head"]
                assert len(page.lacing) == facts["segment_count"]
                checked += 1
    assert checked > 0
