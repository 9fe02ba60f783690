"""Every real frame decodes and round-trips to the same JSON object; so do the project's own.

Real frames: the exact wire text of every robot message in ``../shared/fixtures/ws/turns`` and
every frame (both directions) and hub HTTP body in the Pegasus reference excerpt. "Same JSON
object" means equal after ``json.loads``: robots send CLIENT_NLU data with spaces and some
floats in non-shortest form (fixtures README, "Known discrepancies").
"""

from __future__ import annotations

import json

import pytest

from protocol import (
    ClientAsr,
    ClientNlu,
    Context,
    DecodeError,
    Forwarded,
    Listen,
    SkillLaunchRecord,
    Trigger,
    decode_frame,
    encode_frame,
    from_json,
    to_json,
)
from tests.protocol import frames
from tests.support import env

WS = frames.ws_frames()
PEGASUS = frames.pegasus_frames()
PROJECT = frames.project_frames()


def _ids(items: list[frames.Frame]) -> list[str]:
    return [label for label, _, _ in items]


def check_round_trip(sender: str, text: str) -> None:
    msg = decode_frame(text, sender=sender)  # type: ignore[arg-type]
    assert json.loads(encode_frame(msg)) == json.loads(text)
    assert decode_frame(encode_frame(msg), sender=sender) == msg  # type: ignore[arg-type]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("label", "sender", "text"), WS or [("none", "", "")], ids=_ids(WS) or ["none"]
)
def test_real_robot_frame_round_trips(label: str, sender: str, text: str) -> None:
    if not WS:
        env.shared_fixtures("ws", "turns")
    check_round_trip(sender, text)


@pytest.mark.shared
@pytest.mark.parametrize(
    ("label", "sender", "text"), PEGASUS or [("none", "", "")], ids=_ids(PEGASUS) or ["none"]
)
def test_pegasus_reference_frame_round_trips(label: str, sender: str, text: str) -> None:
    if not PEGASUS:
        env.shared_fixtures("pegasus-reference", "transactions.hub-excerpt.json")
    check_round_trip(sender, text)


@pytest.mark.shared
def test_real_frames_cover_every_robot_type() -> None:
    if not WS:
        env.shared_fixtures("ws", "turns")
    kinds = {type(decode_frame(text)) for _, _, text in WS}
    assert {Listen, Context, ClientAsr, ClientNlu, Trigger} <= kinds


@pytest.mark.shared
def test_pegasus_history_records_round_trip() -> None:
    records = frames.pegasus_records()
    if not records:
        env.shared_fixtures("pegasus-reference", "transactions.hub-excerpt.json")
    for _, _, body in records:
        assert to_json(from_json(body, cls=SkillLaunchRecord)) == body


@pytest.mark.shared
def test_pegasus_skill_reply_done_is_forwarded() -> None:
    if not PEGASUS:
        env.shared_fixtures("pegasus-reference", "transactions.hub-excerpt.json")
    done = [t for label, s, t in PEGASUS if s == "hub" and '"DONE"' in t]
    assert done
    assert all(isinstance(decode_frame(t, sender="hub"), Forwarded) for t in done)


@pytest.mark.parametrize(("label", "sender", "text"), PROJECT, ids=_ids(PROJECT))
def test_project_frame_round_trips(label: str, sender: str, text: str) -> None:
    check_round_trip(sender, text)


def test_project_frames_cover_every_message_type_and_mode() -> None:
    decoded = [decode_frame(t, sender=s) for _, s, t in PROJECT]  # type: ignore[arg-type]
    names = {type(m).__name__ for m in decoded}
    assert names >= {
        "Listen",
        "Context",
        "ClientAsr",
        "ClientNlu",
        "Trigger",
        "CmdResult",
        "Sos",
        "Eos",
        "ListenReply",
        "SkillAction",
        "SkillRedirect",
        "Proactive",
        "ErrorReply",
        "ListenLaunch",
        "ListenUpdate",
        "ProactiveLaunch",
        "ParserRequest",
        "ParserReply",
    }
    modes = {m.data.mode for m in decoded if isinstance(m, Listen)}
    assert modes == {"", "CLIENT_ASR", "CLIENT_NLU", None}


@pytest.mark.shared
def test_openjibo_invented_frames_are_reported_precisely() -> None:
    # OpenJibo's hand-made flows omit msgID/ts and CLIENT_ASR text (NOTE.md): the codec
    # rejects them with the path, it does not guess.
    path = env.shared_fixtures(
        "openjibo-flows", "node-fixtures", "websocket", "neo-hub-client-asr-joke.flow.json"
    )
    step = json.loads(path.read_text())["steps"][0]["text"]
    with pytest.raises(DecodeError) as info:
        decode_frame(json.dumps(step))
    assert info.value.detail == "$.msgID: required key is missing"
