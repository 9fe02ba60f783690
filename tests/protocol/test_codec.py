"""The codec on hand-written frames: spec error texts, JSON paths, kept keys, encoding shape."""

from __future__ import annotations

import json

import pytest

import protocol
from protocol import (
    ClientNlu,
    Context,
    DecodeError,
    Eos,
    ErrorCode,
    ErrorReply,
    Forwarded,
    Listen,
    ListenReply,
    LocalProtocolError,
    ParserReply,
    ParserRequest,
    ProtocolError,
    RemoteProtocolError,
    SkillLaunchRecord,
    Sos,
    decode_frame,
    encode_frame,
    from_json,
    to_json,
)

LISTEN = {
    "type": "LISTEN",
    "ts": 1776303996941,
    "msgID": "mid-1",
    "transID": "tid-1",
    "data": {
        "lang": "en-US",
        "hotphrase": False,
        "rules": ["main-menu/execute_main_menu"],
        "mode": "CLIENT_NLU",
        "asr": {
            "hints": [],
            "earlyEOS": [],
            "encoding": "OGG_OPUS",
            "sampleRate": 16000,
            "sosTimeout": 6000,
            "maxSpeechTimeout": 20000,
        },
    },
}


def frame(obj: object) -> str:
    return json.dumps(obj)


def with_data(**data: object) -> str:
    return frame({**LISTEN, "data": {**LISTEN["data"], **data}})


def test_listen_decodes_to_typed_fields() -> None:
    msg = decode_frame(frame(LISTEN))
    assert isinstance(msg, Listen)
    assert (msg.msg_id, msg.trans_id, msg.ts) == ("mid-1", "tid-1", 1776303996941)
    assert msg.data.rules == ("main-menu/execute_main_menu",)
    assert msg.data.mode == protocol.MODE_CLIENT_NLU
    assert msg.data.asr is not None
    assert msg.data.asr != "FAKE"
    assert msg.data.asr.sos_timeout == 6000
    assert msg.data.asr.early_eos == ()


def test_bytes_are_read_as_utf8() -> None:
    assert decode_frame(frame(LISTEN).encode()) == decode_frame(frame(LISTEN))


def test_absent_mode_means_server_asr() -> None:
    msg = decode_frame(frame({**LISTEN, "data": {"rules": ["launch"]}}))
    assert msg.data.mode is None
    assert msg.data.effective_mode == ""


def test_fake_asr_is_kept() -> None:
    msg = decode_frame(with_data(asr="FAKE"))
    assert msg.data.asr == protocol.FAKE_ASR
    assert json.loads(encode_frame(msg))["data"]["asr"] == "FAKE"


def test_malformed_json_uses_the_spec_text() -> None:
    with pytest.raises(DecodeError) as info:
        decode_frame('{"type": "LISTEN"')
    assert info.value.message == 'Invalid JSON arrived into socket: {"type": "LISTEN"'
    assert info.value.code is None
    assert info.value.path == "$"
    assert isinstance(info.value, RemoteProtocolError)


@pytest.mark.parametrize("text", ["NaN", '{"type": "CLIENT_ASR", "ts": Infinity}', "\udcff"])
def test_non_json_constants_are_malformed_json(text: str) -> None:
    with pytest.raises(DecodeError, match=r"^Invalid JSON arrived into socket: "):
        decode_frame(text)


def test_invalid_utf8_is_malformed_json() -> None:
    with pytest.raises(DecodeError, match=r"^Invalid JSON arrived into socket: "):
        decode_frame(b'{"type": "\xff"}')


