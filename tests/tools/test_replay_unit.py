"""Replay against the small fake cloud, and the flow-file and subset-diff rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from jibo_cloud.tools.flows import load_flow, parse_flow
from jibo_cloud.tools.replay import replay_flow, subset_diff
from jibo_cloud.tools.target import Target, ToolError
from tests.tools.fakes import start_fake_cloud


def fake_flow(eos_name: str = "EOS", match: object = None) -> dict[str, object]:
    return {
        "name": "fake client asr",
        "session": {"hostName": "neo-hub.jibo.com", "path": "/v1/listen"},
        "steps": [
            {
                "text": {"type": "LISTEN", "transID": "tid-1", "data": {"mode": "CLIENT_ASR"}},
                "expectedReplyTypes": ["SOS"],
            },
            {
                "text": {"type": "CLIENT_ASR", "transID": "tid-1", "data": {"text": "hi"}},
                "expectedReplyTypes": [eos_name],
            },
            {
                "text": {"type": "CONTEXT", "transID": "tid-1", "data": {}},
                "expectedReplyTypes": ["LISTEN"],
                "expectedReplies": [
                    {"type": "LISTEN", "jsonSubset": {"final": True, "data": {"match": match}}}
                ],
            },
        ],
    }


def test_subset_diff_names_each_path() -> None:
    assert subset_diff({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}) == []
    assert subset_diff({"a": {"b": 1}}, {"a": {"b": 2}}) == ["$.a.b: expected 1, got 2"]
    assert subset_diff({"x": True}, {"x": 1}) == ["$.x: expected true, got 1"]
    assert subset_diff({"l": [1]}, {"l": [1, 2]}) == ["$.l: expected [1], got [1, 2]"]
    assert subset_diff({"m": 1}, {}) == ["$.m: missing (expected 1)"]


def test_flow_errors_name_the_step(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"\$\.steps\[0\]: a step needs text, binary or http"):
        parse_flow({"steps": [{}]}, "f.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ToolError, match="not JSON"):
        load_flow(bad)


def test_sanitized_audio_is_rebuilt_as_well_formed_pages() -> None:
    from jibo_cloud.tools.audio import split_pages

    meta = {
        "length": 47,
        "ogg": {
            "pages": [
                {
                    "header_type": 2,
                    "granule_position": 0,
                    "serial": 5,
                    "page_sequence": 0,
                    "body_length": 19,
                    "is_opus_head": True,
                    "opus_head": {"channel_count": 1, "input_sample_rate": 16000},
                }
            ]
        },
    }
    flow = parse_flow({"steps": [{"binary": meta}]})
    data = flow.steps[0].binary
    assert data is not None
    assert len(data) == 47
    assert split_pages(data)[0][0][28:36] == b"OpusHead"


async def test_good_flow_passes(nursery: trio.Nursery) -> None:
    port = await start_fake_cloud(nursery)
    with trio.fail_after(15):
        result = await replay_flow(
            Target.parse(f"http://127.0.0.1:{port}"), parse_flow(fake_flow()), token=None
        )
    assert result.ok, result.mismatches
    sent = [f.obj for f in result.frames if f.sender == "robot"]
    assert all("msgID" in obj and "ts" in obj for obj in sent)  # filled in like a robot


async def test_broken_flow_reports_a_precise_diff(nursery: trio.Nursery) -> None:
    port = await start_fake_cloud(nursery)
    broken = parse_flow(json.loads(json.dumps(fake_flow("ASR", match={"skillID": "x"}))))
    with trio.fail_after(15):
        result = await replay_flow(
            Target.parse(f"http://127.0.0.1:{port}"), broken, token=None, step_timeout=0.5
        )
    assert not result.ok
    types, subset = result.mismatches
    assert "-ASR" in types
    assert "+EOS" in types
    assert "$.data.match: expected an object, got null" in subset


def test_audio_is_written_as_facts_and_rebuilt_with_the_same_shape() -> None:
    from jibo_cloud.tools.audio import build_page, opus_head, opus_tags, split_pages
    from jibo_cloud.tools.flows import FlowStep, step_to_json

    voice = bytes(range(200)) * 3
    pages = (
        build_page(opus_head(), header_type=2, serial=9, sequence=0)
        + build_page(opus_tags() + voice[:100], granule=960, serial=9, sequence=1)
        + build_page(voice, granule=960 * 26, serial=9, sequence=2)
    )
    written = step_to_json(FlowStep(binary=pages), keep_audio=False)
    assert "base64" not in written["binary"]
    assert voice[:50].hex() not in json.dumps(written)
    rebuilt = parse_flow({"steps": [written]}).steps[0].binary
    assert rebuilt is not None
    assert len(rebuilt) == len(pages)
    original, again = split_pages(pages), split_pages(rebuilt)
    assert [s for _, s in again] == [s for _, s in original]  # same granules, same pacing
    assert again[0][0] == original[0][0]  # the OpusHead page is rebuilt exactly
    kept = step_to_json(FlowStep(binary=pages), keep_audio=True)
    assert parse_flow({"steps": [kept]}).steps[0].binary == pages
