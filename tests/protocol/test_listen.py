"""The listen machine as plain data: messages in, outputs out (PROTOCOL.md §4.4). No trio."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from protocol.codec import from_json, to_json
from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.listen import TRANSITIONS, ListenState, ListenTransaction
from protocol.routing import SkillKind, SkillTable, manifest_from_json
from protocol.transaction import (
    CallParser,
    CallSkill,
    Forward,
    Identity,
    RecordLaunch,
    RecordSpeech,
    StartAsr,
    StartTimer,
    StopAsr,
    frames_of,
)
from tests.support import hub_client as hc

SKILLS = SkillTable.of(
    [
        manifest_from_json(
            {
                "id": "@be/clock",
                "onRobot": True,
                "intents": [
                    {"name": "askForTime", "entities": [{"name": "skill", "value": "@be/clock"}]}
                ],
            }
        ),
        manifest_from_json(
            {"id": "skill1", "intents": [{"name": "matchingIntent", "memo": "fixture memo"}]},
            base_url="http://127.0.0.1:1/skill",
        ),
        manifest_from_json(
            {"id": "skill2", "intents": [{"name": "second"}]}, base_url="http://127.0.0.1:1/s2"
        ),
    ]
)


def msg(obj: dict[str, Any]) -> Any:
    return from_json(obj)


def txn(**kw: Any) -> ListenTransaction:
    ids = itertools.count()
    return ListenTransaction(skills=SKILLS, new_id=lambda: f"id-{next(ids)}", **kw)


def types(outputs: list[Any]) -> list[str]:
    return ["FORWARD" if isinstance(f, Forward) else f.type for f in frames_of(outputs)]


def test_client_nlu_sends_sos_at_once_and_routes_after_context() -> None:
    t = txn()
    out = t.receive(msg(hc.listen("CLIENT_NLU")), now_ms=0)
    assert StartTimer("transaction", 60_000) in out
    (sos,) = frames_of(out)
    assert sos.type == "SOS"
    assert sos.timings == {"total": -1}
    assert t.state is ListenState.WAIT_CLIENT_NLU
    out = t.receive(msg(hc.client_nlu("askForTime", {"skill": "@be/clock"})), now_ms=5)
    assert types(out) == ["EOS"]
    assert StartTimer("context", 5000) in out  # §4.4: ROUTE waits for CONTEXT
    out = t.receive(msg(hc.context()), now_ms=9)
    (reply,) = frames_of(out)
    assert reply.final is True
    assert reply.data.match.skill_id == "@be/clock"
    assert reply.data.match.on_robot is True
    assert reply.timings == {"total": 9, "asr": -1, "nlu": -1}
    assert any(isinstance(o, RecordLaunch) for o in out)
    assert any(isinstance(o, RecordSpeech) for o in out)
    assert t.state is ListenState.DONE


def test_client_asr_calls_the_parser_with_text_rules_and_users() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=1)
    out = t.receive(msg(hc.client_asr("hello there")), now_ms=2)
    (call,) = [o for o in out if isinstance(o, CallParser)]
    assert to_json(call.request) == {
        "text": "hello there",
        "rules": ["launch", "globals/global_commands_launch"],
        "loop": {"users": [{"firstName": "Alex", "id": "u1"}]},
    }
    out = t.parser_replied({"intent": None, "entities": None, "rules": []}, now_ms=12)
    (reply,) = frames_of(out)
    assert reply.data.match is None
    assert reply.final is True
    assert reply.timings == {"total": 12, "asr": -1, "nlu": 10}


def test_cloud_skill_launch_then_reply_forwarded_final() -> None:
    t = txn(identity=Identity(account_id="acc", robot_id="bot", remote_address="1.2.3.4"))
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.receive(msg(hc.client_asr("matched utterance")), now_ms=0)
    out = t.parser_replied(
        {"intent": "matchingIntent", "entities": {}, "rules": ["launch"]}, now_ms=3
    )
    (listen,) = frames_of(out)
    assert listen.final is False
    (call,) = [o for o in out if isinstance(o, CallSkill)]
    assert call.kind is SkillKind.CLOUD
    assert to_json(call.request)["type"] == "LISTEN_LAUNCH"
    assert to_json(call.request)["data"]["skill"] == {"id": "skill1"}
    assert to_json(call.request)["data"]["result"]["memo"] == "fixture memo"
    assert to_json(call.request)["data"]["general"]["accountID"] == "acc"
    assert to_json(call.request)["data"]["general"]["remoteAddress"] == "1.2.3.4"
    reply = {"type": "DONE", "data": {"skill": {"id": "skill1", "session": {"id": "s-1"}}}}
    out = t.skill_replied(reply, now_ms=8)
    (fwd,) = frames_of(out)
    assert isinstance(fwd, Forward)
    assert fwd.final is True
    assert fwd.timings == {"total": 8, "skill": 5}
    (launch,) = [o for o in out if isinstance(o, RecordLaunch)]
    assert to_json(launch.record) == {
        "robotID": "bot",
        "sessionID": "s-1",
        "skillID": "skill1",
        "intent": "matchingIntent",
        "personIDs": ["UNKNOWN"],
    }


def test_running_skill_gets_an_update_when_nothing_launches() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR", hotphrase=False)), now_ms=0)
    t.receive(msg(hc.context(skill_id="skill1", session={"id": "s-1", "turn": 1})), now_ms=0)
    t.receive(msg(hc.client_asr("local answer")), now_ms=0)
    out = t.parser_replied({"intent": "decoyIntent", "entities": {}, "rules": ["launch"]}, now_ms=0)
    (call,) = [o for o in out if isinstance(o, CallSkill)]
    assert to_json(call.request)["type"] == "LISTEN_UPDATE"
    request = to_json(call.request)
    assert request["data"]["skill"] == {"id": "skill1", "session": {"id": "s-1", "turn": 1}}
    assert frames_of(out)[0].data.match.launch is False


def test_hotphrase_turn_never_updates_the_running_skill() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR", hotphrase=True)), now_ms=0)
    t.receive(msg(hc.context(skill_id="skill1")), now_ms=0)
    t.receive(msg(hc.client_asr("x")), now_ms=0)
    out = t.parser_replied({"intent": "decoy", "entities": {}, "rules": ["launch"]}, now_ms=0)
    assert frames_of(out)[0].data.match is None


def test_intent_without_launch_rule_does_not_launch() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.receive(msg(hc.client_asr("x")), now_ms=0)
    out = t.parser_replied(
        {"intent": "matchingIntent", "entities": {}, "rules": ["yes_no"]}, now_ms=0
    )
    assert frames_of(out)[0].data.match is None


def _to_skill(t: ListenTransaction) -> None:
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.receive(msg(hc.client_asr("x")), now_ms=0)
    t.parser_replied({"intent": "matchingIntent", "entities": {}, "rules": ["launch"]}, now_ms=0)


def _redirect(skill: str, on_robot: bool) -> dict[str, Any]:
    return {
        "type": "SKILL_REDIRECT",
        "data": {
            "match": {"skillID": skill, "launch": True, "onRobot": on_robot},
            "nlu": {"intent": "second", "entities": {}, "rules": ["launch"]},
            "asr": {"text": "x", "confidence": 1},
            "memo": {"from": "skill1"},
        },
    }


def test_one_redirect_to_a_cloud_skill_is_followed_a_second_is_an_error() -> None:
    t = txn()
    _to_skill(t)
    out = t.skill_replied(_redirect("skill2", False), now_ms=0)
    (fwd,) = frames_of(out)
    assert fwd.final is False
    (call,) = [o for o in out if isinstance(o, CallSkill)]
    assert call.skill_id == "skill2"
    assert to_json(call.request)["data"]["result"]["memo"] == {"from": "skill1"}
    out = t.skill_replied(_redirect("skill1", False), now_ms=0)
    (err,) = frames_of(out)
    assert err.data.message == "Too many redirects"
    assert err.final is True


def test_redirect_to_an_on_robot_skill_is_final() -> None:
    t = txn()
    _to_skill(t)
    out = t.skill_replied(_redirect("@be/clock", False), now_ms=0)
    (fwd,) = frames_of(out)
    assert fwd.final is True
    (launch,) = [o for o in out if isinstance(o, RecordLaunch)]
    assert to_json(launch.record)["skillID"] == "@be/clock"
    assert fwd.reply["data"]["match"]["onRobot"] is True  # the manifest knows better


def test_context_identity_must_match_the_token() -> None:
    t = txn(identity=Identity(account_id="acc"))
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    (err,) = frames_of(t.receive(msg(hc.context(accountID="other")), now_ms=0))
    assert err.data.message == "data.general.accountID is not equal to socket accountID"


def test_second_context_is_ignored() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context(skill_id="first")), now_ms=0)
    assert t.receive(msg(hc.context(skill_id="second")), now_ms=0) == []
    assert t.context is not None
    assert t.context.skill_id == "first"


def test_message_not_in_the_table_is_the_robots_error() -> None:
    t = txn()
    with pytest.raises(RemoteProtocolError, match="can't handle CLIENT_ASR in state WAIT_LISTEN"):
        t.receive(msg(hc.client_asr("early")), now_ms=0)
    assert ClientAsrAllowed()


def ClientAsrAllowed() -> bool:
    return all(state in TRANSITIONS for state in (ListenState.ASR, ListenState.NLU))


def test_after_final_everything_is_dropped_and_counted() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_NLU")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.receive(msg(hc.client_nlu("askForTime", {"skill": "@be/clock"})), now_ms=0)
    assert t.state is ListenState.DONE
    assert t.receive(msg(hc.client_asr("late")), now_ms=0) == []
    assert t.audio(b"late audio") == []
    assert t.dropped_after_final == 2
    assert t.timer_fired("transaction", now_ms=60_000) == []


def test_stop_state_refuses_input() -> None:
    t = txn(state=ListenState.STOP)
    with pytest.raises(LocalProtocolError):
        t.receive(msg(hc.listen()), now_ms=0)


def test_server_asr_starts_the_recogniser_and_its_timers() -> None:
    t = txn()
    out = t.receive(msg(hc.listen("", sos_timeout=6000)), now_ms=0)
    assert any(isinstance(o, StartAsr) for o in out)
    assert StartTimer("sos", 6000) in out
    assert StartTimer("asr", 40_000) in out
    assert frames_of(out) == []  # no SOS until speech starts
    assert t.audio(b"ogg")[0].chunk == b"ogg"
    out = t.timer_fired("asr", now_ms=40_000)
    assert isinstance(out[0], StopAsr)
    assert frames_of(out)[0].data.code == ErrorCode.ASR.value


def test_parser_failure_is_a_parser_error() -> None:
    t = txn()
    t.receive(msg(hc.listen("CLIENT_ASR")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.receive(msg(hc.client_asr("x")), now_ms=0)
    (err,) = frames_of(t.parser_failed("Request failed with status code 503", now_ms=0))
    assert (err.data.code, err.data.message) == ("PARSER", "Request failed with status code 503")


def test_tap_after_speech_ended_wins_over_the_parser() -> None:
    # Real turn turn-0111 used to get "can't handle CLIENT_NLU in state NLU".
    t = txn()
    t.receive(msg(hc.listen("")), now_ms=0)
    t.receive(msg(hc.context()), now_ms=0)
    t.asr_event("speech_start", now_ms=1)
    eos = frames_of(t.asr_event("speech_end", now_ms=2))
    assert [f.type for f in eos] == ["EOS"]
    t.asr_result("what", 0.9, now_ms=3)
    assert t.state is ListenState.NLU
    out = t.receive(msg(hc.client_nlu("askForTime", {"skill": "@be/clock"})), now_ms=4)
    (reply,) = frames_of(out)  # no second EOS
    assert reply.data.match.skill_id == "@be/clock"
    assert t.parser_replied({"intent": "x", "entities": {}, "rules": []}, now_ms=5) == []
