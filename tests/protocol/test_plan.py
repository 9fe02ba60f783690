"""ResponsePlan → SKILL_ACTION mapping and skill request → TurnContext (PROTOCOL.md §5 to §7)."""

from __future__ import annotations

import subprocess
import sys

from protocol.plan import (
    SILENT_ESML,
    Animate,
    FollowUp,
    InputMode,
    InvokeNativeSkill,
    OpenMic,
    ResponsePlan,
    SetContext,
    Speak,
    normalize_transcript,
    plan_to_skill_reply,
    say,
    to_esml,
    turn_from_skill_request,
)

REQUEST = {
    "type": "LISTEN_LAUNCH",
    "msgID": "mid-1",
    "ts": 1_777_294_642_904,
    "data": {
        "general": {"accountID": "acc", "robotID": "robot", "lang": "en-US", "release": "1.9.2"},
        "runtime": {
            "location": {"city": "Boston", "iso": "2026-04-27T08:57:22.855-04:00"},
            "loop": {"users": [{"firstName": "Alex", "id": "u1"}, {"id": "u2"}]},
        },
        "skill": {"id": "cloud-clock", "session": {"id": "s-1", "step": 2}},
        "result": {
            "asr": {"text": "What time is it?", "confidence": 0.9},
            "nlu": {"intent": "askForTime", "entities": {"domain": "clock"}, "rules": ["launch"]},
        },
    },
}


def reply(plan: ResponsePlan) -> dict:
    return plan_to_skill_reply(plan, skill_id="s", msg_id="mid-x", now_ms=42)


def test_one_sentence_becomes_a_slim_with_escaped_esml() -> None:
    out = reply(say("Fish & chips <3", category="happy"))
    assert out["type"] == "SKILL_ACTION"
    assert (out["msgID"], out["ts"]) == ("mid-x", 42)
    data = out["data"]
    assert data["skill"] == {"id": "s"}
    assert data["action"]["type"] == "JCP"
    assert data["action"]["config"]["version"] == "1.0.0"
    jcp = data["action"]["config"]["jcp"]
    assert jcp["type"] == "SLIM"
    assert (
        jcp["config"]["play"]["esml"]
        == "<speak><es cat='happy'>Fish &amp; chips &lt;3</es></speak>"
    )
    assert set(jcp["config"]["play"]["meta"]) == {
        "prompt_id",
        "prompt_sub_category",
        "mim_id",
        "mim_type",
    }
    assert data["final"] is True
    assert data["fireAndForget"] is False
    assert data["analytics"] == {}


def test_empty_plan_is_a_silent_completion() -> None:
    jcp = reply(ResponsePlan())["data"]["action"]["config"]["jcp"]
    assert jcp["config"]["play"]["esml"] == SILENT_ESML
    assert to_esml(Speak(text="   ")) == SILENT_ESML


def test_several_actions_make_a_sequence_in_order() -> None:
    plan = ResponsePlan(actions=(Speak(text="one"), Animate(emotion="HAPPY"), Speak(text="two")))
    jcp = reply(plan)["data"]["action"]["config"]["jcp"]
    assert jcp["type"] == "SEQUENCE"
    kinds = [child["type"] for child in jcp["children"]]
    assert kinds == ["SLIM", "IMPACT_EMOTION", "SLIM"]
    assert jcp["children"][1]["emotion"] == "HAPPY"
    assert "two" in jcp["children"][2]["config"]["play"]["esml"]


def test_follow_up_keeps_the_mic_open_and_is_not_final() -> None:
    plan = ResponsePlan(
        actions=(Speak(text="Want another?", category="question"),),
        follow_up=FollowUp(keep_mic_open=True, rules=("shared/yes_no",), hints=("$YESNO",)),
    )
    data = reply(plan)["data"]
    assert data["final"] is False
    children = data["action"]["config"]["jcp"]["children"]
    assert children[1]["type"] == "LISTEN"
    assert children[1]["config"] == {
        "rules": ["shared/yes_no"],
        "hints": ["$YESNO"],
        "timeout": 6000,
    }
    explicit = reply(ResponsePlan(actions=(OpenMic(rules=("shared/yes_no",)),)))
    assert explicit["data"]["final"] is False


