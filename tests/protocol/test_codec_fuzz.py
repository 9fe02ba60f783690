"""Properties of the codec, the JCP parser and the Ogg parser, and the fuzz budget.

Marked ``fuzz``: ``nox -s fuzz`` runs them with ``JIBO_FUZZ_EXAMPLES`` examples each (the
``fuzz`` Hypothesis profile) and prints how many examples ran in total (tests/protocol/
conftest.py); ``nox -s tests`` runs them with the small default budget.

- every message class: ``decode(encode(m)) == m`` and ``to_json``/``from_json`` agree;
- arbitrary JSON values, arbitrary text and bytes, and mutated real frames never raise anything
  but :class:`~protocol.errors.DecodeError`; a mutated frame that still decodes round-trips;
- JCP behaviours round-trip and arbitrary JSON gives only ``DecodeError``;
- arbitrary and corrupted Ogg bytes give only ``OggError``, and a stream split anywhere gives
  the same pages and packets.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import (
    DecodeError,
    OggError,
    codec,
    decode_frame,
    encode_frame,
    from_json,
    jcp,
    to_json,
)
from protocol import strategies as sts
from protocol.ogg import (
    OggStreamReader,
    PacketAssembler,
    build_page,
    opus_head_packet,
    opus_tags_packet,
    parse_page,
    parse_pages,
)
from tests.protocol import frames
from tests.protocol.conftest import count_example, fuzz_budget

pytestmark = pytest.mark.fuzz

#: sum of the fuzz_budget weights below (at least 10: see conftest.fuzz_budget)
FUZZ_WEIGHT_TOTAL = 10.7

SENDERS = st.sampled_from(["robot", "hub", "skill", "parser"])
REAL = frames.all_real_frames()
TYPES = sorted({*codec.ROBOT_TYPES, *codec.HUB_TYPES, *codec.SKILL_TYPES, *codec.PARSER_TYPES})


@given(sts.envelopes())
@fuzz_budget(0.5)
def test_every_message_class_round_trips(pair: tuple[codec.Sender, Any]) -> None:
    count_example()
    sender, msg = pair
    text = encode_frame(msg)
    assert decode_frame(text, sender=sender) == msg
    assert from_json(to_json(msg), sender=sender) == msg
    assert json.loads(text) == to_json(msg)


@given(st.one_of(*(sts.messages_of(c) for c in sts.RECORD_CLASSES)))
@fuzz_budget(0.1)
def test_history_records_round_trip(record: Any) -> None:
    count_example()
    assert from_json(json.loads(json.dumps(to_json(record))), cls=type(record)) == record


@given(sts.robot_turns())
@fuzz_budget(0.1)
def test_robot_turns_decode_in_any_order(turn: list[Any]) -> None:
    count_example()
    assert [decode_frame(encode_frame(m)) for m in turn] == turn
    assert type(turn[0]).__name__ == "Listen"


@given(sts.json_values(), SENDERS)
@fuzz_budget(1)
def test_arbitrary_json_raises_only_decode_error(value: Any, sender: codec.Sender) -> None:
    count_example()
    with contextlib.suppress(DecodeError):
        decode_frame(json.dumps(value), sender=sender)


@given(
    st.sampled_from(TYPES),
    st.dictionaries(
        st.sampled_from(["msgID", "ts", "transID", "data", "final", "timings", "x"]),
        sts.json_values(8),
    ),
    SENDERS,
)
@fuzz_budget(0.25)
def test_typed_envelopes_with_arbitrary_fields(
    msg_type: str, fields: dict[str, Any], sender: codec.Sender
) -> None:
    count_example()
    obj = {"type": msg_type, **fields}
    try:
        msg = decode_frame(json.dumps(obj), sender=sender)
    except DecodeError:
        return
    assert to_json(msg) == obj


@given(st.text(max_size=200) | st.binary(max_size=200), SENDERS)
@fuzz_budget(3)
def test_arbitrary_text_and_bytes_raise_only_decode_error(
    data: str | bytes, sender: codec.Sender
) -> None:
    count_example()
    with contextlib.suppress(DecodeError):
        decode_frame(data, sender=sender)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*path, i))
    return out


@st.composite
def mutated_frames(draw: st.DrawFn) -> tuple[str, Any]:
    """A real frame with one to three structural mutations."""
    _, sender, text = draw(st.sampled_from(REAL))
    obj = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if op == "replace":
                obj = draw(sts.json_values(6))
            continue
        parent = obj
        try:
            for part in path[:-1]:
                parent = parent[part]
        except (KeyError, IndexError, TypeError):
            continue
        last = path[-1]
        if op == "replace":
            parent[last] = draw(sts.json_values(6))
        elif op == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(sts.json_values(4))
        else:
            parent.insert(last, draw(sts.json_values(4)))
    return sender, obj


@given(mutated_frames())
@fuzz_budget(0.25)
def test_mutated_real_frames_raise_only_decode_error(case: tuple[str, Any]) -> None:
    count_example()
    sender, obj = case
    try:
        msg = decode_frame(json.dumps(obj), sender=sender)  # type: ignore[arg-type]
    except DecodeError:
        return
    assert json.loads(encode_frame(msg)) == obj


@given(st.sampled_from(REAL), st.data())
@fuzz_budget(2)
def test_mutated_real_text_raises_only_decode_error(
    real: frames.Frame, data: st.DataObject
) -> None:
    count_example()
    _, sender, text = real
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 8))
    text = text[:at] + data.draw(st.text(max_size=4)) + text[at + cut :]
    try:
        msg = decode_frame(text, sender=sender)  # type: ignore[arg-type]
    except DecodeError:
        return
    assert json.loads(encode_frame(msg)) == json.loads(text)


@given(sts.behaviors())
@fuzz_budget(0.25)
def test_jcp_behaviors_round_trip(behavior: jcp.Behavior) -> None:
    count_example()
    wire = json.loads(json.dumps(jcp.behavior_to_json(behavior)))
    assert jcp.behavior_from_json(wire) == behavior


@given(sts.json_values())
@fuzz_budget(0.25)
def test_jcp_arbitrary_json_raises_only_decode_error(value: Any) -> None:
    count_example()
    with contextlib.suppress(DecodeError):
        jcp.behavior_from_json(value)


PAGES = [
    build_page([opus_head_packet()], serial=9, sequence=0, bos=True),
    build_page(
        [opus_tags_packet(comments=["jibo=dev-test"]), b"\x01" * 300, b"\x02" * 40],
        serial=9,
        sequence=1,
        granule_position=960,
    ),
    build_page([b"\x03" * 510], serial=9, sequence=2, granule_position=1920, last_complete=False),
    build_page(
        [b"\x04" * 7, b"\x05" * 3],
        serial=9,
        sequence=3,
        granule_position=2880,
        continued=True,
        eos=True,
    ),
]
STREAM = b"".join(PAGES)


@given(st.binary(max_size=400))
@fuzz_budget(2)
def test_arbitrary_bytes_raise_only_ogg_error(data: bytes) -> None:
    count_example()
    with contextlib.suppress(OggError):
        parse_page(data)
    reader = OggStreamReader()
    reader.receive_data(data)
    reader.receive_data(b"")
    with contextlib.suppress(OggError):
        list(reader.pages())


@given(st.integers(0, len(STREAM) - 1), st.integers(1, 255))
@fuzz_budget(0.5)
def test_corrupted_stream_raises_only_ogg_error(at: int, xor: int) -> None:
    count_example()
    data = bytearray(STREAM)
    data[at] ^= xor
    with pytest.raises(OggError):
        parse_pages(bytes(data))  # every byte is covered by the capture pattern or a CRC


@given(st.lists(st.integers(1, 700), max_size=20))
@fuzz_budget(0.5)
def test_stream_split_anywhere_gives_the_same_pages(cuts: list[int]) -> None:
    count_example()
    reader, assembler, pages, packets, at = OggStreamReader(), PacketAssembler(), [], [], 0
    for size in [*cuts, len(STREAM)]:
        reader.receive_data(STREAM[at : at + size])
        at += size
        for page in reader.pages():
            pages.append(page)
            packets += assembler.receive_page(page)
        if at >= len(STREAM):
            break
    reader.receive_data(b"")
    assert reader.next_page() is None
    assert [p.to_bytes() for p in pages] == PAGES
    assert [len(p) for p in packets] == [19, 46, 300, 40, 517, 3]