@pytest.mark.parametrize(
    ("obj", "shown"),
    [({"type": "NOPE"}, "NOPE"), ({"msgID": "x"}, "undefined"), ({"type": 5}, "5")],
)
def test_unknown_type_uses_the_spec_text(obj: dict[str, object], shown: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_frame(frame(obj))
    assert info.value.message == f"Unknown message type: {shown}"
    assert info.value.path == "$.type"
    assert info.value.detail == f"$.type: unknown message type {shown!r}"


def test_hub_types_are_unknown_from_a_robot() -> None:
    with pytest.raises(DecodeError, match="Unknown message type: SOS"):
        decode_frame('{"type": "SOS", "msgID": "m", "ts": 1, "data": null}')


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("[]", "$: expected object, got list"),
        (with_data(rules="launch"), "$.data.rules: expected list of str, got str"),
        (
            with_data(rules=["launch", 3]),
            "$.data.rules: expected list of str, got number in the list",
        ),
        (with_data(hotphrase="yes"), "$.data.hotphrase: expected bool, got str"),
        (with_data(asr={"sampleRate": "16000"}), "$.data.asr.sampleRate: expected int, got str"),
        (with_data(asr=7), "$.data.asr: expected object or 'FAKE', got number"),
        (frame({**LISTEN, "ts": "1"}), "$.ts: expected int, got str"),
        (frame({**LISTEN, "ts": True}), "$.ts: expected int, got bool"),
        (
            frame({k: v for k, v in LISTEN.items() if k != "msgID"}),
            "$.msgID: required key is missing",
        ),
        (frame({**LISTEN, "data": []}), "$.data: expected object, got list"),
        (frame({**LISTEN, "timings": {"total": "1"}}), "$.timings.total: expected number, got str"),
        (
            frame({**LISTEN, "data": {**LISTEN["data"], "rules": None}}),
            "$.data.rules: expected list of str, got null",
        ),
    ],
)
def test_invalid_fields_name_the_json_path(text: str, detail: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_frame(text)
    assert info.value.detail == detail
    assert info.value.path == detail.split(":")[0]
    assert detail in info.value.message


def test_odd_keys_are_quoted_in_paths() -> None:
    text = frame({"type": "CLIENT_ASR", "msgID": "m", "ts": 1, "data": {"text": 1}})
    with pytest.raises(DecodeError, match=r"\$\.data\.text: expected str"):
        decode_frame(text)
    bad = frame({**LISTEN, "timings": {"a b": "x"}})
    with pytest.raises(DecodeError, match=r'\$\.timings\["a b"\]: expected number'):
        decode_frame(bad)


def test_unknown_keys_are_kept_and_written_back() -> None:
    obj = {**LISTEN, "robotExtra": {"x": [1, 2]}, "data": {**LISTEN["data"], "future": True}}
    obj["data"]["asr"] = {**obj["data"]["asr"], "model": "v2"}
    msg = decode_frame(frame(obj))
    assert msg.extra == {"robotExtra": {"x": [1, 2]}}
    assert msg.data.extra == {"future": True}
    assert to_json(msg) == obj


def test_explicit_null_of_an_optional_key_is_written_back() -> None:
    obj = {**LISTEN, "transID": None, "data": {**LISTEN["data"], "lang": None}}
    msg = decode_frame(frame(obj))
    assert msg.trans_id is None
    assert msg.data.lang is None
    assert to_json(msg) == obj


def test_client_nlu_with_spaces_round_trips() -> None:
    # Real robots pre-serialise CLIENT_NLU data with spaces (fixtures README).
    text = (
        '{"type":"CLIENT_NLU","ts":1,"msgID":"m","transID":"t","data":{ "entities" : '
        '{ "destination" : "fun" }, "intent" : "loadMenu", "rules" : [ "main-menu/x" ] }}'
    )
    msg = decode_frame(text)
    assert isinstance(msg, ClientNlu)
    assert msg.data.entities == {"destination": "fun"}
    assert json.loads(encode_frame(msg)) == json.loads(text)


def test_non_shortest_float_is_the_same_json_object() -> None:
    text = '{"type":"CONTEXT","ts":1,"msgID":"m","data":{"runtime":{"v":0.47000000000000005}}}'
    msg = decode_frame(text)
    assert json.loads(encode_frame(msg)) == json.loads(text)


def test_context_helpers() -> None:
    msg = decode_frame(
        frame(
            {
                "type": "CONTEXT",
                "ts": 1,
                "msgID": "m",
                "data": {
                    "general": {"accountID": "acc", "robotID": "rob", "release": "1.9.2"},
                    "runtime": {
                        "loop": {"loopId": "L", "users": [{"id": "u"}, 3]},
                        "perception": {"speaker": "u"},
                    },
                    "skill": {"id": "@be/clock", "session": {"id": "s"}},
                },
            }
        )
    )
    assert isinstance(msg, Context)
    data = msg.data
    assert (data.account_id, data.robot_id, data.release) == ("acc", "rob", "1.9.2")
    assert (data.skill_id, data.skill_session, data.loop_id) == ("@be/clock", {"id": "s"}, "L")
    assert data.users == ({"id": "u"},)
    assert data.speaker == "u"


def test_context_helpers_tolerate_odd_shapes() -> None:
    data = decode_frame(
        '{"type":"CONTEXT","ts":1,"msgID":"m","data":{"skill":{"id":null},'
        '"runtime":{"loop":[]},"general":{"accountID":5}}}'
    ).data
    assert (data.account_id, data.skill_id, data.loop_id, data.users) == (None, None, None, ())


def test_sos_and_eos_encode_data_null_and_timings() -> None:
    sos = Sos(msg_id="m1", ts=5, trans_id="t", timings={"total": -1})
    assert encode_frame(sos) == (
        '{"type":"SOS","msgID":"m1","ts":5,"transID":"t","data":null,"timings":{"total":-1}}'
    )
    assert json.loads(encode_frame(Eos(msg_id="m2", ts=6)))["data"] is None


def test_envelope_key_order() -> None:
    reply = ErrorReply(
        msg_id="m",
        ts=1,
        trans_id="t",
        final=True,
        timings={"total": 0},
        data=protocol.ErrorData(message="boom", code="GENERAL"),
        extra={"zzz": 1},
    )
    assert list(json.loads(encode_frame(reply))) == [
        "type",
        "msgID",
        "ts",
        "transID",
        "data",
        "final",
        "timings",
        "zzz",
    ]
    assert reply.data.error_code is ErrorCode.GENERAL


def test_listen_is_both_directions() -> None:
    reply = {
        "type": "LISTEN",
        "msgID": "m",
        "ts": 1,
        "data": {
            "asr": {"text": "hi", "confidence": 1},
            "nlu": {"intent": None, "entities": {}, "rules": ["launch"]},
            "match": None,
        },
        "final": True,
        "timings": {"total": 0, "asr": -1, "nlu": 0},
    }
    msg = decode_frame(frame(reply), sender="hub")
    assert isinstance(msg, ListenReply)
    assert msg.data.match is None
    assert to_json(msg) == reply  # match: null is written, not dropped
    with pytest.raises(DecodeError, match=r"\$\.data\.rules: required key is missing"):
        decode_frame(frame(reply))  # as a robot's LISTEN it lacks rules


def test_skill_replies_of_other_types_are_forwarded_verbatim() -> None:
    done = {"type": "DONE", "data": {"skill": {"id": "skill1"}}, "final": True}
    msg = from_json(done, sender="skill")
    assert isinstance(msg, Forwarded)
    assert msg.type == "DONE"
    assert to_json(msg) == done
    with pytest.raises(DecodeError, match="Unknown message type: DONE"):
        from_json(done, sender="parser")


def test_parser_bodies() -> None:
    request = from_json(
        {
            "type": "NLU",
            "msgID": "m",
            "ts": 1,
            "data": {"text": "hi", "rules": ["launch"], "loop": {"users": []}},
        },
        sender="hub",
    )
    assert isinstance(request, ParserRequest)
    assert request.data.rules == ("launch",)
    reply = from_json(
        {"type": "NLU", "data": {"intent": None, "entities": None, "rules": []}}, sender="parser"
    )
    assert isinstance(reply, ParserReply)
    assert reply.msg_id is None
    assert to_json(reply) == {
        "type": "NLU",
        "data": {"intent": None, "entities": None, "rules": []},
    }


def test_history_record() -> None:
    body = {
        "robotID": "r",
        "sessionID": "s",
        "skillID": "k",
        "intent": "i",
        "personIDs": ["UNKNOWN"],
    }
    record = from_json(body, cls=SkillLaunchRecord)
    assert record.person_ids == ("UNKNOWN",)
    assert to_json(record) == body
    with pytest.raises(DecodeError, match=r"Invalid SkillLaunchRecord message: \$\.personIDs"):
        from_json({**body, "personIDs": "x"}, cls=SkillLaunchRecord)


def test_local_errors() -> None:
    with pytest.raises(LocalProtocolError):
        to_json(object())
    with pytest.raises(LocalProtocolError):
        from_json({}, sender="nobody")  # type: ignore[arg-type]
    bad = protocol.CmdResult(msg_id="m", ts=1, data=float("nan"))
    with pytest.raises(LocalProtocolError, match="can't encode CmdResult"):
        encode_frame(bad)
    with pytest.raises(LocalProtocolError):
        encode_frame(protocol.CmdResult(msg_id="m", ts=1, data=object()))


def test_error_taxonomy() -> None:
    assert issubclass(DecodeError, RemoteProtocolError)
    assert issubclass(RemoteProtocolError, ProtocolError)
    assert issubclass(LocalProtocolError, ProtocolError)
    assert not issubclass(LocalProtocolError, RemoteProtocolError)
    err = RemoteProtocolError(
        "Timeout of 5000 while waiting for the context message", ErrorCode.TIMEOUT_CONTEXT
    )
    assert err.code is ErrorCode.TIMEOUT_CONTEXT
    assert "TIMEOUT_CONTEXT" in repr(err)
    assert {c.value for c in ErrorCode} == {
        "ASR",
        "PARSER",
        "TIMEOUT_CONTEXT",
        "TIMEOUT_SKILL",
        "SKILL_NOT_FOUND",
        "TIMEOUT_TRANSACTION",
        "GENERAL",
    }


def test_messages_are_frozen() -> None:
    msg = decode_frame(frame(LISTEN))
    with pytest.raises(AttributeError):
        msg.ts = 2  # type: ignore[misc]


def test_the_cattrs_converter_holds_the_hooks() -> None:
    obj = json.loads(frame(LISTEN))
    msg = protocol.converter.structure(obj, Listen)
    assert msg == decode_frame(frame(LISTEN))
    assert protocol.converter.unstructure(msg) == obj
    with pytest.raises(LocalProtocolError, match="not a protocol class"):
        from_json(obj, cls=dict)