def test_context_updates_go_to_the_skill_session() -> None:
    plan = ResponsePlan(
        session_id="s-1", actions=(SetContext({"step": 3}),), context_updates={"topic": "x"}
    )
    assert reply(plan)["data"]["skill"] == {
        "id": "s",
        "session": {"id": "s-1", "step": 3, "topic": "x"},
    }


def test_invoke_native_skill_becomes_a_redirect_with_the_turn() -> None:
    turn = turn_from_skill_request(REQUEST)
    plan = ResponsePlan(
        actions=(InvokeNativeSkill("@be/clock", "askForTime", {"domain": "clock"}),)
    )
    out = plan_to_skill_reply(plan, skill_id="s", msg_id="m", now_ms=1, turn=turn)
    assert out["type"] == "SKILL_REDIRECT"
    assert out["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert out["data"]["nlu"] == {
        "intent": "askForTime",
        "entities": {"domain": "clock"},
        "rules": ["launch"],
    }
    assert out["data"]["asr"]["text"] == "What time is it?"


def test_skill_request_maps_into_a_turn_context() -> None:
    turn = turn_from_skill_request(REQUEST)
    assert turn.turn_id == "mid-1"
    assert turn.timestamp_ms == 1_777_294_642_904
    assert turn.intent == "askForTime"
    assert turn.entities == {"domain": "clock"}
    assert turn.rules == ("launch",)
    assert turn.raw_transcript == "What time is it?"
    assert turn.normalized_transcript == "what time is it"
    assert turn.time_zone == "-04:00"
    assert turn.user_names == ("Alex",)
    assert turn.session_id == "s-1"
    assert turn.skill_session == {"id": "s-1", "step": 2}
    assert (turn.device_id, turn.account_id, turn.firmware_version) == ("robot", "acc", "1.9.2")
    assert turn.input_mode is InputMode.WAKE_WORD
    assert turn.launch is True


def test_sparse_and_odd_requests_still_map() -> None:
    turn = turn_from_skill_request({"type": "LISTEN_UPDATE", "ts": "soon", "data": ["nope"]})
    assert turn.launch is False
    assert turn.input_mode is InputMode.FOLLOW_UP
    assert turn.timestamp_ms == 0
    assert turn.intent is None
    assert turn.time_zone == ""
    assert turn_from_skill_request({}, default_time_zone="Europe/Paris").time_zone == "Europe/Paris"
    proactive = turn_from_skill_request({"type": "PROACTIVE_LAUNCH", "data": {}})
    assert proactive.input_mode is InputMode.SYSTEM


def test_client_nlu_turns_are_direct_text() -> None:
    request = {"type": "LISTEN_LAUNCH", "data": {"result": {"asr": {"text": "", "confidence": 1}}}}
    assert turn_from_skill_request(request).input_mode is InputMode.DIRECT_TEXT


def test_normalize_transcript() -> None:
    assert normalize_transcript("  Hey, JIBO! What's   up? ") == "hey jibo what's up"


def test_behaviours_parse_back_with_the_codec() -> None:
    from protocol.jcp import Sequence, Slim, behavior_from_json

    plan = ResponsePlan(actions=(Speak(text="a"), Animate(name="dance"), Speak(text="b")))
    parsed = behavior_from_json(reply(plan)["data"]["action"]["config"]["jcp"])
    assert isinstance(parsed, Sequence)
    assert all(isinstance(child, Slim) for child in parsed.children)


def test_plan_module_is_pure() -> None:
    code = (
        "import sys, protocol.plan; bad = [m for m in ('trio', 'httpx', 'quart', 'hypercorn') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
